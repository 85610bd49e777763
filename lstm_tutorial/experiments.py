"""The book's multi-seed experiments: the protocol, the grids, a parallel runner, the records.

Every comparison between models in Parts III and IV follows one protocol (:data:`PROTOCOL`,
printed by the chapter "How the book compares models"):

- **seeds**: every cell of a comparison runs with the five seeds of :data:`SEEDS`; learning
  rates are tuned on three other seeds (:data:`TUNE_SEEDS`), so the numbers reported are not
  the ones the rate was picked on;
- **verdict**: a model *solves* a task at a length when at least :data:`SOLVED_IF` of its
  five seeds do, within the stated budget of training sequences;
- **same size** means the same number of weights in the recurrent layer (the GRU, the RNN
  and every LSTM variant get the hidden size that matches the LSTM's count);
- **start**: each model gets its best-practice initial state, one table for the book
  (:data:`STARTS`);
- **learning rate**: tuned per model and task on a grid (:data:`LR_GRID`); the tuning score
  is the median, over the tuning seeds, of the training sequences needed (an unsolved run
  counts as twice the budget), or the validation perplexity for the language models. A best
  rate at the edge of its grid is flagged wherever the tuning table is printed;
- **held out**: success is checked on sequences never trained on (Reber: test strings
  disjoint from the training strings), the language models' probes on stories drawn with
  seeds the training data did not use.

``make experiments`` (``python -m lstm_tutorial.experiments``) runs the grids of
:data:`GROUPS` in two stages: first every tuning run, then every run at the tuned rates, on
``--jobs`` processes. Each finished run is cached in ``.experiments-cache/`` (resumable: an
interrupted run loses only the runs in progress), and each group's records are written to
``lstm_tutorial/records/<group>.json`` with their configs, seeds, metrics and run times, the
hash of the code that produced them (:func:`code_hash`), the versions, the wall time and the
command. The chapters load those files (:func:`load_records`); ``tests/test_records.py``
re-runs a small sample of them (:func:`check_records`) and fails when they are stale.

Checks: :func:`load_records`, :func:`check_records`, :func:`tuned_rates`, :func:`verdict`,
:func:`spread` and :func:`main` check their arguments before any work.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import json
import math
import multiprocessing
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lstm_tutorial import (
    charlm_experiments,
    checks,
    story_experiments,
    textlm_experiments,
    textlm_large,
)
from lstm_tutorial.store import digest, write_cache, write_json
from lstm_tutorial.sweep import (
    _read_json,
    _record,
    describe_run,
    run_config,
    story_config,
    train_on_stories,
    train_on_task,
)
from lstm_tutorial.training import TrainingDiverged, config_key
from lstm_tutorial.variants import VARIANTS

#: Where the records live (inside the package, so that the chapters can load them).
RECORDS_DIR = Path(__file__).with_name("records")
#: Where finished runs are cached while ``make experiments`` runs (git ignores it).
CACHE_DIR = Path(".experiments-cache")
#: Version of the records files.
RECORDS_FORMAT = 1

#: The seeds of every reported cell, and the seeds the learning rates are tuned on.
SEEDS = (0, 1, 2, 3, 4)
TUNE_SEEDS = (100, 101, 102)
#: A (model, task, length) is solved when at least this many of the five seeds solve it.
SOLVED_IF = 4
#: An unsolved tuning run scores this many times the budget.
UNSOLVED_PENALTY = 2.0

#: The best-practice start of each model on the long-lag tasks: the LSTM as in 1997
#: (forget gate open, input gate nearly closed), the GRU with its update gate biased to keep
#: the state, the RNN with an orthogonal recurrent matrix.
STARTS: dict[str, dict[str, Any]] = {
    "lstm": {"forget_bias": 5.0, "input_bias": -2.0},
    "gru": {"update_bias": 3.0},
    "rnn": {"orthogonal": True},
}
#: The learning rates tried for every model (Adam).
LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)

#: The long-lag grids: lengths per task and model, tuning length, budget.
LONG_LAG = {
    "adding": {
        "T": {
            "lstm": [10, 30, 100, 200],
            "gru": [10, 30, 100, 200],
            "rnn": [10, 30, 100],
        },
        "tune_T": {"lstm": 30, "gru": 30, "rnn": 10},
        "budget": 200_000,
        "settings": {"strict_n_val": 2000},
    },
    "copy": {
        "T": {"lstm": [10, 20, 40], "gru": [10, 20, 40], "rnn": [10, 20, 40]},
        "tune_T": {"lstm": 10, "gru": 10, "rnn": 10},
        "budget": 200_000,
        "settings": {},
    },
    "reber": {
        "T": {"lstm": [None], "gru": [None], "rnn": [None]},
        "tune_T": {"lstm": None, "gru": None, "rnn": None},
        "budget": 51_200,
        "settings": {},
    },
}
#: The ablation: every variant (and the GRU) on two tasks and the stories, same size.
ABLATION_MODELS = (*VARIANTS, "gru")
ABLATION_LR_GRID = (3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
#: Rates added to the ablation's grid where its best rate fell on an end of the grid.
ABLATION_EXTRA_RATES: dict[tuple[str, str], tuple[float, ...]] = {
    ("reber", "CIFG"): (1.0,),
    ("adding", "forget bias 0"): (1e-3,),
}
#: The GRU's start in the ablation on the tasks: update-gate bias 1, the counterpart of the
#: standard cell's b_f = 1 (on the stories it keeps torch's start).
ABLATION_STARTS = {"gru": {"update_bias": 1.0}}
ABLATION_TASKS = {
    "reber": {"T": None, "budget": 25_600},
    "adding": {"T": 20, "budget": 64_000},
}

#: Everything :data:`PROTOCOL` prints.
PROTOCOL = {
    "seeds": SEEDS,
    "tuning seeds": TUNE_SEEDS,
    "solved if": f"at least {SOLVED_IF} of {len(SEEDS)} seeds solve within the budget",
    "same size": "the same number of weights in the recurrent layer",
    "learning rate": f"tuned per model and task on {list(LR_GRID)} (the ablation: "
    f"{list(ABLATION_LR_GRID)}), on the tuning seeds",
    "tuning score": f"median training sequences until solved over the tuning seeds, an "
    f"unsolved run counting {UNSOLVED_PENALTY:g} x the budget; language models: validation "
    "perplexity",
}


# ------------------------------------------------------------------------------ the grids


def _task_configs(
    task: str,
    model: str,
    Ts: Sequence[Any],
    seeds: Sequence[int],
    lr: float,
    **settings,
) -> list[dict]:
    start = STARTS[model] if model in STARTS else {}
    return [
        run_config(task, model, T, seed, lr=lr, **start, **settings)
        for T in Ts
        for seed in seeds
    ]


def long_lag_tuning() -> list[dict]:
    """The tuning runs of the long-lag chapter: every model and rate at each task's tuning
    length, on the tuning seeds."""
    configs = []
    for task, spec in LONG_LAG.items():
        for model in spec["T"]:
            for lr in LR_GRID:
                configs += _task_configs(  # the book's rule only: no strict_n_val
                    task, model, [spec["tune_T"][model]], TUNE_SEEDS, lr,
                    max_sequences=spec["budget"],
                )  # fmt: skip
    return configs


def _check_rates(rates: Any, keys: Sequence[tuple[str, str]]) -> None:
    """``rates`` maps every (task, model) of ``keys`` to a learning rate."""
    checks.mapping("rates", rates)
    missing = [key for key in keys if key not in rates]
    if missing:
        raise ValueError(
            f"rates lacks the tuned rate of {missing}: pass tuned_rates' bests"
        )
    for key in keys:
        checks.positive_number(f"rates[{key!r}]", rates[key])


def long_lag_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """The reported runs: every model at every length of its task, five seeds, at its
    tuned rate ``rates[(task, model)]``."""
    _check_rates(
        rates,
        [
            (task, model)
            for task, spec in LONG_LAG.items()
            for model in spec["T"]
        ],
    )
    configs = []
    for task, spec in LONG_LAG.items():
        for model, Ts in spec["T"].items():
            configs += _task_configs(
                task, model, Ts, SEEDS, rates[task, model],
                max_sequences=spec["budget"], **spec["settings"],
            )  # fmt: skip
    return configs


def _ablation_task_configs(
    task: str, model: str, seeds: Sequence[int], lr: float
) -> list[dict]:
    """The ablation's configs of one task and model at one rate, one per seed."""
    spec = ABLATION_TASKS[task]
    start = ABLATION_STARTS.get(model, {})
    return [
        run_config(
            task,
            model,
            spec["T"],
            seed,
            lr=lr,
            max_sequences=spec["budget"],
            **start,
        )
        for seed in seeds
    ]


