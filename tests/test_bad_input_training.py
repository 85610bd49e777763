"""Bad input to the training loops, checkpoints, sweeps, benchmark and timings report: every
public entry point, called validly and then with one argument at a time made wrong, refuses
with a TypeError or ValueError that names the argument, before any work starts."""

from __future__ import annotations

import atexit
import dataclasses
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from badinput import Call, cases, check_case, check_valid, id_tensor, ids, public_api, valid_calls
from torch import nn

from lstm_tutorial import bench, store, sweep, timings, train_numpy, training
from lstm_tutorial.charlm import CharLM
from lstm_tutorial.train_numpy import TrainConfig

TEXT = "the cat sat on the mat. the dog sat on the log. " * 40


def _mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def _batches():
    x = torch.linspace(-1, 1, 24).reshape(8, 3)
    return [(x, x.sum(1, keepdim=True))]


def _fit_kwargs():
    return {
        "model": nn.Linear(3, 1),
        "train": _batches(),
        "loss": _mse,
        "epochs": 1,
        "lr": 1e-3,
        "clip_norm": 1.0,
        "seed": 0,
        "diverge_factor": 10.0,
        "log": None,
        "log_every": 1,
        "schedule": lambda epoch: 1.0,
    }


def _config_fields() -> dict[str, str]:
    return {
        "hidden_size": "positive_int",
        "embed_size": "optional_positive_int",
        "num_layers": "positive_int",
        "max_chars": "optional_positive_int",
        "val_fraction": "fraction",
        "val_chars": "optional_positive_int",
        "steps": "positive_int",
        "batch_size": "positive_int",
        "seq_len": "positive_int",
        "lr": "positive",
        "max_grad_norm": "positive",
        "eval_every": "positive_int",
        "sample_every": "count",
        "sample_prompt": "str",
        "sample_length": "positive_int",
        "seed": "seed",
        "dtype": lambda valid: [
            ("numpy dtype", np.float32),
            ("float16", "float16"),
            ("None", None),
        ],
        "divergence_factor": lambda valid: [("one", 1.0), ("nan", float("nan")), ("bool", True)],
    }


def _small_config(tmp: Path) -> TrainConfig:
    text = tmp / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    return TrainConfig(
        hidden_size=8, embed_size=4, text_path=str(text), val_chars=None, steps=2,
        batch_size=2, seq_len=8, eval_every=1, sample_every=0,
    )  # fmt: skip


TMP = Path(tempfile.mkdtemp(prefix="bad-input-training-"))  # the valid calls' files
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
VALID_CONFIG = dataclasses.asdict(_small_config(TMP)) | {
    "max_chars": 1800,
    "val_chars": 300,
    "embed_size": 4,
}


def _lm():
    return CharLM(5, 3, 4, seed=0)


