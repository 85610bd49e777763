"""Tables and figures of the recorded experiments (:mod:`lstm_tutorial.experiments`).

The chapters of Parts III and IV print the records through these functions, so that every
table follows the protocol's format: for every cell the number of seeds that succeeded, the
median and the range over seeds, and "not run" where a cell was not run.

Checks: every public function checks that it was given records (dicts with ``config`` and
``metrics``), and its other arguments, before any work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.experiments import SEEDS, SOLVED_IF, spread
from lstm_tutorial.sweep import MODEL_COLORS


def _check_records(
    name: str, records: Any, *, empty: bool = True
) -> list[Mapping[str, Any]]:
    """A list of records (non-empty unless ``empty``), each a dict with a ``config`` dict
    that names its task and model and a ``metrics`` dict."""
    checks.sequence(f"{name} (a list of records)", records, empty=empty)
    for k, record in enumerate(records):
        checks.mapping(f"{name}[{k}]", record)
        if "config" not in record or "metrics" not in record:
            raise ValueError(
                f"{name}[{k}] is not a record: it needs 'config' and 'metrics'"
            )
        config = checks.mapping(f"{name}[{k}]['config']", record["config"])
        checks.mapping(f"{name}[{k}]['metrics']", record["metrics"])
        missing = [
            key for key in ("task", "model", "T", "seed") if key not in config
        ]
        if missing:
            raise ValueError(f"{name}[{k}]['config'] lacks {missing}")
    return list(records)


def _metric(record: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in record["metrics"]:
        raise ValueError(f"{where}: a record's metrics lack {key!r}")
    return record["metrics"][key]


def _check_axes(axes: Any) -> Any:
    """None, or two matplotlib Axes."""
    from matplotlib.axes import Axes

    if axes is None:
        return None
    if (
        isinstance(axes, Axes | str | bytes)
        or not hasattr(axes, "__len__")
        or len(axes) != 2
    ):
        raise checks.ArgumentTypeError(
            f"axes must be None or two matplotlib Axes, got {axes!r}"
        )
    for k, ax in enumerate(axes):
        checks.instance(f"axes[{k}]", ax, Axes, "a matplotlib Axes")
    return axes


def cells(
    records: Sequence[Mapping[str, Any]], task: str
) -> dict[tuple[str, Any], list]:
    """The records of ``task`` grouped by (model, T), in the order they first appear."""
    records = _check_records("records", records)
    checks.string("task", task)
    out: dict[tuple[str, Any], list] = {}
    for r in records:
        if r["config"]["task"] == task:
            out.setdefault((r["config"]["model"], r["config"]["T"]), []).append(
                r
            )
    return out


def cell_summary(
    runs: Sequence[Mapping[str, Any]], key: str = "solved"
) -> dict[str, Any]:
    """One cell: seeds, how many solved (``key``: "solved" or "strict_solved"), the
    verdict by the protocol's rule, and the training sequences of the solved seeds."""
    runs = _check_records("runs", runs, empty=False)
    checks.choice("key", key, ("solved", "strict_solved"))
    count = "sequences" if key == "solved" else "strict_sequences"
    for r in runs:
        for metric in (key, count, "error", "parameters"):
            _metric(r, metric, "runs")
    solved = [r["metrics"][count] for r in runs if r["metrics"].get(key)]
    return {
        "seeds": len(runs),
        "solved": len(solved),
        "verdict": len(solved) >= SOLVED_IF,
        "sequences": solved,
        "budget": runs[0]["config"]["max_sequences"],
        "error": float(np.mean([r["metrics"]["error"] for r in runs])),
        "parameters": runs[0]["metrics"]["parameters"],
    }


def _seq(summary: Mapping[str, Any]) -> str:
    return spread(summary["sequences"]) if summary["sequences"] else "-"


def tuning_table(tuning: Sequence[Mapping[str, Any]]) -> str:
    """The tuning runs as a table: one row per (task, model), the median score of each
    learning rate (training sequences, an unsolved seed counting twice the budget; or the
    validation loss), the chosen rate, and "edge" when it is at the end of the grid."""
    from lstm_tutorial.experiments import tuned_rates

    tuning = _check_records("tuning", tuning)
    table = tuned_rates(tuning)
    grid = sorted({r["config"]["lr"] for r in tuning})
    width = 7 if len(grid) <= 6 else 6
    lines = [
        f"{'task':<9}{'model':<15}"
        + "".join(f"{lr:>{width}g}" for lr in grid)
        + "  best"
    ]
    for (task, model), row in table.items():
        scores = []
        for lr in grid:
            score = row["scores"].get(lr)
            if score is None:
                text = "-"
            elif math.isinf(score):
                text = "div."
            elif score >= 100_000:
                text = f"{score / 1000:.0f}k"
            elif score >= 100:
                text = f"{score / 1000:.1f}k"
            else:
                text = f"{score:.3f}"
            scores.append(f"{text:>{width}}")
        edge = " (edge)" if row["edge"] else ""
        lines.append(
            f"{task:<9}{model:<15}"
            + "".join(scores)
            + f"  {row['best']:g}{edge}"
        )
    return "\n".join(lines)


