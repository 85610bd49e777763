"""Tables and verdicts of Part V's records (groups ``textlm_cells``, ``textlm_reg`` and
``textlm_large``).

Each function reads the records of :func:`lstm_tutorial.experiments.load_records` and
returns lines to print, at most 76 columns wide. :func:`separated` is the verdict rule of
:data:`lstm_tutorial.textlm_experiments.VERDICT`: one set of runs beats another when its
median is lower and every one of its seeds is below every seed of the other.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from lstm_tutorial import checks

#: How each metric is printed: (header, factor, digits).
METRICS = {
    "test_bits": ("bits/token", 1.0, 3),
    "test_ppl": ("perplexity", 1.0, 1),
    "test_accuracy": ("accuracy", 1.0, 3),
    "loss": ("val. nats", 1.0, 3),
    "stream_test_bits": ("static bits", 1.0, 3),
    "dynamic_test_bits": ("dynamic bits", 1.0, 3),
}


def _runs(name: str, runs: Any) -> list[Mapping[str, Any]]:
    for k, run in enumerate(checks.sequence(name, runs)):
        checks.mapping(f"{name}[{k}]", run)
        if "config" not in run or "metrics" not in run:
            raise ValueError(
                f"{name}[{k}] must be a record with config and metrics"
            )
        checks.mapping(f"{name}[{k}]['config']", run["config"])
        checks.mapping(f"{name}[{k}]['metrics']", run["metrics"])
        for field in ("model", "seed"):
            if field not in run["config"]:
                raise ValueError(f"{name}[{k}]['config'] lacks {field!r}")
        checks.string(f"{name}[{k}]['config']['model']", run["config"]["model"])
        checks.seed(f"{name}[{k}]['config']['seed']", run["config"]["seed"])
    return list(runs)


def _finished(run: Mapping[str, Any]) -> bool:
    return not run["metrics"].get("diverged")


def values(
    runs: Sequence[Mapping[str, Any]], model: str, key: str
) -> list[float]:
    """``key`` of every finished run of ``model``, in seed order."""
    runs = _runs("runs", runs)
    checks.string("model", model)
    checks.string("key", key)
    chosen = sorted(
        (k for k, r in enumerate(runs) if r["config"]["model"] == model),
        key=lambda k: runs[k]["config"]["seed"],
    )
    if not chosen:
        raise ValueError(f"runs holds no run of model {model!r}")
    out = []
    for k in chosen:
        metrics = runs[k]["metrics"]
        if not _finished(runs[k]):
            continue
        if key not in metrics:
            raise ValueError(
                f"key {key!r} is not a metric of runs[{k}], which has "
                f"{sorted(metrics)}"
            )
        out.append(
            checks.number(f"runs[{k}]['metrics'][{key!r}]", metrics[key])
        )
    return out


def spread(xs: Sequence[float], digits: int = 3) -> str:
    """``median [min-max]``."""
    xs = [
        checks.number(f"xs[{k}]", x)
        for k, x in enumerate(checks.sequence("xs", xs))
    ]
    checks.count("digits", digits)
    f = f"{{:.{digits}f}}"
    return f"{f.format(statistics.median(xs))} [{f.format(min(xs))}-{f.format(max(xs))}]"


def separated(a: Sequence[float], b: Sequence[float]) -> bool:
    """The verdict rule: ``a`` beats ``b`` (lower is better) when its median is lower and
    every value of ``a`` is below every value of ``b``."""
    a = [
        checks.number(f"a[{k}]", x)
        for k, x in enumerate(checks.sequence("a", a))
    ]
    b = [
        checks.number(f"b[{k}]", x)
        for k, x in enumerate(checks.sequence("b", b))
    ]
    return statistics.median(a) < statistics.median(b) and max(a) < min(b)


def tuning_lines(tuning: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per model: the validation loss at each rate, the best marked ``*``, and
    whether it lies at an edge of the grid."""
    from lstm_tutorial.experiments import tuned_rates

    tuning = _runs("tuning", tuning)
    for k, run in enumerate(tuning):
        if "lr" not in run["config"]:
            raise ValueError(f"tuning[{k}]['config'] lacks 'lr'")
        checks.positive_number(
            f"tuning[{k}]['config']['lr']", run["config"]["lr"]
        )
        if _finished(run):
            checks.number(
                f"tuning[{k}]['metrics']['loss']", run["metrics"].get("loss")
            )
    rates = tuned_rates(tuning)
    grid = sorted({r["config"]["lr"] for r in tuning})
    lines = ["model              " + "".join(f"{lr:>8g}" for lr in grid)]
    for (_, model), row in rates.items():
        cells = []
        for lr in grid:
            score = row["scores"].get(lr, math.nan)
            mark = "*" if lr == row["best"] else " "
            cells.append(
                f"{'div.':>7}{mark}"
                if math.isinf(score)
                else f"{score:>7.3f}{mark}"
            )
        edge = "  (edge!)" if row["edge"] else ""
        lines.append(f"{model:<19}" + "".join(cells) + edge)
    return lines


