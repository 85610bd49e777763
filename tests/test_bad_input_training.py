"""Bad input to the training loops, checkpoints, sweeps, benchmark and timings report: every
public entry point, called validly and then with one argument at a time made wrong, refuses
with a TypeError or ValueError that names the argument, before any work starts."""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from badinput import Call, cases, check_case, check_valid, ids, valid_calls
from torch import nn

from lstm_tutorial import bench, sweep, timings, train_numpy, training
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