def task_table(
    records: Sequence[Mapping[str, Any]], task: str, *, strict: bool = False
) -> str:
    """One row per (model, T) of ``task``: the weights of the recurrent layer, the seeds
    that solved it, the median [range] of training sequences of the solved seeds and the
    mean final error on held-out data. With ``strict``, the same for the stricter rule
    (every one of the second held-out set right), without the error."""
    rows = cells(records, task)
    checks.boolean("strict", strict)
    key = "strict_solved" if strict else "solved"
    head = f"{'model':<6}{'T':>5}{'weights':>9}  {'solved':>6}  {'sequences, median [range]':<27}"
    lines = [head if strict else head + f"{'error':>7}"]
    for (model, T), runs in rows.items():
        s = cell_summary(runs, key)
        line = (
            f"{model:<6}{'-' if T is None else T:>5}{s['parameters']:>9,}  "
            f"{s['solved']:>2} of {s['seeds']}  {_seq(s):<27}"
        )
        lines.append(line if strict else line + f"{s['error']:>7.3f}")
    return "\n".join(lines)


def verdict_table(
    records: Sequence[Mapping[str, Any]], tasks: Sequence[str], models
) -> str:
    """The largest T each model solves by the protocol's rule, task by task: "solved" for
    Reber, "none" when no length ran was solved, "not run" when the model never ran; a
    "+" marks the largest length that was run (longer ones were not tried)."""
    for name, values in (("tasks", tasks), ("models", models)):
        for k, value in enumerate(checks.sequence(name, values)):
            checks.string(f"{name}[{k}]", value)
    lines = ["task    " + "".join(f"{m.upper():>10}" for m in models)]
    for task in tasks:
        rows = cells(records, task)
        out = []
        for model in models:
            mine = {T: runs for (m, T), runs in rows.items() if m == model}
            if not mine:
                out.append("not run")
                continue
            good = [
                T for T, runs in mine.items() if cell_summary(runs)["verdict"]
            ]
            if not good:
                out.append("none")
            elif None in good:
                out.append("solved")
            else:  # "+": the largest length run; longer ones were not tried
                out.append(
                    f"T={max(good)}" + ("+" if max(good) == max(mine) else "")
                )
        lines.append(f"{task:<8}" + "".join(f"{c:>10}" for c in out))
    return "\n".join(lines)


def plot_task(records: Sequence[Mapping[str, Any]], task: str, axes=None):
    """Two panels for ``task``, one colour per model: the number of seeds that solved it
    at each T, and the training sequences each seed needed (dots: seeds; line: median of
    the solved seeds; a cross at the budget: a seed that did not solve it). Returns the
    two Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import (
        FixedLocator,
        FormatStrFormatter,
        NullFormatter,
    )

    rows = cells(records, task)
    axes = _check_axes(axes)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(7.4, 3.3))
    models = list(dict.fromkeys(model for model, _ in rows))
    shift = {
        m: (k - (len(models) - 1) / 2) * 0.04 for k, m in enumerate(models)
    }
    for model in models:
        Ts = sorted(T for m, T in rows if m == model)
        colour = MODEL_COLORS.get(model)
        summaries = [cell_summary(rows[model, T]) for T in Ts]
        axes[0].plot(Ts, [s["solved"] for s in summaries], "o-", color=colour,
                     label=model.upper())  # fmt: skip
        medians = [
            np.median(s["sequences"]) if s["sequences"] else np.nan
            for s in summaries
        ]
        axes[1].plot(Ts, medians, "-", color=colour, lw=1.5)
        for T, runs in ((T, rows[model, T]) for T in Ts):
            x = T * 10 ** shift[model]
            for r in runs:
                m = r["metrics"]
                if m["solved"]:
                    axes[1].plot(
                        x, m["sequences"], "o", color=colour, ms=4, alpha=0.8
                    )
                else:
                    axes[1].plot(
                        x, r["config"]["max_sequences"], "x", color=colour, ms=6
                    )
    axes[0].axhline(SOLVED_IF, color="black", ls=":", lw=1)
    axes[0].set(
        xlabel="sequence length T", ylabel=f"seeds solved (of {len(SEEDS)})"
    )
    axes[0].set_ylim(-0.3, len(SEEDS) + 0.3)
    axes[1].set(
        xlabel="sequence length T", ylabel="training sequences", yscale="log"
    )
    all_T = sorted({T for _, T in rows})
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(all_T))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    axes[0].legend(loc="lower left")
    return axes


# ---------------------------------------------------------------------------- stories


def story_cells(
    records: Sequence[Mapping[str, Any]], **fields: Any
) -> dict[str, list]:
    """The story-LM records whose config has every ``field == value`` (a field missing from
    a config counts as its default: ``distractor`` False, ``max_distance`` 24, ``epochs``
    7), grouped by model."""
    records = _check_records("records", records)
    defaults = {
        "distractor": False,
        "max_distance": 24,
        "epochs": 7,
        "attractors": 0,
    }
    out: dict[str, list] = {}
    for r in records:
        config = r["config"]
        if all(config.get(k, defaults.get(k)) == v for k, v in fields.items()):
            out.setdefault(config["model"], []).append(r)
    return out


def by_distance(
    runs: Sequence[Mapping[str, Any]], kind: str
) -> dict[str, np.ndarray]:
    """Accuracy of probe ``kind`` at every distance over the seeds of ``runs``: the
    distances, the mean over seeds, the smallest and the largest seed, and the pooled
    95% Wilson interval of all the seeds' stories."""
    runs = _check_records("runs", runs, empty=False)
    checks.choice("kind", kind, ("agreement", "recall"))
    first = _metric(runs[0], "by_distance", "runs")
    for r in runs:
        table = checks.mapping(
            "a record's metrics['by_distance']",
            _metric(r, "by_distance", "runs"),
        )
        if list(table.get("distance", [])) != list(first["distance"]):
            raise ValueError(
                "runs must share their distances (records of one kind of story)"
            )
    distances = np.array(first["distance"])
    right = np.array(
        [r["metrics"]["by_distance"][kind] for r in runs], dtype=float
    )
    count = np.array(
        [r["metrics"]["by_distance"]["count"] for r in runs], dtype=float
    )
    share = right / count  # (seeds, distances)
    low, high = wilson(right.sum(0), count.sum(0))
    return {
        "distance": distances,
        "mean": share.mean(0),
        "min": share.min(0),
        "max": share.max(0),
        "low": low,
        "high": high,
    }