def ablation_tuning() -> list[dict]:
    """The ablation's tuning runs: every model and rate on both tasks and on stories of
    another data seed, on the tuning seeds."""
    configs = []
    for task in ABLATION_TASKS:
        for model in ABLATION_MODELS:
            for lr in (
                *ABLATION_LR_GRID,
                *ABLATION_EXTRA_RATES.get((task, model), ()),
            ):
                configs += _ablation_task_configs(task, model, TUNE_SEEDS, lr)
    for model in ABLATION_MODELS:  # tuned on stories of another data seed
        for lr in ABLATION_LR_GRID:
            configs += [
                story_config(model, seed, lr=lr, data_seed=2)
                for seed in TUNE_SEEDS
            ]
    return configs


def ablation_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """The ablation's reported runs: every model on both tasks and the stories, five seeds,
    at its tuned rate ``rates[(task, model)]`` (task "stories" for the stories)."""
    tasks = (*ABLATION_TASKS, "stories")
    _check_rates(
        rates, [(task, model) for task in tasks for model in ABLATION_MODELS]
    )
    configs = []
    for task in ABLATION_TASKS:
        for model in ABLATION_MODELS:
            configs += _ablation_task_configs(
                task, model, SEEDS, rates[task, model]
            )
    for model in ABLATION_MODELS:
        configs += [
            story_config(model, seed, lr=rates["stories", model])
            for seed in SEEDS
        ]
    return configs