CALLS = [
    Call(TrainConfig, lambda: dict(VALID_CONFIG), _config_fields()),
    Call(
        train_numpy.evaluate,
        lambda: {"model": _lm(), "ids": np.arange(40) % 5, "batch_size": 2, "seq_len": 4},
        {"ids": ids(5), "batch_size": "positive_int", "seq_len": "positive_int"},
        skip=("ids:empty",),  # an empty text is refused as too short, naming ids
    ),
    Call(
        training.fit,
        _fit_kwargs,
        {
            "epochs": "positive_int",
            "lr": "positive",
            "clip_norm": "optional_positive",
            "seed": "seed",
            "log_every": "positive_int",
            "loss": "callable",
            "schedule": "callable",
            "log": lambda valid: [("int", 3), ("str", "print")],
            "diverge_factor": lambda valid: [("one", 1.0), ("bool", True), ("inf", float("inf"))],
            "model": lambda valid: [("function", lambda x: x), ("None", None)],
            "train": lambda valid: [("int", 3), ("None", None)],
        },
        skip=("seed:None",),  # None: leave the random state alone
    ),
    Call(
        training.evaluate_loss,
        lambda: {"model": nn.Linear(3, 1), "batches": _batches(), "loss": _mse},
        {"loss": "callable", "model": lambda valid: [("None", None), ("str", "model")]},
    ),
    Call(
        training.checkpoint_path,
        lambda: {"name": "reg", "config": {"seed": 0}, "directory": str(TMP)},
        {
            "name": lambda valid: [("int", 3), ("empty", ""), ("slash", "a/b"), ("None", None)],
            "config": lambda valid: [("list", [1]), ("None", None)],
            "directory": lambda valid: [("int", 3), ("empty", "")],
        },
    ),
    Call(
        training.load_checkpoint,
        lambda: {"path": _saved_checkpoint(), "model": nn.Linear(3, 1)},
        {
            "path": lambda valid: [("int", 3), ("None", None), ("empty", "")],
            "model": lambda valid: [("str", "model"), ("other model", nn.Linear(2, 1))],
        },
        names={"model": "model"},
    ),
    Call(
        training.save_checkpoint,
        lambda: {"path": TMP / "s.pt", "model": nn.Linear(3, 1), "config": {"a": 1}},
        {
            "path": lambda valid: [("int", 3), ("None", None)],
            "model": lambda valid: [("dict", {}), ("None", None)],
            "config": lambda valid: [("list", [1]), ("not JSON", {"a": object()})],
        },
    ),
    Call(
        training.train_or_load,
        lambda: {
            "name": "reg",
            "config": {"seed": 0},
            "build": lambda: nn.Linear(3, 1),
            "train": lambda model, device: training.fit(
                model, _batches(), loss=_mse, epochs=1, log=None
            ),
            "directory": TMP / "tol",
            "device": "cpu",
            "log": None,
        },
        {
            "build": "callable",
            "train": "callable",
            "device": lambda valid: [("int", 3), ("unknown device", "gpu7")],
            "config": lambda valid: [("seed -1", {"seed": -1}), ("seed float", {"seed": 1.5})],
        },
        names={"config": "seed"},
    ),
    Call(
        train_numpy.train_or_load,
        lambda: {"config": _small_config(TMP), "path": TMP / "np.npz", "log": None},
        {
            "config": lambda valid: [("dict", {}), ("None", None)],
            "path": lambda valid: [("int", 3), ("None", None)],
            "log": lambda valid: [("int", 3)],
        },
    ),
    Call(
        train_numpy.load_checkpoint,
        lambda: {"path": _saved_numpy_checkpoint()},
        {"path": lambda valid: [("int", 3), ("None", None)]},
    ),
    Call(
        sweep.run_config,
        lambda: {
            "task": "adding",
            "model": "lstm",
            "T": 10,
            "seed": 0,
            "lr": 1e-2,
            "hidden_size": 8,
            "batch_size": 4,
            "threshold": 0.9,
            "max_sequences": 64,
            "clip_norm": 1.0,
            "forget_bias": 1.0,
            "n_val": 8,
            "eval_every": 8,
        },
        {
            "task": lambda valid: [("unknown", "sum"), ("None", None)],
            "model": lambda valid: [("unknown", "transformer"), ("None", None)],
            "T": "positive_int",
            "seed": "seed",
            "lr": "positive",
            "hidden_size": "positive_int",
            "batch_size": "positive_int",
            "threshold": "fraction",
            "max_sequences": "positive_int",
            "n_val": "positive_int",
            "eval_every": "positive_int",
            "clip_norm": "optional_positive",
            "forget_bias": "optional_number",
        },
    ),  # fmt: skip
    Call(
        sweep.story_config,
        lambda: {"model": "lstm", "seed": 0, "epochs": 1, "lr": 1e-2, "max_distance": 4},
        {
            "model": lambda valid: [("unknown", "x")],
            "seed": "seed",
            "epochs": "positive_int",
            "lr": "positive",
            "max_distance": "count",
        },
    ),  # fmt: skip
    Call(
        sweep.run_sweep,
        lambda: {
            "configs": [{"task": "adding", "T": 3}],
            "run": lambda config: {"solved": True, "sequences": 1},
            "cache_dir": TMP / "sweep",
            "log": None,
            "skip_harder": False,
        },
        {
            "configs": lambda valid: [("dict", valid[0]), ("empty", []), ("str", "adding")],
            "run": "callable",
            "cache_dir": lambda valid: [("int", 3), ("None", None)],
            "skip_harder": "bool",
        },
    ),
    Call(
        bench.benchmark,
        lambda: {
            "configs": [{"T": 2, "B": 1, "D": 2, "H": 2}],
            "repeats": 1,
            "threads": 1,
            "ablation": False,
            "min_block_s": 0.001,
            "time_budget_s": 0.01,
            "seed": 0,
        },
        {
            "configs": lambda valid: [
                ("T zero", [{**valid[0], "T": 0}]),
                ("no H", [{"T": 2, "B": 1, "D": 2}]),
                ("float B", [{**valid[0], "B": 1.0}]),
                ("typo", [{**valid[0], "h": 3}]),
            ],
            "repeats": "positive_int",
            "threads": "optional_positive_int",
            "ablation": "bool",
            "min_block_s": "positive",
            "time_budget_s": "positive",
            "seed": "seed",
        },
    ),  # fmt: skip
    Call(
        timings.measure,
        lambda: {
            "notebooks": [Path("a.ipynb")],
            "budget": 90.0,
            "run": lambda nb: 1.0,
            "log": None,
        },
        {"budget": "positive", "run": "callable", "notebooks": lambda valid: [("str", "a.ipynb")]},
    ),
]


