"""Bad input to Part V's chapter modules (dynamic_eval, side_by_side, showcase,
textlm_report, textlm_exercises, textlm_large, textlm_baselines): every public function,
class and method, called validly and then with one argument at a time made wrong, refuses
it with a TypeError or ValueError that names the argument.

The valid calls are tiny (models of a few units, texts of a few windows, a two-step race);
nothing trains the showcase: :func:`showcase.make_showcase` and :func:`showcase.main` run
on a copy of the shipped model with training replaced by a stop (:func:`_until_training`),
so a valid call returns the copy it was given, and every refusal comes before training.
The larger LSTM's valid calls train a run of 8 units for one epoch; the baselines' use
orders 1 and 2, and their command runs with the measuring replaced by a stop.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from badinput import (
    MUTATIONS,
    Call,
    cases,
    check_case,
    check_valid,
    uncovered,
    valid_calls,
)
from torch import nn

from lstm_tutorial import (
    dynamic_eval,
    showcase,
    side_by_side,
    textlm_baselines,
    textlm_exercises,
    textlm_large,
    textlm_report,
)
from lstm_tutorial.baselines import compressor_bits_per_char
from lstm_tutorial.charlm import CharLM, CharRNN
from lstm_tutorial.textlm import LMConfig, TextLM
from lstm_tutorial.train_numpy import BOOK_CONFIG

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TMP = Path(tempfile.mkdtemp(prefix="bad-input-part5-"))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)

V, E, H = 12, 4, 5

# ------------------------------------------------------------------- mutation kinds


def module_of(expected):
    def bad(valid):
        return [
            ("str", "model"),
            ("None", None),
            ("tensor", torch.zeros(3)),
            *expected,
        ]

    return bad


def path_arg(valid):
    return [
        ("int", 3),
        ("None", None),
        ("empty", ""),
        ("NUL", "a\0b"),
        ("a folder", TMP),
    ]


def name_arg(valid):
    """The name of a kept run."""
    return [*MUTATIONS["str"](valid), ("not a kept run", "small")]


def vocab_arg(valid):
    return [("list", list(valid.tokens)), ("None", None), ("str", "abc")]


def log_arg(valid):
    return [("int", 3), ("str", "print")]


def config_arg(valid):
    return [
        ("dict", valid.to_dict()),
        ("None", None),
        ("str", "config"),
    ]


def nonnegative(valid):
    return MUTATIONS["number"](valid) + [("negative", -0.5)]


def probability(valid):
    """A dropout probability, in [0, 1)."""
    return MUTATIONS["fraction"](valid) + [("one", 1.0)]


def function_arg(valid):
    return [*MUTATIONS["callable"](valid), ("None", None)]


def numbers_arg(valid):
    """A non-empty list of finite numbers."""
    return [
        ("str", "1.0 2.0"),
        ("None", None),
        ("empty", []),
        ("array", np.asarray(valid)),
        ("a str item", [*valid[1:], "1.0"]),
        ("a bool item", [*valid[1:], True]),
        ("a nan item", [*valid[1:], math.nan]),
        ("an inf item", [*valid[1:], math.inf]),
    ]


def _edit(valid, k, part, **fields):
    """``valid`` with ``valid[k][part]`` updated by ``fields`` (None deletes a key)."""
    out = [
        dict(r, config=dict(r["config"]), metrics=dict(r["metrics"]))
        for r in valid
    ]
    for key, value in fields.items():
        out[k][part].pop(key, None)
        if value is not None:
            out[k][part][key] = value
    return out


def records_arg(valid):
    """A non-empty list of records ``{"config": {...}, "metrics": {...}}``."""
    return [
        ("str", "runs"),
        ("None", None),
        ("empty", []),
        ("a dict", {"runs": valid}),
        ("a str record", [*valid[1:], "run"]),
        ("a record without metrics", [*valid[1:], {"config": {}}]),
        ("config a list", [*valid[1:], {"config": [], "metrics": {}}]),
        ("metrics a str", [*valid[1:], {**valid[0], "metrics": "m"}]),
        ("no model", _edit(valid, 0, "config", model=None)),
        ("an int model", _edit(valid, 0, "config", model=3)),
        ("no seed", _edit(valid, 0, "config", seed=None)),
        ("a str seed", _edit(valid, 0, "config", seed="0")),
        ("a negative seed", _edit(valid, 0, "config", seed=-1)),
    ]


def runs_arg(valid):
    return records_arg(valid) + [
        ("a str metric", _edit(valid, 0, "metrics", test_bits="1.9")),
        ("a nan metric", _edit(valid, 0, "metrics", test_bits=math.nan)),
        ("a bool metric", _edit(valid, 0, "metrics", test_bits=True)),
        ("without the metric", _edit(valid, 0, "metrics", test_bits=None)),
    ]


def tuning_arg(valid):
    return records_arg(valid) + [
        ("no lr", _edit(valid, 0, "config", lr=None)),
        ("a str lr", _edit(valid, 0, "config", lr="1e-3")),
        ("a zero lr", _edit(valid, 0, "config", lr=0.0)),
        ("no task", _edit(valid, 0, "config", task=None)),
        ("a str loss", _edit(valid, 0, "metrics", loss="2.0")),
        ("a nan loss", _edit(valid, 0, "metrics", loss=math.nan)),
        ("no loss", _edit(valid, 0, "metrics", loss=None)),
    ]


def names_arg(options):
    """A non-empty list of names, each one of those the records hold."""

    def bad(valid):
        return [
            ("one str", valid[0]),
            ("None", None),
            ("empty", []),
            ("an int item", [*valid, 3]),
            ("a None item", [*valid, None]),
            ("unknown", [*valid, "zzz"]),
            *options,
        ]

    return bad


# -------------------------------------------------------------------------- fixtures


def text_model(vocab_size=V):
    torch.manual_seed(0)
    return TextLM(vocab_size, num_layers=1, embed_size=E, hidden_size=H)


def stream(n=41, vocab_size=V):
    return torch.randint(
        0, vocab_size, (n,), generator=torch.Generator().manual_seed(0)
    )


def char_lm():
    return CharLM(11, E, H, 1, dtype=np.float32, seed=3)


#: Part II's book config, shrunk: a two-step race of a tiny model on 2,000 characters.
RACE_CONFIG = dataclasses.replace(
    BOOK_CONFIG,
    hidden_size=8,
    embed_size=4,
    batch_size=2,
    seq_len=4,
    max_chars=2000,
)


def _run(model, seed, bits, lr=1e-2, loss=1.0):
    return {
        "config": {
            "task": "textlm_cells",
            "model": model,
            "seed": seed,
            "lr": lr,
        },
        "metrics": {"test_bits": bits, "test_accuracy": 0.5, "loss": loss},
    }


def runs():
    out = [_run("lstm", s, b) for s, b in enumerate([1.9, 1.7, 1.8])]
    return out + [_run("gru", s, b) for s, b in enumerate([2.0, 2.1])]


def diverged_gru():
    """Runs in which every gru run diverged."""
    out = runs()
    for r in out[3:]:
        r["metrics"] = {"diverged": True}
    return out


def tuning():
    return [
        _run("lstm", 100, 0.0, lr, loss)
        for lr, loss in [(1e-3, 2.0), (2e-3, 1.5), (4e-3, 1.7)]
    ]


@functools.cache
def _shipped_copy() -> Path:
    """A copy of the shipped showcase model: make_showcase finds it holds the recorded
    run and keeps it (the shipped file itself is never written to)."""
    path = TMP / "showcase.pt"
    shutil.copy(showcase.SHOWCASE_PATH, path)
    return path


@functools.cache
def _showcase_vocab_size() -> int:
    return showcase.load_showcase(_shipped_copy())[1].size


#: The config test_loss reads the test text with: the showcase's text (char, min_count
#: 1), in windows a tiny model reads quickly.
TEST_CONFIG = LMConfig(
    level="char",
    layers=1,
    embed_size=E,
    hidden_size=H,
    seq_len=100,
    batch_size=32,
    min_count=1,
)


class ReachedTraining(Exception):
    """Raised in place of training: the call got past every check."""


def _no_training(*args, **kwargs):
    raise ReachedTraining


def _until_training(fn):
    """``fn`` (make_showcase or main) with showcase.train_textlm_model replaced by a
    stop: whatever it refuses, it refuses before training, and it never trains here."""

    @functools.wraps(fn)
    def until_training(**kwargs):
        original = showcase.train_textlm_model
        showcase.train_textlm_model = _no_training
        try:
            return fn(**kwargs)
        finally:
            showcase.train_textlm_model = original

    return until_training


def right_mask(x, p, generator):
    shape = (x.shape[0], 1, x.shape[2])
    keep = torch.empty(shape).bernoulli_(1 - p, generator=generator)
    return keep / (1 - p)


def lzma_bits(train_text, valid_text):
    return compressor_bits_per_char(train_text, valid_text, "lzma")


# ---------------------------------------------------------------------- dynamic_eval

DYNAMIC_EVAL_CALLS = [
    Call(
        dynamic_eval.dynamic_evaluate,
        lambda: {
            "model": text_model(),
            "ids": stream(),
            "lr": 0.1,
            "seq_len": 10,
            "clip_norm": 1.0,
        },
        {
            "model": module_of(
                [("nn.Linear", nn.Linear(E, V)), ("a CharLM", char_lm())]
            ),
            "ids": lambda v: [
                ("numpy", v.numpy().copy()),
                ("list", v.tolist()),
                ("int32", v.to(torch.int32)),
                ("float", v.to(torch.float32)),
                ("bool", v.bool()),
                ("2-D", v[None]),
                ("empty", v[:0]),
                ("None", None),
                ("str", "abc"),
                ("negative id", torch.cat([v[:-1], torch.tensor([-1])])),
                ("id == vocab size", torch.cat([v[:-1], torch.tensor([V])])),
                ("too few for one window", v[:5]),
            ],
            "lr": nonnegative,
            "seq_len": lambda v: [
                *MUTATIONS["positive_int"](v),
                ("longer than the text", 100),
            ],
            "clip_norm": "positive",
        },
    ),
]

# ---------------------------------------------------------------------- side_by_side

SIDE_BY_SIDE_CALLS = [
    Call(
        side_by_side.textlm_from_charlm,
        lambda: {"model": char_lm()},
        {
            "model": module_of(
                [
                    ("a CharRNN", CharRNN(5, 3, 4)),
                    ("one-hot input", CharLM(5, None, 4)),
                    ("a TextLM", text_model()),
                ]
            )
        },
    ),
    Call(
        side_by_side.race,
        lambda: {"config": RACE_CONFIG, "steps": 2},
        {
            "config": lambda v: [
                ("dict", dataclasses.asdict(v)),
                ("None", None),
                ("str", "config"),
                ("an RNN", dataclasses.replace(v, cell="rnn")),
                ("one-hot input", dataclasses.replace(v, embed_size=None)),
                ("float64", dataclasses.replace(v, dtype="float64")),
                ("a text too short", dataclasses.replace(v, max_chars=30)),
            ],
            "steps": lambda v: [
                *MUTATIONS["positive_int"](v),
                ("more than the text's batches", 10**6),
            ],
        },
    ),
]

# -------------------------------------------------------------------------- showcase

SHOWCASE_CALLS = [
    Call(
        showcase.showcase_record,
        lambda: {"name": "cells"},
        {"name": lambda v: [*MUTATIONS["str"](v), ("not a kept run", "small")]},
    ),
    Call(
        showcase.showcase_text,
        lambda: {
            "vocab": showcase.load_showcase(_shipped_copy())[1],
            "config": TEST_CONFIG,
        },
        {"vocab": vocab_arg, "config": config_arg},
    ),
    Call(
        showcase.load_showcase,
        lambda: {"path": _shipped_copy(), "name": "cells"},
        {"path": path_arg, "name": name_arg},
        skip=("path:None",),  # None: the kept run's own file
    ),
    Call(
        showcase.test_loss,
        lambda: {
            "model": text_model(_showcase_vocab_size()),
            "config": TEST_CONFIG,
            "vocab": showcase.load_showcase(_shipped_copy())[1],
        },
        {
            "model": module_of(
                [
                    ("nn.Linear", nn.Linear(E, V)),
                    ("another vocabulary", text_model(V)),
                ]
            ),
            "config": config_arg,
        },
    ),
]

#: Calls whose function would train the showcase on the corpus if the file they are
#: given did not hold it: they run with training replaced by a stop.
UNTIL_TRAINING_CALLS = [
    Call(
        _until_training(showcase.make_showcase),
        lambda: {"path": _shipped_copy(), "name": "cells", "log": None},
        {"path": path_arg, "name": name_arg, "log": log_arg},
        label="make_showcase",
        skip=("path:None",),  # None: the kept run's own file (shipped, kept)
    ),
    Call(
        _until_training(showcase.main),
        lambda: {"argv": ["--name", "cells", "--path", str(_shipped_copy())]},
        {
            "argv": lambda v: [
                ("str", " ".join(v)),
                ("int", 3),
                ("int item", [*v[:-1], 3]),
                ("bytes item", [*v[:2], b"--path", v[-1]]),
                ("Path item", [*v[:-1], Path(v[-1])]),
            ]
        },
        label="main",
    ),
]

# --------------------------------------------------------------------- textlm_report

REPORT_CALLS = [
    Call(
        textlm_report.values,
        lambda: {"runs": runs(), "model": "lstm", "key": "test_bits"},
        {
            "runs": runs_arg,
            "model": lambda v: [*MUTATIONS["str"](v), ("no run of it", "zzz")],
            "key": lambda v: [
                *MUTATIONS["str"](v),
                ("empty", ""),
                ("not a metric", "zzz"),
            ],
        },
    ),
    Call(
        textlm_report.spread,
        lambda: {"xs": [1.9, 1.7, 1.8], "digits": 3},
        {"xs": numbers_arg, "digits": "count"},
    ),
    Call(
        textlm_report.separated,
        lambda: {"a": [1.0, 1.1, 1.2], "b": [1.3, 1.4]},
        {"a": numbers_arg, "b": numbers_arg},
    ),
    Call(
        textlm_report.tuning_lines,
        lambda: {"tuning": tuning()},
        {"tuning": tuning_arg},
    ),
    Call(
        textlm_report.baseline_lines,
        lambda: {"bits": {"LSTM": [1.41, 1.42]}, "table": {"lzma": 1.44}},
        {
            "bits": lambda v: [
                ("str", "LSTM"),
                ("None", None),
                ("empty", {}),
                ("a list", [1.41]),
                ("an int name", {3: [1.41]}),
                ("no seeds", {"LSTM": []}),
                ("a str value", {"LSTM": ["1.41"]}),
                ("a nan value", {"LSTM": [math.nan]}),
            ],
            "table": lambda v: [
                ("str", "lzma"),
                ("None", None),
                ("empty", {}),
                ("an int name", {3: 1.44}),
                ("a str value", {"lzma": "1.44"}),
                ("an inf value", {"lzma": math.inf}),
            ],
        },
    ),
    Call(
        textlm_report.result_lines,
        lambda: {
            "runs": runs(),
            "models": ["lstm", "gru"],
            "keys": ["test_bits", "test_accuracy"],
        },
        {
            "runs": lambda v: [
                *runs_arg(v),
                ("every gru run diverged", diverged_gru()),
            ],
            "models": names_arg([]),
            "keys": names_arg([("a metric no run has", ["test_ppl"])]),
        },
        # runs_arg's "without the metric" drops a metric that result_lines is asked for
        # too: refused naming runs, as it should be
    ),
]

# ----------------------------------------------------------------- textlm_exercises

EXERCISE_CALLS = [
    Call(
        textlm_exercises.check_compressor_bits,
        lambda: {"fn": lzma_bits},
        {"fn": function_arg},
    ),
    Call(
        textlm_exercises.locked_mask,
        lambda: {
            "x": torch.ones(2, 3, 4),
            "p": 0.3,
            "generator": torch.Generator().manual_seed(0),
        },
        {
            "x": lambda v: [
                ("numpy", v.numpy().copy()),
                ("list", v.tolist()),
                ("int", v.long()),
                ("2-D", v[0]),
                ("4-D", v[None]),
                ("empty", v[:, :0]),
                ("None", None),
            ],
            "p": probability,
            "generator": lambda v: [
                ("int seed", 0),
                ("None", None),
                ("str", "generator"),
                ("NumPy Generator", np.random.default_rng(0)),
            ],
        },
    ),
    Call(
        textlm_exercises.check_locked_mask,
        lambda: {"fn": right_mask},
        {"fn": function_arg},
    ),
]

# ------------------------------------------------------ textlm_large, textlm_baselines


def tiny_large(epochs=1):
    """A textlm_large run small enough to train here (8 units, one epoch)."""
    config = textlm_large.large_config(0, 1e-2)
    config["lm"].update(layers=1, hidden_size=8, embed_size=8, epochs=epochs)
    return config


@functools.cache
def _tiny_large_record() -> dict:
    config = tiny_large()
    return {"config": config, "metrics": {"val_loss": [3.0]}}


def _large_config_arg(valid):
    return [
        ("str", "config"),
        ("None", None),
        ("another group's run", {**valid, "task": "textlm_cells"}),
        ("no task", {k: v for k, v in valid.items() if k != "task"}),
        ("lm a list", {**valid, "lm": []}),
        ("an unknown lm key", {**valid, "lm": {**valid["lm"], "zzz": 1}}),
        (
            "a zero hidden size",
            {**valid, "lm": {**valid["lm"], "hidden_size": 0}},
        ),
    ]


def _record_arg(valid):
    def metrics(m):
        return {**valid, "metrics": m}

    return [
        ("str", "record"),
        ("None", None),
        ("no config", {"metrics": valid["metrics"]}),
        ("config a list", {**valid, "config": []}),
        ("no metrics", {"config": valid["config"]}),
        ("no val_loss", metrics({})),
        ("an empty val_loss", metrics({"val_loss": []})),
        ("a str val_loss", metrics({"val_loss": "3.0"})),
        ("a nan first loss", metrics({"val_loss": [math.nan]})),
        ("a str first loss", metrics({"val_loss": ["3.0"]})),
        ("lm a str", {**valid, "config": {**valid["config"], "lm": "lm"}}),
    ]


def _orders_arg(valid):
    return [
        ("int", 3),
        ("None", None),
        ("empty", []),
        ("a zero order", [0, *valid]),
        ("a float order", [1.5]),
        ("a repeated order", [*valid, valid[0]]),
    ]


def _no_record(**kwargs):
    raise ReachedTraining


def _until_recording(fn):
    """``main`` of textlm_baselines with the measuring replaced by a stop."""

    @functools.wraps(fn)
    def until_recording(**kwargs):
        original = textlm_baselines.record_baselines
        textlm_baselines.record_baselines = _no_record
        try:
            return fn(**kwargs)
        except ReachedTraining:
            return None
        finally:
            textlm_baselines.record_baselines = original

    return until_recording


LARGE_CALLS = [
    Call(
        textlm_large.large_config,
        lambda: {"seed": 0, "lr": 1e-2},
        {"seed": "seed", "lr": "positive"},
    ),
    Call(textlm_large.large_tuning, lambda: {}, {}),
    Call(
        textlm_large.large_runs,
        lambda: {"rates": {("textlm_large", "lstm"): 8e-3}},
        {
            "rates": lambda v: [
                ("str", "rates"),
                ("None", None),
                ("no rate of the LSTM", {}),
                ("a zero rate", {("textlm_large", "lstm"): 0.0}),
                ("a str rate", {("textlm_large", "lstm"): "8e-3"}),
            ]
        },
    ),
    Call(
        textlm_large.train_large_run,
        lambda: {"config": tiny_large()},
        {"config": _large_config_arg},
    ),
    Call(
        textlm_large.check_first_epoch,
        lambda: {"record": _tiny_large_record()},
        {"record": _record_arg},
    ),
    Call(
        textlm_baselines.measure_level,
        lambda: {"level": "word", "orders": [1, 2]},
        {
            "level": lambda v: [*MUTATIONS["str"](v), ("unknown", "byte")],
            "orders": _orders_arg,
        },
    ),
    Call(
        textlm_baselines.measure_test,
        lambda: {"level": "word", "order": 2},
        {
            "level": lambda v: [*MUTATIONS["str"](v), ("unknown", "byte")],
            "order": "positive_int",
        },
    ),
    Call(
        textlm_baselines.record_baselines,
        lambda: {"directory": TMP / "baselines", "orders": [1, 2], "log": None},
        {
            "directory": lambda v: [
                ("int", 3),
                ("None", None),
                ("NUL", "a\0b"),
                ("a file", _shipped_copy()),
            ],
            "orders": _orders_arg,
            "log": log_arg,
        },
    ),
    Call(
        _until_recording(textlm_baselines.main),
        lambda: {"argv": []},
        {
            "argv": lambda v: [
                ("str", "--help"),
                ("int", 3),
                ("int item", [3]),
            ]
        },
        label="textlm_baselines.main",
    ),
]

CALLS = (
    DYNAMIC_EVAL_CALLS
    + SIDE_BY_SIDE_CALLS
    + SHOWCASE_CALLS
    + REPORT_CALLS
    + EXERCISE_CALLS
    + LARGE_CALLS
)


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call, capsys):
    check_valid(call)


@pytest.mark.parametrize("call", valid_calls(UNTIL_TRAINING_CALLS))
def test_the_shipped_model_is_kept_without_training(call, capsys):
    check_valid(call)  # a stop in place of training: reaching it would raise
    assert showcase.load_showcase(_shipped_copy())[2] == LMConfig.from_dict(
        showcase.showcase_record()["config"]["lm"]
    )


@pytest.mark.parametrize(
    "call, arg, label", cases(CALLS + UNTIL_TRAINING_CALLS)
)
def test_bad_input_is_refused_naming_the_argument(call, arg, label, capsys):
    check_case(call, arg, label)


#: Public names with no Call of that exact name, and why.
UNCHECKED = {
    "side_by_side.Race": "a result container (a NamedTuple that race returns)",
}

ALL_IDS = {call.id for call in CALLS + UNTIL_TRAINING_CALLS}


@pytest.mark.parametrize(
    "module",
    [
        dynamic_eval,
        side_by_side,
        showcase,
        textlm_report,
        textlm_exercises,
        textlm_large,
        textlm_baselines,
    ],
    ids=lambda m: m.__name__,
)
def test_every_public_function_class_and_method_has_a_call(module):
    missing = uncovered(module, ALL_IDS, UNCHECKED)
    assert not missing, (
        f"no Call (and no stated exemption) for {sorted(missing)}"
    )