#: The starts compared in :func:`starts_runs`: adding problem, T = 100, three seeds.
START_TRIALS: dict[str, list[dict[str, Any]]] = {
    "lstm": [{}, {"forget_bias": 1.0}, {"forget_bias": 3.0}, STARTS["lstm"]],
    "gru": [{}, {"update_bias": 1.0}, STARTS["gru"]],
    "rnn": [{}, STARTS["rnn"]],
}
START_T = 100
START_BUDGET = 100_000


def starts_runs(
    rates: Mapping[tuple[str, str], float] | None = None,
) -> list[dict]:
    """Why :data:`STARTS`: each start of :data:`START_TRIALS` on the adding problem at
    T = 100, three seeds, at the model's tuned rate of the long-lag records (1e-2 where
    there are none)."""
    del (
        rates
    )  # this group tunes nothing: it reuses the long-lag chapter's rates
    try:
        tuned = {
            k: v["best"]
            for k, v in tuned_rates(load_records("long_lag")["tuning"]).items()
        }
    except FileNotFoundError:
        tuned = {}
    return [
        run_config(
            "adding",
            model,
            START_T,
            seed,
            lr=tuned.get(("adding", model), 1e-2),
            max_sequences=START_BUDGET,
            **start,
        )  # fmt: skip
        for model, trials in START_TRIALS.items()
        for start in trials
        for seed in SEEDS[:3]
    ]