def _saved_checkpoint() -> Path:
    path = TMP / "model.pt"
    if not path.exists():
        torch.manual_seed(0)
        training.save_checkpoint(path, nn.Linear(3, 1))
    return path


def _saved_numpy_checkpoint() -> Path:
    path = TMP / "lm.npz"
    if not path.exists():
        train_numpy.save_checkpoint(path, train_numpy.train(_small_config(TMP), log=None))
    return path


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)


def test_a_sweep_config_is_checked_whole_before_training(tmp_path):
    config = sweep.run_config("adding", "lstm", 10) | {"lr": float("inf")}
    with pytest.raises(ValueError, match=r"config\['lr'\] must be a finite number > 0"):
        sweep.train_on_task(config)
    with pytest.raises(ValueError, match="applies to model 'lstm' only"):
        sweep.run_config("adding", "gru", 10, forget_bias=1.0)
    with pytest.raises(ValueError, match="unknown keys"):
        sweep.train_on_task(sweep.run_config("adding", "lstm", 10) | {"lr_typo": 1})


def test_a_story_config_is_checked_whole_before_training():
    with pytest.raises(ValueError, match=r"config\['embed_size'\] must be an integer >= 1"):
        sweep.train_on_stories(sweep.story_config("lstm") | {"embed_size": 0})


def test_a_json_config_with_unknown_keys_is_refused():
    text = TrainConfig().to_json().replace('"lr"', '"learning_rate"')
    with pytest.raises(ValueError, match="unknown keys \\['learning_rate'\\]"):
        TrainConfig.from_json(text)


# ----------------------------------------------------------------- helpers around the loops


def _results():
    return [{"task": "adding", "model": "lstm", "T": 10, "solved": True, "sequences": 5,
             "accuracy": 1.0, "error": 0.01, "skipped": False}]  # fmt: skip


def _lstm_numpy():
    from lstm_tutorial.numpy_lstm import LSTM

    return LSTM(2, 3, seed=0)


def _zip_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, a=np.arange(3))
    return buffer.getvalue()


