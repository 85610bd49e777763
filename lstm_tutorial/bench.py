"""How fast is the tuned NumPy LSTM? Time its forward pass against ``torch.nn.LSTM``.

Run ``python -m lstm_tutorial.bench`` (options: ``--repeats N``, ``--threads N``,
``--no-ablation``), or call ``benchmark()`` from a notebook, for example
``benchmark(repeats=1)`` for a quick look.

What is compared, for each configuration (T steps, batch B, input size D, hidden size H):

- ``numpy``: ``FastLSTM.forward`` from ``lstm_tutorial.numpy_lstm_fast`` (the tuned layer,
  tested equal to the plain ``numpy_lstm.LSTM``), float32;
- ``torch``: ``torch.nn.LSTM`` with the same weights and input, float32, under
  ``torch.no_grad()``, with as many threads as NumPy's BLAS uses. On a CPU, PyTorch hands
  the whole layer to oneDNN (Intel's deep-learning library, inside the PyTorch wheels)
  when it can: one fused kernel for all T steps, with code generated for the CPU's vector
  instructions;
- ``no oneDNN``: the same, with oneDNN switched off (``torch.backends.mkldnn.enabled``), so
  that PyTorch runs its own C++ loop: per step a BLAS product and elementwise operations,
  the same work as the NumPy layer but without Python;
- ``naive``: the baseline, ``naive_forward`` below: the equations written as a plain loop,
  one time step after the other, sigmoids with np.exp, new arrays at every step;
- an ablation that adds the three tricks of ``numpy_lstm_fast`` to the baseline, one per
  column, in the order of that module's docstring: ``+hoist`` (trick 1: the input
  projection of all steps in one product before the loop), ``+one tanh`` (trick 2: packed
  weights, one np.tanh per step for all gates) and ``+in place`` (trick 3: no new arrays in
  the loop; this column is ``FastLSTM`` itself, the ``numpy`` column).

Timing: each function is called once to warm up, then timed; the time reported is the
median over all timed calls. Other programs may share the CPU, so the functions take turns
(round 1: numpy, torch, naive, ...; round 2: the same again, and so on) and medians ignore
the odd slow call. They take turns in short blocks rather than call by call, and each block
starts with an untimed call: after a call, NumPy's BLAS threads and PyTorch's OpenMP threads
keep spinning for a while, waiting for more work, and on a small machine the first call of
the other library right after it can be many times slower while they hold the cores.

On a busy machine even medians mislead: a multi-threaded matrix product waits for all its
threads, so while another program holds a core each such call can take a few milliseconds
more. The table therefore also shows the ratio of the fastest calls ("best ratio"), which
is close to what an idle machine gives.

Threads: PyTorch is set to the number of threads that NumPy's BLAS uses (``--threads``
changes both if ``threadpoolctl`` is installed; otherwise set ``OPENBLAS_NUM_THREADS`` or
``OMP_NUM_THREADS`` before starting Python).

Kernels: the results are printed with the CPU, the kernels NumPy's OpenBLAS chose for it
and the vector instructions PyTorch uses, because these set most of the large-batch
timings. OpenBLAS picks its kernels when NumPy is imported; on a CPU it does not know it
may fall back to older ones (for example its AVX2 "Haswell" kernels on a CPU with
AVX-512), which ``OPENBLAS_CORETYPE`` overrides, set before Python starts. The benchmark
says so when it sees that case (``coretype_hint``).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import glob
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence, Set
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.numpy_lstm import LSTM, Array
from lstm_tutorial.numpy_lstm_fast import FastLSTM, pack_weights

#: The three sizes of the chapter, with the target ratio NumPy time / torch time for each.
DEFAULT_CONFIGS: tuple[dict[str, Any], ...] = (
    dict(T=100, B=1, D=64, H=128, target=2.0),
    dict(T=100, B=32, D=128, H=256, target=2.0),
    dict(T=100, B=128, D=256, H=512, target=1.3),
)


# ---------------------------------------------------------------------------------------------
# The baseline and the ablation steps; each is one layer, x: (T, B, D) -> h: (T, B, H)
# ---------------------------------------------------------------------------------------------


def _naive_layer(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    """Baseline: the equations as written, one step at a time."""
    H = weight_hh.shape[1]
    b = 0.0 if bias_ih is None else bias_ih + bias_hh
    outputs = []
    for x_t in x:
        z = (
            x_t @ weight_ih.T + h @ weight_hh.T + b
        )  # (B, 4H), both products in the loop
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        f = 1.0 / (1.0 + np.exp(-z[:, H : 2 * H]))
        g = np.tanh(z[:, 2 * H : 3 * H])
        o = 1.0 / (1.0 + np.exp(-z[:, 3 * H :]))
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs)


def _hoisted_layer(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    """Baseline + the input projection of all steps in one product before the loop."""
    T, B, D = x.shape
    H = weight_hh.shape[1]
    b = 0.0 if bias_ih is None else bias_ih + bias_hh
    x_proj = (x.reshape(T * B, D) @ weight_ih.T + b).reshape(T, B, 4 * H)
    outputs = []
    for x_proj_t in x_proj:
        z = x_proj_t + h @ weight_hh.T
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        f = 1.0 / (1.0 + np.exp(-z[:, H : 2 * H]))
        g = np.tanh(z[:, 2 * H : 3 * H])
        o = 1.0 / (1.0 + np.exp(-z[:, 3 * H :]))
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs)


def _one_tanh_layer(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    """Hoisted + packed weights, so that one np.tanh per step computes all four gates."""
    T, B, D = x.shape
    H = weight_hh.shape[1]
    W_ih_T, W_hh_T, b = pack_weights(
        weight_ih, weight_hh, bias_ih, bias_hh, side_by_side=True
    )
    b = 0.0 if b is None else b  # (4H,)
    x_proj = (x.reshape(T * B, D) @ W_ih_T + b).reshape(T, B, 4 * H)
    outputs = []
    for x_proj_t in x_proj:
        a = np.tanh(x_proj_t + h @ W_hh_T)  # (B, 4H), packed order i, f, o, g
        s = 0.5 * a[:, : 3 * H] + 0.5
        i, f, o, g = s[:, :H], s[:, H : 2 * H], s[:, 2 * H :], a[:, 3 * H :]
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs)


def _stack_layers(model: LSTM, x: Array, layer: Callable[..., Array]) -> Array:
    """Run ``layer`` for each layer of ``model`` on time-major x (T, B, D), zero initial state."""
    B, H = x.shape[1], model.hidden_size
    for k in range(model.num_layers):
        zeros = np.zeros((B, H), dtype=x.dtype)
        x = layer(x, zeros, zeros, *model.layer_parameters(k))
    return x


def naive_forward(model: LSTM, x: Array) -> Array:
    """The baseline: what ``model(x)[0]`` computes, written as a plain per-step loop.

    x: (T, B, D), time-major, batched; zero initial state. Returns the output (T, B, H).
    No hoisting, sigmoids as 1 / (1 + np.exp(-z)), new arrays at every step. It is here to be
    timed against; the models in ``numpy_lstm`` and ``numpy_lstm_fast`` are the ones to
    use.
    """
    checks.instance("model", model, LSTM, "a numpy_lstm.LSTM")
    checks.array("x", x, dtype=model.dtype, ndim=3)
    if model.batch_first or x.shape[-1] != model.input_size:
        raise ValueError(
            f"x must be (T, B, input_size={model.input_size}) for a time-major model, "
            f"got {x.shape}{' and a batch_first model' if model.batch_first else ''}"
        )
    return _stack_layers(model, x, _naive_layer)


#: The ablation column that is the tuned model itself (``FastLSTM``, all three tricks).
TUNED = "+in place"

#: Ablation steps: name -> function(model, x) -> output. After the baseline, each adds one
#: trick of ``numpy_lstm_fast`` to the one before: 1 hoisting, 2 one tanh, 3 in place.
ABLATION: dict[str, Callable[[LSTM, Array], Array]] = {
    "naive": naive_forward,
    "+hoist": lambda model, x: _stack_layers(model, x, _hoisted_layer),
    "+one tanh": lambda model, x: _stack_layers(model, x, _one_tanh_layer),
    TUNED: lambda model, x: model(x)[0],
}


# ---------------------------------------------------------------------------------------------
# Threads and environment
# ---------------------------------------------------------------------------------------------


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (threadpoolctl if installed, else its defaults:
    ``OPENBLAS_NUM_THREADS``, then ``OMP_NUM_THREADS``, then the number of usable cores)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        counts = [
            pool["num_threads"]
            for pool in threadpool_info()
            if pool["user_api"] == "blas"
        ]
        if counts:
            return max(counts)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _usable_cores()


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    """Use n threads in torch and, if threadpoolctl is installed, in NumPy's BLAS."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
        else:
            with threadpool_limits(limits=n, user_api="blas"):
                yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def onednn(enabled: bool) -> Iterator[None]:
    """Switch PyTorch's use of oneDNN (``torch.backends.mkldnn.enabled``) on or off for a
    while. With it off, ``torch.nn.LSTM`` on a CPU runs PyTorch's own loop over the steps.

    (``torch.backends.mkldnn.flags`` does the same but also sets oneDNN's TF32 switch, which
    warns on every CPU-only build; the warning would land in the chapter's output.)"""
    checks.boolean("enabled", enabled)
    import torch

    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