def result_lines(
    runs: Sequence[Mapping[str, Any]],
    models: Sequence[str],
    keys: Sequence[str],
) -> list[str]:
    """One line per model: ``median [min-max]`` over its seeds of each metric in
    ``keys`` (see :data:`METRICS`), and the number of seeds."""
    runs = _runs("runs", runs)
    for k, key in enumerate(checks.sequence("keys", keys)):
        checks.choice(f"keys[{k}]", key, tuple(METRICS))
    for k, model in enumerate(checks.sequence("models", models)):
        checks.string(f"models[{k}]", model)
        mine = [r for r in runs if r["config"]["model"] == model]
        if not any(_finished(r) for r in mine):
            what = "no finished run" if mine else "no run"
            raise ValueError(
                f"models[{k}] is {model!r}, of which runs holds {what}"
            )
    for j, key in enumerate(keys):
        for k, run in enumerate(runs):
            if run["config"]["model"] not in models or not _finished(run):
                continue
            if key not in run["metrics"]:
                raise ValueError(
                    f"keys[{j}] is {key!r}, a metric that runs[{k}] lacks"
                )
    header = (
        f"{'model':<18}"
        + "".join(f"{METRICS[k][0]:>22}" for k in keys)
        + "  seeds"
    )
    lines = [header]
    for model in models:
        cells = [
            spread(values(runs, model, key), METRICS[key][2]) for key in keys
        ]
        n = len(values(runs, model, keys[0]))
        lines.append(
            f"{model:<18}" + "".join(f"{c:>22}" for c in cells) + f"  {n:>5}"
        )
    return lines


def baseline_lines(
    bits: Mapping[str, Sequence[float]], table: Mapping[str, float]
) -> list[str]:
    """One line per model and baseline: the verdict of the rule (a model *beats* a
    baseline when every one of its seeds is below it) and the difference, the
    model's bits minus the baseline's, as ``median [min, max]`` over the seeds."""
    checks.mapping("bits", bits)
    checks.mapping("table", table)
    if not bits or not table:
        raise ValueError(
            f"bits and table must each name at least one, got {len(bits)} "
            f"models and {len(table)} baselines"
        )
    seeds = {}
    for model, xs in bits.items():
        checks.string("bits (a model name)", model)
        seeds[model] = [
            checks.number(f"bits[{model!r}][{k}]", x, finite=True)
            for k, x in enumerate(checks.sequence(f"bits[{model!r}]", xs))
        ]
    for name, value in table.items():
        checks.string("table (a baseline name)", name)
        checks.number(f"table[{name!r}]", value, finite=True)
    lines = []
    for model, xs in seeds.items():
        for name, value in table.items():
            margins = sorted(x - value for x in xs)
            verdict = "beats" if margins[-1] < 0 else "does not beat"
            lines.append(
                f"{model} {verdict} {name} ({value:.3f}): "
                f"{statistics.median(margins):+.3f} "
                f"[{margins[0]:+.3f}, {margins[-1]:+.3f}]"
            )
    return lines