HELPER_CALLS = [
    Call(
        sweep.grid,
        lambda: {"base": {"task": "adding"}, "model": ["lstm"]},
        {
            "base": lambda v: [("list", [1]), ("str", "adding")],
            "model": lambda v: [("str", "lstm"), ("empty", [])],
        },
    ),  # fmt: skip
    Call(
        sweep.task_grid,
        lambda: {
            "task": "adding",
            "T_by_model": {"lstm": [10]},
            "seeds": [0],
            "per_model": {"lstm": {"forget_bias": 1.0}},
        },
        {
            "T_by_model": lambda v: [("int lengths", {"lstm": 10}), ("list", [10])],
            "seeds": lambda v: [("int", 3), ("negative", [-1])],
            "per_model": lambda v: [("absent model", {"gru": {}}), ("list", [1])],
        },
    ),  # fmt: skip
    Call(
        sweep.build_model,
        lambda: {"config": sweep.run_config("adding", "lstm", 10)},
        {"config": lambda v: [("empty", {}), ("bogus task", v | {"task": "bogus"})]},
    ),
    Call(
        sweep.StoryLM,
        lambda: {"vocab_size": 7, "recurrent": nn.LSTM(4, 5, batch_first=True), "embed_size": 4},
        {
            "vocab_size": "positive_int",
            "embed_size": "positive_int",
            "recurrent": lambda v: [
                ("time-major", nn.LSTM(4, 5)),
                ("other input", nn.LSTM(3, 5, batch_first=True)),
                ("str", "lstm"),
            ],
        },
        names={"recurrent": "recurrent"},
    ),  # fmt: skip
    Call(
        sweep.largest_solved,
        lambda: {"results": _results()},
        {"results": lambda v: [("str", "abc"), ("missing keys", [{}]), ("not dicts", [1])]},
    ),
    Call(
        sweep.summarise,
        lambda: {"results": _results(), "task": "adding"},
        {
            "results": lambda v: [("missing keys", [{"task": "adding"}]), ("dict", v[0])],
            "task": "str",
        },
    ),  # fmt: skip
    Call(
        sweep.describe_run,
        lambda: {"config": {"task": "adding"}},
        {"config": lambda v: [("str", "abc"), ("None", None)]},
    ),
    Call(
        training.to_device,
        lambda: {"batch": torch.ones(2), "device": "cpu"},
        {"device": lambda v: [("int", 3), ("nonsense", "nonsense"), ("None", None)]},
    ),
    Call(
        training.model_device,
        lambda: {"model": nn.Linear(2, 1)},
        {"model": lambda v: [("str", "x"), ("None", None)]},
    ),
    Call(
        training.History.from_dict,
        lambda: {"data": training.History([1.0], [], {}, [0.1]).to_dict()},
        {
            "data": lambda v: [
                ("empty", {}),
                ("list", []),
                ("str numbers", v | {"train_loss": ["1.5"]}),
            ]
        },
    ),
    Call(
        training.evaluate_loss,
        lambda: {"model": nn.Linear(3, 1), "batches": _batches(), "loss": _mse},
        {"batches": lambda v: [("int", 5)]},
        label="evaluate_loss-batches",
    ),
    Call(
        store.digest,
        lambda: {"value": {"a": np.arange(2)}},
        {"value": lambda v: [("object", object()), ("set", {1})]},
    ),
    Call(
        store.atomic_write,
        lambda: {"path": TMP / "w.bin", "write": lambda h: h.write(b"x")},
        {"path": lambda v: [("int", 3), ("empty", ""), ("None", None)], "write": "callable"},
    ),
    Call(
        store.write_json,
        lambda: {"path": TMP / "w.json", "data": {"a": 1}},
        {"data": lambda v: [("object", {"a": object()})], "path": lambda v: [("int", 3)]},
    ),
    Call(
        store.seal,
        lambda: {"data": _zip_bytes()},
        {"data": lambda v: [("str", "PK"), ("not a zip", b"hello world, not a zip file")]},
    ),
    Call(
        store.read_bytes,
        lambda: {"path": _saved_checkpoint()},
        {"path": lambda v: [("int", 5), ("None", None), ("folder", TMP)]},
        skip=("path:folder",),  # named by its own path (tested in test_store)
    ),
    Call(
        store.sealed_writer,
        lambda: {"serialise": lambda b: np.savez(b, a=np.arange(2))},
        {"serialise": "callable"},
    ),
    Call(
        store.cache_problem,
        lambda: {"path": "p", "err": ValueError("x"), "log": lambda line: None},
        {"err": lambda v: [("str", "x")], "log": lambda v: [("int", 3)]},
    ),
    Call(
        store.remove_stale_temporaries,
        lambda: {"folder": TMP},
        {"folder": lambda v: [("int", 5), ("None", None)]},
    ),
    Call(
        train_numpy.training_text,
        lambda: {"config": _small_config(TMP)},
        {"config": lambda v: [("None", None), ("dict", {})]},
    ),
    Call(
        train_numpy.text_fingerprint,
        lambda: {"config": _small_config(TMP)},
        {"config": lambda v: [("str", "x")]},
    ),
    Call(
        train_numpy.progress_line,
        lambda: {
            "step": 1,
            "steps": 2,
            "chars": 10,
            "train_bpc": 2.0,
            "val_bpc": 2.1,
            "speed": 5.0,
        },
        {
            "step": "count",
            "steps": "count",
            "chars": "count",
            "val_bpc": lambda v: [("str", "a"), ("nan", float("nan"))],
            "speed": lambda v: [("negative", -1.0), ("str", "fast")],
        },
    ),  # fmt: skip
    Call(
        bench.naive_forward,
        lambda: {"model": _lstm_numpy(), "x": np.zeros((4, 1, 2), np.float32)},
        {
            "model": lambda v: [("torch LSTM", nn.LSTM(2, 3)), ("None", None)],
            "x": lambda v: [
                ("float64", v.astype(np.float64)),
                ("2-D", v[:, 0]),
                ("list", v.tolist()),
                ("wrong D", np.zeros((4, 1, 3), np.float32)),
            ],
        },
    ),  # fmt: skip
    Call(bench.onednn, lambda: {"enabled": True}, {"enabled": "bool"}),
    Call(
        bench.coretype_hint,
        lambda: {"core": "Haswell", "cpu_flags": {"avx512f"}, "coretype_env": None},
        {
            "core": lambda v: [("int", 5)],
            "cpu_flags": lambda v: [("str", "avx512f"), ("None", None)],
        },
    ),
    Call(
        bench.format_table,
        lambda: {"results": []},
        {"results": lambda v: [("str", "abc"), ("None", None), ("not dicts", [1])]},
        skip=(),
    ),
    Call(
        timings.run_cold,
        lambda: {"notebook": Path("missing.ipynb"), "timeout": 10.0},
        {
            "notebook": lambda v: [("int", 3), ("not a notebook", Path(__file__))],
            "timeout": "positive",
        },
        skip=(),
    ),
    Call(
        timings.format_report,
        lambda: {"timings": [timings.Timing("a", 1.0, "ok")], "budget": 90.0},
        {"timings": lambda v: [("empty", []), ("str", "a")], "budget": "positive"},
    ),
]