#: The modules whose code computes the real-text part's results.
_TEXTLM_MODULES = (
    "text",
    "regularize",
    "textlm",
    "textlm_experiments",
    "chardata",
    "training",
)
#: The groups ``make experiments`` runs: name -> (tuning configs, reported configs, the
#: modules whose code computes the results, see :func:`code_hash`).
GROUPS: dict[
    str, tuple[Callable[[], list[dict]], Callable[[Mapping], list[dict]], tuple]
] = {
    "long_lag": (
        long_lag_tuning,
        long_lag_runs,
        ("tasks", "sweep", "variants", "training"),
    ),
    "starts": (list, starts_runs, ("tasks", "sweep", "variants", "training")),
    "ablation": (
        ablation_tuning,
        ablation_runs,
        ("tasks", "sweep", "variants", "training", "stories", "word_lm"),
    ),
    "stories": (
        story_experiments.story_tuning,
        story_experiments.story_runs,
        ("stories", "word_lm", "training", "variants", "story_experiments"),
    ),
    "charlm": (
        charlm_experiments.charlm_tuning,
        charlm_experiments.charlm_runs,
        (
            "charlm",
            "train_numpy",
            "chardata",
            "optim",
            "numpy_lstm",
            "numpy_lstm_fast",
            "bptt",
            "charlm_experiments",
        ),
    ),
    "textlm_cells": (
        textlm_experiments.cells_tuning,
        textlm_experiments.cells_runs,
        _TEXTLM_MODULES,
    ),
    "textlm_reg": (
        textlm_experiments.reg_tuning,
        textlm_experiments.reg_runs,
        _TEXTLM_MODULES,
    ),
    "textlm_large": (
        textlm_large.large_tuning,
        textlm_large.large_runs,
        (*_TEXTLM_MODULES, "dynamic_eval", "textlm_large"),
    ),
}
#: Groups whose runs are too long to re-run whole in a test: name -> a function of one
#: record giving (a number re-computed now, the recorded number), which must agree
#: within 1% (see :func:`check_records`).
PARTIAL_CHECKS: dict[str, Callable[[Mapping], tuple[float, float]]] = {
    "textlm_large": textlm_large.check_first_epoch,
}


def run_function(config: Mapping[str, Any]) -> Callable[[dict], dict]:
    """The function that runs ``config``: by its task."""
    checks.mapping("config", config)
    if config.get("task") == "stories":
        return train_on_stories
    if config.get("task") == "story_lm":
        return story_experiments.train_story_run
    if config.get("task") == "charlm":
        return charlm_experiments.train_charlm_run
    if config.get("task") in ("textlm_cells", "textlm_reg"):
        return textlm_experiments.train_textlm_run
    if config.get("task") == "textlm_large":
        return textlm_large.train_large_run
    return train_on_task


def _name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


# ------------------------------------------------------------------------- tuning


def tuning_score(
    config: Mapping[str, Any], metrics: Mapping[str, Any]
) -> float:
    """What a tuning run scores (smaller is better): training sequences until solved (an
    unsolved run: :data:`UNSOLVED_PENALTY` x the budget), or the validation loss of a
    language model."""
    checks.mapping("config", config)
    checks.mapping("metrics", metrics)
    if metrics.get("diverged") and "solved" not in metrics:  # a run that raised
        return math.inf
    if "solved" in metrics:
        checks.boolean("metrics['solved']", metrics["solved"])
        checks.count("metrics['sequences']", metrics.get("sequences"))
        checks.positive_int(
            "config['max_sequences']", config.get("max_sequences")
        )
        if metrics["solved"]:
            return float(metrics["sequences"])
        return UNSOLVED_PENALTY * float(config["max_sequences"])
    return checks.number("metrics['loss']", metrics.get("loss"))


def _group_key(config: Mapping[str, Any]) -> tuple[str, str]:
    return (str(config["task"]), str(config["model"]))