def wilson(
    right: Any, total: Any, z: float = 1.96
) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of ``right`` successes in ``total`` trials (arrays)."""
    right, total = _counts("right", right), _counts("total", total)
    checks.positive_number("z", z)
    if not (np.isfinite(right).all() and np.isfinite(total).all()):
        raise ValueError("right and total must be finite counts")
    if np.any(total <= 0) or np.any(right < 0) or np.any(right > total):
        raise ValueError("wilson needs 0 <= right <= total and total > 0")
    p = right / total
    centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
    half = (
        z
        * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2))
        / (1 + z**2 / total)
    )
    return np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)


def _counts(name: str, value: Any) -> np.ndarray:
    """A number or an array of numbers (not bools, not strings), as floats."""
    if isinstance(value, bool | np.bool_ | str | bytes) or value is None:
        raise checks.ArgumentTypeError(
            f"{name} must be counts (numbers), got {value!r}"
        )
    out = np.asarray(value)
    if out.dtype == bool or not np.issubdtype(out.dtype, np.number):
        raise checks.ArgumentTypeError(
            f"{name} must be counts (numbers), got dtype {out.dtype}"
        )
    return out.astype(float)


def story_table(groups: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """One row per model of ``groups`` (from :func:`story_cells`): hidden size, seeds,
    agreement and recall (median [range] over seeds), the median test perplexity and its gap
    to the best perplexity on the same test stories, which the first line gives."""
    checks.mapping("groups", groups)
    rows, bounds = [], []
    for model, runs in groups.items():
        runs = _check_records(f"groups[{model!r}]", runs, empty=False)
        for r in runs:
            for key in ("agreement", "recall", "test_ppl", "bound_ppl"):
                _metric(r, key, f"groups[{model!r}]")

        def rng(key, runs=runs):
            v = [r["metrics"][key] for r in runs]
            return f"{np.median(v):.3f} [{min(v):.3f}-{max(v):.3f}]"

        ppl = float(np.median([r["metrics"]["test_ppl"] for r in runs]))
        bound = float(np.median([r["metrics"]["bound_ppl"] for r in runs]))
        bounds.append(bound)
        rows.append(
            f"{model:<8}{runs[0]['config']['hidden_size']:>4}{len(runs):>6}  "
            f"{rng('agreement'):<20}{rng('recall'):<20}{ppl:>8.3f}{ppl - bound:>+7.3f}"
        )
    best = ", ".join(
        f"{b:.3f}" for b in dict.fromkeys(round(b, 3) for b in bounds)
    )
    head = f"{'model':<8}{'H':>4}{'seeds':>6}  {'agreement':<20}{'recall':<20}{'ppl':>8}{'gap':>7}"
    return "\n".join(
        [f"best perplexity on the test stories: {best}", head, *rows]
    )


def plot_story_probes(
    groups: Mapping[str, Sequence], axes=None, *, chance=(0.5, 0.125)
):
    """Agreement and recall against distance, one colour per model: the mean over seeds,
    a band from the worst to the best seed, and dotted lines at ``chance``. Returns the
    two Axes."""
    import matplotlib.pyplot as plt

    checks.mapping("groups", groups)
    for model, runs in groups.items():
        for kind in ("agreement", "recall"):
            by_distance(
                _check_records(f"groups[{model!r}]", runs, empty=False), kind
            )
    axes = _check_axes(axes)
    chance = checks.sequence("chance", chance)
    if len(chance) != 2:
        raise ValueError(
            f"chance must be two levels (agreement, recall), got {chance!r}"
        )
    for k, level in enumerate(chance):
        checks.fraction(f"chance[{k}]", level)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True)
    for ax, kind, guess in zip(
        axes, ("agreement", "recall"), chance, strict=True
    ):
        for model, runs in groups.items():
            curve = by_distance(runs, kind)
            colour = MODEL_COLORS.get(model)
            ax.fill_between(curve["distance"], curve["min"], curve["max"], color=colour,
                            alpha=0.2, lw=0)  # fmt: skip
            ax.plot(curve["distance"], curve["mean"], "o-", ms=3, color=colour,
                    label=f"{model.upper()} ({len(runs)} seeds)")  # fmt: skip
        ax.axhline(guess, color="black", ls=":", lw=1)
        ax.set(
            title=f"{kind.capitalize()} vs distance",
            xlabel="distance (words between)",
        )
        ax.set_ylim(-0.02, 1.04)
    axes[0].set_ylabel("share right, test stories")
    axes[1].legend(loc="center right", fontsize="small")
    return axes


def run_minutes(record: Mapping[str, Any]) -> str:
    """``"made by `make experiments` on ...: 162 runs, 58 min of run time on 2 processes
    (code ...)"``: what a records file says about how it was made. The run time is the sum
    over runs (a resumed sweep counts every run once), so the wall time was about that
    divided by the number of processes."""
    checks.mapping("record", record)
    missing = [
        k
        for k in (
            "run_seconds",
            "command",
            "finished",
            "tuning",
            "runs",
            "jobs",
            "code_hash",
        )
        if k not in record
    ]
    if missing:
        raise ValueError(
            f"record lacks {missing}: pass what load_records returns"
        )
    minutes = record["run_seconds"] / 60
    return (
        f"made by `{record['command']}` on {record['finished'][:10]}: "
        f"{len(record['tuning']) + len(record['runs'])} runs, {minutes:.0f} min of run time "
        f"on {record['jobs']} process{'es' if record['jobs'] != 1 else ''} "
        f"(code {record['code_hash']})"
    )


def chapter_config(
    records: Mapping[str, Any], model: str = "lstm", seed: int = 0
):
    """The :class:`~lstm_tutorial.word_lm.StoryLMConfig` of the recorded run of ``model``
    and ``seed`` on the plain stories with the chapter's budget (the ``stories`` records),
    so that a chapter trains exactly the model it reports."""
    from lstm_tutorial.word_lm import StoryLMConfig

    checks.mapping("records", records)
    checks.string("model", model)
    checks.seed("seed", seed)
    if "runs" not in records:
        raise ValueError(
            "records lacks 'runs': pass what load_records('stories') returns"
        )
    runs = story_cells(
        records["runs"], distractor=False, max_distance=24, epochs=7
    )
    mine = [r for r in runs.get(model, []) if r["config"]["seed"] == seed]
    if len(mine) != 1:
        raise ValueError(
            f"the records hold {len(mine)} plain runs of {model!r}, seed {seed}"
        )
    config = mine[0]["config"]
    fields = {
        k: v for k, v in config.items() if k not in ("task", "model", "T")
    }
    return StoryLMConfig(cell=model, **fields)


def shortcut_table(
    train: Sequence[Any], test: Sequence[Any], indent: str = ""
) -> str:
    """The shortcut baselines of :func:`lstm_tutorial.stories.shortcut_scores` (fitted on
    ``train``) on the ``test`` stories: one line per shortcut, its share right at each probe,
    "-" where it does not answer that probe."""
    from lstm_tutorial.stories import shortcut_scores

    checks.string("indent", indent, empty=True)
    lines = [f"{indent}{'shortcut':<18}{'agreement':>10}{'recall':>8}"]
    for method, scores in shortcut_scores(train, test).items():
        cells = [
            "-" if scores[kind] is None else f"{scores[kind].mean():.3f}"
            for kind in ("agreement", "recall")
        ]
        lines.append(f"{indent}{method:<18}{cells[0]:>10}{cells[1]:>8}")
    return "\n".join(lines)