@pytest.mark.parametrize(
    "call", valid_calls([c for c in HELPER_CALLS if c.fn is not timings.run_cold])
)
def test_valid_helper_calls_work(call):
    if call.fn is bench.onednn:
        with call.fn(**call.make()):
            return
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(HELPER_CALLS))
def test_bad_input_to_helpers_is_refused_naming_the_argument(call, arg, label):
    if call.fn is bench.onednn:  # a context manager: the check runs on entry
        kwargs = call.make()
        kwargs[arg] = dict(
            (
                call.kinds[arg]
                if callable(call.kinds[arg])
                else __import__("badinput").MUTATIONS[call.kinds[arg]]
            )(kwargs[arg])
        )[label]
        with pytest.raises((TypeError, ValueError), match=arg):
            with call.fn(**kwargs):
                pass
        return
    check_case(call, arg, label)


# ------------------------------------------------------ the rest of the public names


def _tiny_task_config():
    return sweep.run_config(
        "adding", "lstm", 4, hidden_size=4, batch_size=8, eval_every=16, max_sequences=16,
        n_val=8,
    )  # fmt: skip


def _story_model():
    return sweep.StoryLM(7, nn.LSTM(4, 5, batch_first=True), 4)


MORE_CALLS = [
    Call(
        training.config_key,
        lambda: {"config": {"seed": 0}},
        {"config": lambda v: [("list", [1]), ("int key", {1: "a"}), ("nan", {"a": math.nan})]},
    ),
    Call(
        TrainConfig.from_json,
        lambda: {"text": TrainConfig().to_json()},
        {
            "text": lambda v: [
                ("not JSON", "{"),
                ("list", "[1]"),
                ("int", 3),
                ("typo", v.replace('"lr"', '"rate"')),
            ]
        },
        label="TrainConfig.from_json",
    ),
    Call(
        train_numpy.prepare_data,
        lambda: {"config": _small_config(TMP)},
        {"config": lambda v: [("dict", {}), ("None", None)]},
    ),
    Call(
        train_numpy.train,
        lambda: {"config": _small_config(TMP), "log": None},
        {"config": lambda v: [("None", None)], "log": lambda v: [("int", 3)]},
    ),
    Call(
        train_numpy.generate_sample,
        lambda: {
            "model": train_numpy.train(_small_config(TMP), log=None).model,
            "vocab": train_numpy.prepare_data(_small_config(TMP))[0],
            "config": dataclasses.replace(_small_config(TMP), sample_prompt="the "),
            "rng": np.random.default_rng(0),
        },
        {"config": lambda v: [("dict", {})], "rng": "rng"},
    ),
    Call(
        sweep.check_run_config,
        lambda: {"config": sweep.run_config("adding", "lstm", 10)},
        {
            "config": lambda v: [
                ("lr bool", v | {"lr": True}),
                ("missing", {"task": "adding"}),
                ("list", [1]),
            ]
        },
    ),
    Call(
        sweep.check_story_config,
        lambda: {"config": sweep.story_config("lstm")},
        {"config": lambda v: [("epochs 0", v | {"epochs": 0}), ("task", v | {"task": "adding"})]},
    ),
    Call(
        sweep.train_on_task,
        lambda: {"config": _tiny_task_config(), "log": None},
        {
            "config": lambda v: [("T float", v | {"T": 4.0}), ("None", None)],
            "log": lambda v: [("int", 3)],
        },
    ),
    Call(
        sweep.train_on_stories,
        lambda: {"config": sweep.story_config("lstm")},
        {"config": lambda v: [("lr inf", v | {"lr": math.inf}), ("None", None)]},
    ),
    Call(
        lambda model, ids: model(ids),
        lambda: {"model": _story_model(), "ids": torch.zeros(2, 3, dtype=torch.int64)},
        {"ids": id_tensor(7)},
        label="StoryLM.forward",
    ),
    Call(
        sweep.plot_against_T,
        lambda: {"results": _results(), "task": "adding"},
        {"results": lambda v: [("missing keys", [{"task": "adding"}]), ("str", "abc")]},
    ),
    Call(
        sweep.plot_curves,
        lambda: {"results": [{"model": "lstm", "curve": [[1, 0.5]]}], "threshold": 0.9},
        {
            "results": lambda v: [("missing keys", [{"model": "lstm"}])],
            "threshold": lambda v: [("bool", True), ("above 1", 1.5), ("str", "0.9")],
        },
    ),
    Call(
        store.write_cache,
        lambda: {"path": TMP / "c.bin", "write": lambda h: h.write(b"x")},
        {"path": lambda v: [("int", 3)], "write": "callable"},
    ),
    Call(
        store.unseal,
        lambda: {"path": _saved_checkpoint()},
        {"path": lambda v: [("int", 3), ("None", None)]},
    ),
    Call(
        store.check_digest,
        lambda: {"path": "p", "stored": store.digest({"a": 1}), "content": {"a": 1}},
        {"stored": lambda v: [("other", store.digest({"a": 2})), ("None", None)]},
        names={"stored": "digest"},
    ),
    Call(
        timings.find_notebooks,
        lambda: {"paths": [Path(__file__).parents[1] / "book"]},
        {"paths": lambda v: [("str", "book"), ("empty", []), ("missing", [TMP / "none.ipynb"])]},
    ),
]