def tuned_rates(
    tuning: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, str], dict]:
    """For every (task, model) of tuning ``records`` (each ``{"config", "metrics"}``): the
    median score of each rate, the best rate, and whether it lies at the grid's edge."""
    _check_record_list("tuning", tuning)
    for k, record in enumerate(tuning):
        missing = [
            key
            for key in ("task", "model", "lr")
            if key not in record["config"]
        ]
        if missing:
            raise ValueError(f"tuning[{k}]['config'] lacks {missing}")
    scores: dict[tuple[str, str], dict[float, list[float]]] = {}
    for record in tuning:
        config, metrics = record["config"], record["metrics"]
        scores.setdefault(_group_key(config), {}).setdefault(
            config["lr"], []
        ).append(tuning_score(config, metrics))
    out = {}
    for key, by_lr in scores.items():
        medians = {
            lr: float(np.median(values)) for lr, values in sorted(by_lr.items())
        }
        best = min(
            medians, key=lambda lr: (medians[lr], lr)
        )  # ties: the smaller rate
        grid = sorted(medians)
        out[key] = {
            "scores": medians,
            "best": best,
            "edge": best in (grid[0], grid[-1]),
        }
    return out


# ------------------------------------------------------------------------- the records


def _canonical(node: Any) -> str:
    """A canonical text of a syntax tree: node types and field values, without docstrings,
    line numbers, empty fields and ``None`` fields (the last so that the same code gives the
    same text on Python 3.11 to 3.13, whose trees differ only in such empty fields)."""
    if isinstance(node, list):
        return "[" + ",".join(_canonical(item) for item in node) + "]"
    if not isinstance(node, ast.AST):
        return repr(node)
    body = getattr(node, "body", None)
    parts = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(node, ast.JoinedStr) and name == "values":
            value = _joined(value)
        if (
            name == "body"
            and isinstance(
                node,
                ast.Module
                | ast.ClassDef
                | ast.FunctionDef
                | ast.AsyncFunctionDef,
            )
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            value = body[1:]
        if value is None or value == []:
            continue
        parts.append(f"{name}={_canonical(value)}")
    return f"{type(node).__name__}(" + ",".join(parts) + ")"


def _joined(values: list) -> list:
    """An f-string's parts with adjacent text parts merged and empty ones dropped (Python
    3.12 splits and pads them differently from 3.11 and 3.13)."""
    merged: list = []
    for value in values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if merged and isinstance(merged[-1], str):
                merged[-1] += value.value
            else:
                merged.append(value.value)
        else:
            merged.append(value)
    return [
        ast.Constant(value=v) if isinstance(v, str) else v
        for v in merged
        if v != ""
    ]


def code_hash(modules: Sequence[str]) -> str:
    """A hash of the code that computes a group's results: the syntax trees of the package's
    ``modules`` without docstrings (so that editing the prose of a module, its comments or
    its layout does not make its records stale, while changing what the code does does;
    the same on every Python version)."""
    h = hashlib.sha256()
    for k, name in enumerate(checks.sequence("modules", modules)):
        if not checks.string(f"modules[{k}]", name).isidentifier():
            raise ValueError(
                f"modules[{k}] must be a module name such as 'sweep', got {name!r}"
            )
        path = Path(__file__).with_name(f"{name}.py")
        if not path.exists():
            raise ValueError(
                f"modules names {name!r}, which is not a module of the package"
            )
        h.update(f"{name}\n".encode())
        h.update(
            _canonical(ast.parse(path.read_text(encoding="utf-8"))).encode()
        )
    return h.hexdigest()[:16]


def _run_one(job: tuple[int, dict]) -> tuple[int, dict, float]:
    """Run one config (in a worker process); return its index, metrics and seconds."""
    k, config = job
    start = time.perf_counter()
    try:
        metrics = run_function(config)(config)
    except (
        TrainingDiverged
    ) as err:  # a tuning rate too large: recorded, not fatal
        metrics = {"diverged": True, "message": str(err)}
    return k, metrics, time.perf_counter() - start


def _cache_path(config: Mapping[str, Any], cache_dir: Path) -> Path:
    name = _name(run_function(config))
    return cache_dir / f"{config_key({'run': name, **config})}.json"


def run_configs(
    configs: Sequence[dict],
    *,
    jobs: int = 2,
    cache_dir: Path = CACHE_DIR,
    log: Callable[[str], None] | None = print,
) -> list[dict]:
    """Run every config (cached ones are read back), on ``jobs`` processes; return one
    record ``{"config", "metrics", "seconds"}`` per config, in order."""
    checks.sequence("configs (a list of config dicts)", configs, empty=True)
    for k, config in enumerate(configs):
        checks.mapping(f"configs[{k}]", config)
    checks.positive_int("jobs", jobs)
    cache_dir = checks.path("cache_dir", cache_dir)
    checks.optional(checks.function, "log", log)
    cache_dir.mkdir(parents=True, exist_ok=True)
    done: dict[int, dict] = {}
    todo = []
    for k, config in enumerate(configs):
        path = _cache_path(config, cache_dir)
        stored = _read_json(path, config, log, _name(run_function(config)))
        if stored is not None:
            done[k] = {
                "config": config,
                "metrics": stored,
                "seconds": stored.get("_seconds"),
            }
        else:
            todo.append(k)
    if log is not None:
        log(
            f"{len(configs)} runs: {len(done)} cached, {len(todo)} to run on {jobs} processes"
        )
    start = time.perf_counter()

    def finish(k: int, metrics: dict, seconds: float, n: int) -> None:
        config = configs[k]
        metrics = {**metrics, "_seconds": seconds}
        text = json.dumps(
            _record(config, metrics, _name(run_function(config))),
            sort_keys=True,
        )
        write_cache(
            _cache_path(config, cache_dir),
            lambda handle: handle.write(text.encode()),
        )
        done[k] = {"config": config, "metrics": metrics, "seconds": seconds}
        if log is not None:
            elapsed = time.perf_counter() - start
            if "solved" in metrics:
                verb = "solved after" if metrics["solved"] else "not solved in"
                outcome = f"{verb} {metrics['sequences']:,} seq"
            elif metrics.get("diverged"):
                outcome = "diverged"
            else:
                outcome = f"loss {metrics['loss']:.3f}"
            log(
                f"[{n}/{len(todo)}] {describe_run(config)} lr {config['lr']:g}: {outcome} "
                f"({seconds:.1f} s; {elapsed / 60:.1f} min so far)"
            )

    jobs_list = [(k, configs[k]) for k in todo]
    if jobs == 1:
        for n, job in enumerate(jobs_list, 1):
            finish(*_run_one(job), n)
    elif jobs_list:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            for n, result in enumerate(
                pool.imap_unordered(_run_one, jobs_list), 1
            ):
                finish(*result, n)
    records = []
    for k in range(len(configs)):
        record = dict(done[k])
        record["metrics"] = {
            m: v for m, v in record["metrics"].items() if m != "_seconds"
        }
        records.append(record)
    return records


#: Groups whose data ship with Python itself (Part II's corpus is the pydoc help topics,
#: which differ between Python versions: 464,970 characters on 3.11, 510,586 on 3.13), so
#: their runs come out the same only on the Python minor version that recorded them.
PYTHON_DATA_GROUPS = (
    "charlm",
    "textlm_cells",
    "textlm_reg",
    "textlm_large",
    "textlm_baselines",
)


def same_data_python(record: dict) -> bool:
    """Whether this Python gives the data a group's records were made on: always, unless
    the group is one of :data:`PYTHON_DATA_GROUPS` recorded on another minor version."""
    if checks.mapping("record", record).get("group") not in PYTHON_DATA_GROUPS:
        return True
    versions = record.get("versions")
    python = versions.get("python") if isinstance(versions, dict) else None
    if not isinstance(python, str) or python.count(".") < 1:
        raise ValueError(
            "record: expected a record with versions['python'] such as"
            f" '3.11.7', got versions {versions!r}"
        )
    recorded = python.split(".")[:2]
    return recorded == platform.python_version().split(".")[:2]


def _versions() -> dict[str, str]:
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "machine": platform.machine(),
    }