@functools.cache
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """The CPU's model name and instruction-set flags, from /proc/cpuinfo (Linux only)."""
    name, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and name == "unknown":
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return name, frozenset(flags)


def openblas_core() -> str:
    """The kernel set OpenBLAS chose for this CPU (such as "Haswell" or "SkylakeX"), asked
    of the OpenBLAS library that ships with NumPy; "unknown" where it cannot be asked."""
    folder = (
        os.path.dirname(np.__file__) + ".libs"
    )  # where NumPy's wheels keep it
    for path in sorted(glob.glob(os.path.join(folder, "*openblas*"))):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in (
            "scipy_openblas_get_corename64_",
            "scipy_openblas_get_corename",
            "openblas_get_corename",
        ):
            function = getattr(library, symbol, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return "unknown"


def coretype_hint(
    core: str, cpu_flags: Set[str], coretype_env: str | None = None
) -> str | None:
    """A hint when OpenBLAS runs its AVX2 kernels on a CPU that has AVX-512, else None.

    core: ``openblas_core()``; cpu_flags: the CPU's instruction sets (/proc/cpuinfo);
    coretype_env: the value of ``OPENBLAS_CORETYPE``, if set, which forces OpenBLAS's choice.
    """
    checks.string("core", core, empty=True)
    if isinstance(cpu_flags, str) or not isinstance(cpu_flags, Set):
        raise checks.ArgumentTypeError(
            f"cpu_flags must be a set of flag names, got {checks.describe(cpu_flags)}"
        )
    checks.optional(checks.string, "coretype_env", coretype_env, empty=True)
    if core not in ("Haswell", "Zen") or "avx512f" not in cpu_flags:
        return None
    if coretype_env:
        cause = f"OPENBLAS_CORETYPE={coretype_env} in the environment makes OpenBLAS use"
        fix = "unset it, or set OPENBLAS_CORETYPE=SkylakeX,"
    else:
        cause = "OpenBLAS chose"
        fix = "set OPENBLAS_CORETYPE=SkylakeX"
    return (
        f"note: this CPU has AVX-512, but {cause} its {core} (AVX2) kernels; NumPy's large "
        f"products may be faster if you {fix} before Python starts"
    )


def environment() -> dict[str, str]:
    """Versions, kernels and settings that change the timings."""
    import torch

    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        blas_name = f"{blas['name']} {blas['version']}"
    except (AttributeError, KeyError, TypeError):
        blas_name = "unknown"
    onednn_on = (
        torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled
    )
    return {
        "numpy": np.__version__,
        "torch": torch.__version__,
        "CPU": _cpuinfo()[0],
        "cores": str(_usable_cores()),
        "numpy BLAS": blas_name,
        "OpenBLAS kernels": openblas_core(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "torch CPU kernels": torch.backends.cpu.get_cpu_capability(),
        "torch LSTM": "oneDNN fused kernel"
        if onednn_on
        else "PyTorch's own loop",
    }


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def _time_in_turns(
    functions: dict[str, Callable[[], Any]],
    repeats: int,
    min_block_s: float,
    time_budget_s: float = float("inf"),
) -> dict[str, list[float]]:
    """Seconds per call of each function, timed in turns (see the module docstring).

    Each of the ``repeats`` rounds gives every function one block: an untimed warm-up call,
    then timed calls until ``min_block_s`` has passed (at least one). The order of the
    functions rotates from round to round. No new round starts once ``time_budget_s`` has
    passed (on a busy machine). Returns every timed call's duration.
    """
    times: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    deadline = time.perf_counter() + time_budget_s
    for r in range(repeats):
        if r > 0 and time.perf_counter() > deadline:
            break
        for name in names[r % len(names) :] + names[: r % len(names)]:
            function = functions[name]
            function()  # warm-up: caches, and the other library's threads going quiet
            block_start = time.perf_counter()
            while True:
                start = time.perf_counter()
                function()
                end = time.perf_counter()
                times[name].append(end - start)
                if end - block_start >= min_block_s:
                    break
    return times


def benchmark(
    configs: Sequence[dict[str, Any]] = DEFAULT_CONFIGS,
    repeats: int = 5,
    threads: int | None = None,
    ablation: bool = True,
    min_block_s: float = 0.05,
    time_budget_s: float = 30.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Time the tuned NumPy LSTM, torch.nn.LSTM and the baseline on each configuration.

    configs: dicts with keys T, B, D, H (and optionally target, num_layers).
    repeats: rounds of turns (see ``_time_in_turns``); 1 is enough for a quick look.
    threads: threads for torch (and NumPy's BLAS when threadpoolctl is installed); default:
    as many as NumPy's BLAS uses.
    ablation: also time the ``+hoist`` and ``+one tanh`` steps (``ABLATION``); the
    baseline and the tuned model (``TUNED``) are always timed.
    min_block_s, time_budget_s: see ``_time_in_turns``; the budget is per configuration.

    Returns one dict per configuration: the configuration, ``numpy_s``, ``torch_s``,
    ``torch_aten_s`` (oneDNN off) and ``naive_s`` (median seconds per forward pass),
    ``ratio`` (numpy / torch, medians), ``aten_ratio`` (numpy / torch with oneDNN off),
    ``best_ratio`` (the same for the fastest call of each: less sensitive to other programs
    on the machine), ``naive_ratio`` (naive / torch), ``meets_target`` (``ratio`` against
    ``target``), ``ablation`` (name -> median seconds), ``max_abs_diff`` (NumPy output
    against torch's) and the thread counts.
    """
    import torch

    _check_benchmark(
        configs, repeats, threads, ablation, min_block_s, time_budget_s, seed
    )
    numpy_threads = blas_threads()
    threads = numpy_threads if threads is None else threads
    results = []
    with _threads(threads):
        numpy_threads = blas_threads()
        for config in configs:
            T, B, D, H = (int(config[key]) for key in ("T", "B", "D", "H"))
            num_layers = int(config.get("num_layers", 1))
            torch.manual_seed(seed)
            reference = torch.nn.LSTM(D, H, num_layers=num_layers).eval()
            model = FastLSTM(D, H, num_layers=num_layers, seed=seed)
            model.load_state_dict(reference.state_dict())
            x = np.random.default_rng(seed).standard_normal(
                (T, B, D), dtype=np.float32
            )
            x_torch = torch.from_numpy(x)

            def run_torch(reference=reference, x_torch=x_torch):
                with torch.no_grad():
                    return reference(x_torch)

            def run_torch_aten(reference=reference, x_torch=x_torch):
                with torch.no_grad(), onednn(False):
                    return reference(x_torch)

            steps = (
                ABLATION
                if ablation
                else {k: ABLATION[k] for k in ("naive", TUNED)}
            )
            functions = {"torch": run_torch, "torch_aten": run_torch_aten}
            functions |= {
                name: (lambda f=f, model=model, x=x: f(model, x))
                for name, f in steps.items()
            }
            times = _time_in_turns(
                functions, repeats, min_block_s, time_budget_s
            )
            seconds = {
                name: statistics.median(values)
                for name, values in times.items()
            }

            expected = run_torch()[0].numpy()
            target = config.get("target")
            ratio = seconds[TUNED] / seconds["torch"]
            results.append(
                {
                    **config,
                    "numpy_s": seconds[TUNED],
                    "torch_s": seconds["torch"],
                    "torch_aten_s": seconds["torch_aten"],
                    "naive_s": seconds["naive"],
                    "ratio": ratio,
                    "aten_ratio": seconds[TUNED] / seconds["torch_aten"],
                    "best_ratio": min(times[TUNED]) / min(times["torch"]),
                    "naive_ratio": seconds["naive"] / seconds["torch"],
                    "meets_target": None if target is None else ratio <= target,
                    "ablation": {name: seconds[name] for name in steps},
                    "max_abs_diff": float(
                        np.max(np.abs(model(x)[0] - expected))
                    ),
                    "torch_threads": threads,
                    "numpy_threads": numpy_threads,
                }
            )
    return results


#: More threads than any machine this runs on has; torch refuses numbers beyond 32 bits.
MAX_THREADS = 1024


def _check_benchmark(
    configs, repeats, threads, ablation, min_block_s, time_budget_s, seed
):
    """Every argument of :func:`benchmark`, before anything is timed."""
    checks.sequence("configs", configs)
    for k, config in enumerate(configs):
        checks.mapping(f"configs[{k}]", config)
        checks.no_unknown_keys(
            f"configs[{k}]",
            config,
            ("T", "B", "D", "H", "num_layers", "target"),
        )
        for key in ("T", "B", "D", "H"):
            if key not in config:
                raise ValueError(
                    f"configs[{k}] lacks {key!r}: give T, B, D and H"
                )
            checks.positive_int(f"configs[{k}][{key!r}]", config[key])
        checks.positive_int(
            f"configs[{k}]['num_layers']", config.get("num_layers", 1)
        )
        checks.optional(
            checks.positive_number,
            f"configs[{k}]['target']",
            config.get("target"),
        )
    checks.positive_int("repeats", repeats)
    checks.optional(
        checks.integer, "threads", threads, minimum=1, maximum=MAX_THREADS
    )
    checks.boolean("ablation", ablation)
    checks.positive_number("min_block_s", min_block_s)
    checks.positive_number("time_budget_s", time_budget_s)
    checks.seed("seed", seed)


def _label(row: dict[str, Any]) -> str:
    return f"T={row['T']} B={row['B']} D={row['D']} H={row['H']}"


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """The results as a plain-text table (times in milliseconds, ratios against torch)."""
    checks.sequence("results (what benchmark returns)", results, empty=True)
    for k, row in enumerate(results):
        checks.mapping(f"results[{k}]", row)
    names = list(results[0]["ablation"]) if results else []
    header = (
        f"{'config':<24} {'numpy ms':>9} {'torch ms':>9} {'ratio':>7} {'target':>7}  "
        f"{'':4} {'best ratio':>10} {'naive ms':>9} {'naive ratio':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in results:
        config = _label(row)
        target = "" if row.get("target") is None else f"<={row['target']:.1f}x"
        verdict = {True: "ok", False: "MISS", None: ""}[row["meets_target"]]
        lines.append(
            f"{config:<24} {row['numpy_s'] * 1e3:>9.3f} {row['torch_s'] * 1e3:>9.3f} "
            f"{row['ratio']:>6.2f}x {target:>7}  {verdict:<4} {row['best_ratio']:>9.2f}x "
            f"{row['naive_s'] * 1e3:>9.3f} {row['naive_ratio']:>10.2f}x"
        )
    lines += ["", "Against PyTorch's own loop (oneDNN switched off):"]
    header = f"{'config':<24} {'numpy ms':>9} {'no oneDNN ms':>13} {'ratio':>7}"
    lines += [header, "-" * len(header)]
    for row in results:
        config = _label(row)
        lines.append(
            f"{config:<24} {row['numpy_s'] * 1e3:>9.3f} {row['torch_aten_s'] * 1e3:>13.3f} "
            f"{row['aten_ratio']:>6.2f}x"
        )
    if len(names) > 2:
        lines += [
            "",
            "Ablation, time / torch time (each step adds one trick to the one before):",
        ]
        header = f"{'config':<24} " + " ".join(f"{name:>10}" for name in names)
        lines += [header, "-" * len(header)]
        for row in results:
            config = _label(row)
            ratios = (row["ablation"][name] / row["torch_s"] for name in names)
            lines.append(
                f"{config:<24} " + " ".join(f"{r:>9.2f}x" for r in ratios)
            )
    lines.append("ratio: medians; best ratio: fastest call of each")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=5, help="rounds of turns (default 5)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="default: NumPy's BLAS threads",
    )
    parser.add_argument(
        "--no-ablation", action="store_true", help="skip +hoist and +one tanh"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or (
        args.threads is not None and not 1 <= args.threads <= MAX_THREADS
    ):
        parser.error(
            f"--repeats must be positive and --threads in 1..{MAX_THREADS}"
        )

    info = environment()
    for key, value in info.items():
        print(f"{key + ':':<19} {value}")
    hint = coretype_hint(
        info["OpenBLAS kernels"],
        _cpuinfo()[1],
        os.environ.get("OPENBLAS_CORETYPE"),
    )
    if hint:
        print(hint)
    start = time.perf_counter()
    results = benchmark(
        repeats=args.repeats,
        threads=args.threads,
        ablation=not args.no_ablation,
    )
    row = results[0]
    print(
        f"{'threads:':<19} torch {row['torch_threads']}, NumPy BLAS {row['numpy_threads']}"
    )
    if row["torch_threads"] != row["numpy_threads"]:
        print(
            "warning: NumPy's BLAS uses a different number of threads than torch; install "
            "threadpoolctl or set OPENBLAS_NUM_THREADS to match"
        )
    print()
    print(format_table(results))
    worst = max(row["max_abs_diff"] for row in results)
    print(f"\nlargest |numpy - torch| in the outputs: {worst:.1e}")
    print(f"total benchmark time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