NO_VALID_CALL = {sweep.train_on_stories}  # its valid call trains a real model: tests elsewhere


@pytest.mark.parametrize("call", valid_calls([c for c in MORE_CALLS if c.fn not in NO_VALID_CALL]))
def test_more_valid_calls_work(call):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(MORE_CALLS))
def test_bad_input_to_the_rest_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)


def test_the_benchmark_command_refuses_bad_arguments_before_timing(capsys):
    for argv in (["--repeats", "0"], ["--threads", "0"], ["--threads", str(10**12)]):
        with pytest.raises(SystemExit) as info:
            bench.main(argv)
        assert info.value.code == 2
    assert "--threads in 1..1024" in capsys.readouterr().err


#: Public names with no Call of that exact name, and why.
UNCHECKED = {
    **dict.fromkeys(
        [
            "training.TrainingDiverged",
            "train_numpy.TrainingDiverged",
            "store.CorruptFile",
            "store.CacheWarning",
        ],
        "an exception",
    ),
    **dict.fromkeys(
        ["training.History", "train_numpy.History", "train_numpy.TrainResult", "timings.Timing"],
        "a result container (History.from_dict, the door for outside data, is checked)",
    ),
    **dict.fromkeys(
        [
            "training.History.to_dict",
            "training.default_device",
            "training.default_checkpoint_dir",
            "train_numpy.TrainConfig.to_json",
            "sweep.one_thread",
            "bench.blas_threads",
            "bench.openblas_core",
            "bench.environment",
        ],
        "takes no arguments",
    ),
    **dict.fromkeys(
        ["train_numpy.check_divergence", "train_numpy.train_step"],
        "a teaching step shown by the book; train checks the config and data first",
    ),
    **dict.fromkeys(
        ["train_numpy.Monitor", "train_numpy.Monitor.record", "train_numpy.Monitor.report"],
        "train's progress reporter, built by train from a checked config",
    ),
    **dict.fromkeys(
        ["bench.main", "timings.main"],
        "a command: its arguments are tested above and in test_timings",
    ),
    "sweep.StoryLM.forward": "called as StoryLM.forward above",
}

ALL_CALLS = CALLS + HELPER_CALLS + MORE_CALLS


@pytest.mark.parametrize(
    "module", [training, train_numpy, sweep, store, bench, timings], ids=lambda m: m.__name__
)
def test_every_public_function_class_and_method_has_a_call(module):
    ids_ = {call.id for call in ALL_CALLS}
    short = module.__name__.rsplit(".", 1)[-1]
    missing = {n for n in public_api(module) if n not in ids_ and f"{short}.{n}" not in UNCHECKED}
    assert not missing, f"no Call (and no stated exemption) for {sorted(missing)}"