def run_group(
    name: str, *, jobs: int = 2, log: Callable[[str], None] | None = print
) -> dict:
    """Run one group of :data:`GROUPS` (tuning, then the tuned runs) and write its records
    file. Returns the file's content."""
    checks.choice("name", name, tuple(GROUPS))
    checks.positive_int("jobs", jobs)
    checks.optional(checks.function, "log", log)
    tuning_configs, main_configs, modules = GROUPS[name]
    started = time.perf_counter()
    if log is not None:
        log(f"== {name}: tuning")
    tuning = run_configs(tuning_configs(), jobs=jobs, log=log)
    rates = {key: row["best"] for key, row in tuned_rates(tuning).items()}
    if log is not None:
        log(f"== {name}: the runs at the tuned rates")
    runs = run_configs(main_configs(rates), jobs=jobs, log=log)
    content = {
        "group": name,
        "command": "make experiments",
        "code_hash": code_hash(modules),
        "modules": list(modules),
        "versions": _versions(),
        "jobs": jobs,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        ),
        "wall_seconds": time.perf_counter() - started,
        "run_seconds": sum((r["seconds"] or 0.0) for r in tuning + runs),
        "tuning": tuning,
        "runs": runs,
    }
    record = {"format": RECORDS_FORMAT, **content, "digest": digest(content)}
    RECORDS_DIR.mkdir(exist_ok=True)
    write_json(RECORDS_DIR / f"{name}.json", record)
    return record


