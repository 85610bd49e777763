"""Tiny synthetic records of the experiments, for the tests of :mod:`lstm_tutorial.report`
(no model is trained): a record is ``{"config", "metrics", "seconds"}`` as
:func:`lstm_tutorial.experiments.run_configs` returns it."""

from __future__ import annotations

from typing import Any

from lstm_tutorial import experiments, store, sweep
from lstm_tutorial.story_experiments import story_run_config


def task_record(
    model: str = "lstm",
    T: int | None = 10,
    seed: int = 0,
    *,
    task: str = "adding",
    solved: bool = True,
    sequences: int = 1000,
    error: float = 0.01,
    lr: float = 1e-2,
    budget: int = 4000,
    strict_solved: bool | None = None,
    strict_sequences: int | None = None,
    parameters: int = 100,
) -> dict:
    """One record of a long-lag task run with made-up metrics."""
    config = sweep.run_config(task, model, T, seed, lr=lr, max_sequences=budget)
    metrics = {
        "solved": solved,
        "sequences": sequences if solved else budget,
        "error": error,
        "parameters": parameters,
        "curve": [[sequences, error]],
        "strict_solved": solved if strict_solved is None else strict_solved,
        "strict_sequences": sequences
        if strict_sequences is None
        else strict_sequences,
    }
    return {"config": config, "metrics": metrics, "seconds": 1.0}


def by_distance(
    right: dict[str, list[int]], count: list[int]
) -> dict[str, list[int]]:
    """The ``by_distance`` metric of a story run: distances 0, 1, ... with ``count``
    stories each and ``right[kind]`` right answers."""
    return {"distance": list(range(len(count))), "count": count, **right}


def story_record(
    model: str = "lstm",
    seed: int = 0,
    *,
    agreement: float = 0.9,
    recall: float = 0.5,
    test_ppl: float = 3.0,
    bound_ppl: float = 2.5,
    distances: dict[str, Any] | None = None,
    **fields: Any,
) -> dict:
    """One record of a story-LM run with made-up metrics (``fields``: StoryLMConfig
    fields of the config, such as ``distractor=True``)."""
    config = story_run_config(model, seed, 1e-2, **fields)
    metrics = {
        "agreement": agreement,
        "recall": recall,
        "test_ppl": test_ppl,
        "bound_ppl": bound_ppl,
        "loss": 1.0,
        "by_distance": distances
        or by_distance({"agreement": [9, 8], "recall": [5, 4]}, [10, 10]),
    }
    return {"config": config, "metrics": metrics, "seconds": 1.0}


def records_file(
    runs: list[dict], tuning: list[dict] | None = None, **extra: Any
) -> dict:
    """The content of a records file holding ``runs`` (as :func:`experiments.run_group`
    writes it, digest included)."""
    content = {
        "group": "tiny",
        "command": "make experiments",
        "code_hash": experiments.code_hash(["tasks"]),
        "modules": ["tasks"],
        "jobs": 2,
        "finished": "2024-05-01T12:00:00+00:00",
        "wall_seconds": 2460.0,
        "run_seconds": 4000.0,
        "tuning": tuning or [],
        "runs": runs,
        **extra,
    }
    return {
        "format": experiments.RECORDS_FORMAT,
        **content,
        "digest": store.digest(content),
    }