# ---------------------------------------------------------------------------- reading


def load_records(name: str, directory: str | Path = RECORDS_DIR) -> dict:
    """The records of group ``name``, checked: format, digest, and the code hash (a record
    made by other code is reported as stale, in one line, but still returned, with
    ``"stale": True``)."""
    if not checks.string("name", name).isidentifier():
        raise ValueError(
            f"name must be a group name such as 'long_lag', got {name!r}"
        )
    path = checks.path("directory", directory) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no records {path}: run `make experiments` to make them"
        )
    stored = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(stored, dict) or stored.get("format") != RECORDS_FORMAT:
        raise ValueError(
            f"{path} is not a records file of format {RECORDS_FORMAT}"
        )
    content = {k: v for k, v in stored.items() if k not in ("format", "digest")}
    if digest(content) != stored.get("digest"):
        raise ValueError(
            f"{path} is damaged: its digest does not match its content"
        )
    now = code_hash(stored["modules"])
    stored["stale"] = stored["code_hash"] != now
    if stored["stale"]:
        print(
            f"note: {path.name} was made by other code ({stored['code_hash']}, now "
            f"{now}); run `make experiments` to renew it"
        )
    return stored


def _check_record_list(name: str, records: Any) -> list:
    """A list of records, each a dict with a ``config`` and a ``metrics`` dict."""
    checks.sequence(f"{name} (a list of records)", records, empty=True)
    for k, record in enumerate(records):
        checks.mapping(f"{name}[{k}]", record)
        for part in ("config", "metrics"):
            checks.mapping(f"{name}[{k}][{part!r}]", record.get(part))
    return list(records)


def spread(values: Sequence[float]) -> str:
    """``median [min-max]`` of ``values``, as the tables print it."""
    values = [
        checks.number(f"values[{k}]", v, finite=True)
        for k, v in enumerate(checks.sequence("values", values))
    ]
    if len(values) == 1:
        return f"{values[0]:,.0f}"
    return f"{np.median(values):,.0f} [{min(values):,.0f}-{max(values):,.0f}]"


def verdict(runs: Sequence[Mapping[str, Any]], key: str = "solved") -> bool:
    """The protocol's rule: at least :data:`SOLVED_IF` of the seeds have ``key`` true."""
    _check_record_list("runs", runs)
    checks.string("key", key)
    for k, r in enumerate(runs):
        if key not in r["metrics"]:
            raise ValueError(f"runs[{k}]['metrics'] has no {key!r}")
    return sum(bool(r["metrics"][key]) for r in runs) >= SOLVED_IF


def select(records: Sequence[Mapping[str, Any]], **fields: Any) -> list[dict]:
    """The records whose config has every ``field == value``."""
    _check_record_list("records", records)
    return [
        r
        for r in records
        if all(r["config"].get(k) == v for k, v in fields.items())
    ]


# ---------------------------------------------------------------------------- checking


def check_records(
    name: str, *, sample: int = 2, log: Callable[[str], None] | None = print
):
    """Check group ``name``'s records against the code: not stale (same code hash), the
    same grid (the configs the code would run at the recorded tuned rates), and ``sample``
    of the cheapest recorded runs re-run to the same verdict, with the same count of
    training sequences within one evaluation interval (language models: the same loss
    within 1%; a group of :data:`PARTIAL_CHECKS`: the part of the run it re-runs). Raises
    AssertionError with the reason when a check fails."""
    checks.choice("name", name, tuple(GROUPS))
    checks.count("sample", sample)
    checks.optional(checks.function, "log", log)
    stored = load_records(name)
    tuning_configs, main_configs, modules = GROUPS[name]
    assert not stored["stale"] and stored["modules"] == list(modules), (
        f"the records of {name} are stale for the code (made by {stored['code_hash']}, "
        f"the code is {code_hash(modules)}): run `make experiments`"
    )
    assert [r["config"] for r in stored["tuning"]] == tuning_configs(), (
        f"the tuning grid of {name} changed since the records were made: run `make experiments`"
    )
    rates = {
        key: row["best"] for key, row in tuned_rates(stored["tuning"]).items()
    }
    assert [r["config"] for r in stored["runs"]] == main_configs(rates), (
        f"the grid of {name} changed since the records were made: run `make experiments`"
    )
    cheapest = sorted(stored["runs"], key=lambda r: r["seconds"] or math.inf)[
        :sample
    ]
    for record in cheapest:
        config, old = record["config"], record["metrics"]
        where = describe_run(config)
        if name in PARTIAL_CHECKS:  # a part of the run, its first epoch
            now, then = PARTIAL_CHECKS[name](record)
            assert abs(now - then) <= 0.01 * abs(then), (
                f"{where}: first-epoch validation loss {now:.4f} now, "
                f"{then:.4f} recorded"
            )
            if log is not None:
                log(
                    f"{name}: {where} first epoch re-run agrees with its record"
                )
            continue
        new = run_function(config)(config)
        if "solved" in old:
            assert new["solved"] == old["solved"], (
                f"{where}: solved {new['solved']} now"
            )
            interval = config["eval_every"]
            assert abs(new["sequences"] - old["sequences"]) <= interval, (
                f"{where}: {new['sequences']} sequences now, {old['sequences']} recorded"
            )
        else:
            assert abs(new["loss"] - old["loss"]) <= 0.01 * abs(old["loss"]), (
                f"{where}: loss {new['loss']:.4f} now, {old['loss']:.4f} recorded"
            )
        if log is not None:
            log(f"{name}: {where} re-run agrees with its record")
    return cheapest


# ------------------------------------------------------------------------ the command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_tutorial.experiments",
        description="Run the book's multi-seed experiments and write their records.",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="worker processes (default 2)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(GROUPS),
        help="run only these groups (default: all)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    start = time.perf_counter()
    for name in args.only or list(GROUPS):
        record = run_group(name, jobs=args.jobs)
        print(
            f"== {name}: {len(record['tuning']) + len(record['runs'])} runs in "
            f"{record['wall_seconds'] / 60:.1f} min; records in {RECORDS_DIR / name}.json"
        )
    print(f"all done in {(time.perf_counter() - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
