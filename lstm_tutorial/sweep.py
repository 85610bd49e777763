"""Train many small models on the long-lag tasks, each until it succeeds, and cache the results.

Two layers:

- :func:`train_on_task` trains one model on one task (:mod:`lstm_tutorial.tasks`) from one
  plain config dict, checks a success criterion on held-out data at regular intervals, stops
  as soon as it is met (or when the budget of training sequences is spent), and returns plain
  metrics: solved or not, after how many training sequences, final accuracy and error.
- :func:`run_sweep` runs a list of such configs (a grid made with :func:`grid`), prints one
  plain progress line per run, and caches each finished run as a small JSON file named after
  a hash of its config. A second call with the same configs reads the files and trains
  nothing, so a notebook can be re-run in seconds.

A config holds everything that changes the result (task, model, T, seed, sizes, learning
rate, budgets); :func:`run_config` fills in the defaults of :data:`DEFAULTS`, so that the hash
of a run does not depend on which values the caller happened to spell out.

Checks: :func:`check_run_config` and :func:`check_story_config` check a whole config (every
setting by its rule in :data:`SETTING_CHECKS` / :data:`STORY_CHECKS`); :func:`run_config`,
:func:`story_config`, :func:`train_on_task`, :func:`train_on_stories` and :func:`run_sweep`
call them before anything is trained.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.store import (
    CorruptFile,
    cache_problem,
    check_digest,
    digest,
    read_bytes,
    write_cache,
)
from lstm_tutorial.tasks import (
    adding_correct,
    adding_problem,
    copy_correct,
    copy_memory,
    embedded_reber,
    encode_reber,
    reber_correct,
)
from lstm_tutorial.training import TrainingDiverged, config_key, fit
from lstm_tutorial.variants import (
    VARIANTS,
    SequenceModel,
    count_parameters,
    make_recurrent,
    matching_hidden_size,
)

#: The tasks :func:`train_on_task` knows.
TASKS = ("adding", "reber", "copy")
#: Models by name: the three layers compared in the book, and the cell variants.
MODELS = ("lstm", "gru", "rnn", *VARIANTS)

#: Default settings of a run; :func:`run_config` copies them into every config.
#: ``hidden_size`` is the LSTM's; the GRU and the RNN get the hidden size that gives their
#: recurrent layer about as many parameters (:func:`matching_hidden_size`). A success check
#: runs every ``eval_every`` training sequences; ``threshold`` is the fraction of held-out
#: sequences that must be correct; training stops after ``max_sequences`` at the latest.
DEFAULTS: dict[str, Any] = {
    "hidden_size": 32,
    "lr": 1e-2,
    "batch_size": 64,
    "clip_norm": 1.0,
    "threshold": 0.95,
    "n_val": 500,
    "eval_every": 1600,
    "max_sequences": 64_000,
    "forget_bias": None,  # torch.nn.LSTM ("lstm") only: initial b_f
    "input_bias": None,  # torch.nn.LSTM ("lstm") only: initial b_i
    "update_bias": None,  # torch.nn.GRU ("gru") only: initial b_z
    "orthogonal": False,  # torch.nn.RNN ("rnn") only: orthogonal recurrent weights
    "strict_n_val": None,  # adding, copy: also train on until all of this many are right
    "n_symbols": 8,  # copy task
    "length": 3,  # copy task: symbols to copy
    "n_train": 256,  # Reber: training strings (the paper's 256)
    "n_test": 256,  # Reber: test strings
    "val_seed": 12345,
    "version": 2,
}
#: Settings that differ by task. The embedded Reber grammar is solved only when every string
#: of the training and the test set is predicted completely (the paper's criterion); one
#: check per pass over its 256 training strings.
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "adding": {},
    "copy": {"max_sequences": 96_000},
    "reber": {
        "threshold": 1.0,
        "batch_size": 32,
        "eval_every": 256,
        "max_sequences": 25_600,
    },
}


def _optional_number(name: str, value: Any) -> float | None:
    return checks.optional(checks.number, name, value)


def _optional_positive(name: str, value: Any) -> float | None:
    return checks.optional(checks.positive_number, name, value)


#: The shortest T of each task (:func:`lstm_tutorial.tasks.adding_problem` needs 4).
MIN_T = {"adding": 4, "copy": 1}

#: How each setting of a run config is checked (:func:`check_run_config`).
SETTING_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "hidden_size": checks.positive_int,
    "lr": checks.positive_number,
    "batch_size": checks.positive_int,
    "clip_norm": _optional_positive,
    "threshold": checks.fraction,
    "n_val": checks.positive_int,
    "eval_every": checks.positive_int,
    "max_sequences": checks.positive_int,
    "forget_bias": _optional_number,
    "input_bias": _optional_number,
    "update_bias": _optional_number,
    "orthogonal": checks.boolean,
    "strict_n_val": lambda name, value: checks.optional(
        checks.positive_int, name, value
    ),
    "n_symbols": checks.positive_int,
    "length": checks.positive_int,
    "n_train": checks.positive_int,
    "n_test": checks.positive_int,
    "val_seed": checks.seed,
    "version": checks.positive_int,
}


def check_run_config(config: Any) -> dict:
    """Check a whole run config (see :func:`run_config`) before anything is trained: the
    task, the model, T, the seed and every setting of :data:`DEFAULTS`, each by its rule in
    :data:`SETTING_CHECKS`. Returns it as a plain dict."""
    checks.mapping("config", config)
    config = dict(config)
    checks.no_unknown_keys(
        "config", config, ("task", "model", "T", "seed", *DEFAULTS)
    )
    missing = sorted({"task", "model", "T", "seed", *DEFAULTS} - set(config))
    if missing:
        raise ValueError(
            f"config lacks the settings {missing}: build it with run_config"
        )
    task = checks.choice("config['task']", config["task"], TASKS)
    model = checks.choice("config['model']", config["model"], MODELS)
    if task == "reber":
        if config["T"] is not None:
            raise ValueError(
                f"the Reber task has no T (its strings vary in length), got T={config['T']!r}"
            )
    else:
        shortest = MIN_T[task]
        checks.integer(
            f"config['T'] (the sequence length of the {task} task)",
            config["T"],
            minimum=shortest,
        )
    checks.seed("config['seed']", config["seed"])
    for name, check in SETTING_CHECKS.items():
        check(f"config[{name!r}]", config[name])
    for name, owner in _START_OWNERS.items():
        if model != owner and config[name] not in (None, False):
            raise ValueError(
                f"config[{name!r}]={config[name]!r} applies to model {owner!r} only (the "
                f"start of torch's {owner.upper()}); model {model!r} would ignore it"
            )
    if task == "reber" and config["strict_n_val"] is not None:
        raise ValueError(
            "config['strict_n_val'] applies to the adding and copy tasks; the Reber "
            "criterion is already strict (every string right)"
        )
    return config


#: The start settings of a run config, and the one model each applies to.
_START_OWNERS = {
    "forget_bias": "lstm",
    "input_bias": "lstm",
    "update_bias": "gru",
    "orthogonal": "rnn",
}


def run_config(
    task: str, model: str, T: int | None, seed: int = 0, **settings: Any
) -> dict:
    """A complete run config: :data:`DEFAULTS`, then :data:`TASK_DEFAULTS`, then ``settings``.

    ``T`` is the sequence length of the adding and copy tasks; it must be None for the
    embedded Reber grammar, whose strings have their own lengths. Unknown setting names
    raise ValueError (a typo would otherwise silently start a new run), and every value is
    checked (:func:`check_run_config`).
    """
    checks.choice("task", task, TASKS)
    checks.choice("model", model, MODELS)
    if task == "reber" and T is not None:
        raise ValueError(
            f"the Reber task has no T (its strings vary in length), got T={T!r}"
        )
    if task != "reber":
        checks.integer(
            f"T (the sequence length of the {task} task)",
            T,
            minimum=MIN_T[task],
        )
    checks.seed("seed", seed)
    checks.no_unknown_keys("settings", settings, DEFAULTS)
    config = {"task": task, "model": model, "T": T, "seed": seed, **DEFAULTS}
    return check_run_config(config | TASK_DEFAULTS[task] | settings)


def grid(
    base: Mapping[str, Any] | None = None, **axes: Sequence[Any]
) -> list[dict]:
    """All combinations of ``axes`` (name -> list of values), each merged into ``base``.

    ``grid(model=["lstm", "rnn"], T=[10, 100], task=["adding"])`` gives four dicts, in the
    order of ``itertools.product`` (the last axis varies fastest).
    """
    base = dict(checks.optional(checks.mapping, "base", base) or {})
    for name, values in axes.items():
        if (
            isinstance(values, str)
            or not isinstance(values, Sequence)
            or not values
        ):
            raise ValueError(
                f"axis {name!r} must be a non-empty list of values, got {values!r}"
            )
    names = list(axes)
    return [
        base | dict(zip(names, combo, strict=True))
        for combo in itertools.product(*axes.values())
    ]


def task_grid(
    task: str,
    T_by_model: Mapping[str, Sequence[int | None]],
    seeds: Sequence[int],
    *,
    per_model: Mapping[str, Mapping[str, Any]] | None = None,
    **settings: Any,
) -> list[dict]:
    """The run configs of one task: every model at each of its T, for every seed, ordered by
    T (shortest first, as :func:`run_sweep`'s ``skip_harder`` wants), then model, then seed.

    ``T_by_model`` maps a model to its lengths, e.g. ``{"lstm": [10, 100], "rnn": [10]}``
    (``[None]`` for Reber); ``per_model`` adds settings for some models only, e.g. the
    LSTM's gate biases; ``settings`` apply to all.
    """
    checks.mapping("T_by_model", T_by_model)
    for model, Ts in T_by_model.items():
        checks.sequence(f"T_by_model[{model!r}] (a list of lengths)", Ts)
    for k, seed in enumerate(checks.sequence("seeds (a list of seeds)", seeds)):
        checks.seed(f"seeds[{k}]", seed)
    per_model = dict(
        checks.optional(checks.mapping, "per_model", per_model) or {}
    )
    absent = sorted(set(per_model) - set(T_by_model), key=str)
    if absent:
        raise ValueError(
            f"per_model names models that T_by_model lacks: {absent}"
        )
    runs = [(T, model) for model, Ts in T_by_model.items() for T in Ts]
    runs.sort(
        key=lambda run: -1 if run[0] is None else run[0]
    )  # stable: model order kept
    return [
        run_config(
            task, model, T, seed, **(settings | dict(per_model.get(model, {})))
        )
        for T, model in runs
        for seed in seeds
    ]


# ------------------------------------------------------------------------------- models


def build_model(config: Mapping[str, Any]) -> SequenceModel:
    """The model of a run config (seeded with ``config["seed"]``), with its read-out.

    Adding: 2 inputs, 1 output read at each sequence's last step. Reber: 7 one-hot inputs,
    7 next-symbol scores. Copy: one-hot tokens, ``n_symbols + 1`` scores (blank or symbol).
    """
    config = check_run_config(config)
    task, kind, H = config["task"], config["model"], config["hidden_size"]
    if task == "adding":
        D, out, vocab = 2, 1, None
    elif task == "reber":
        D, out, vocab = 7, 7, None
    else:
        D = config["n_symbols"] + 2
        out, vocab = config["n_symbols"] + 1, D
    reference = count_parameters(make_recurrent("lstm", D, H))
    if kind == "lstm":
        switches = {
            "forget_bias": config["forget_bias"],
            "input_bias": config["input_bias"],
        }
    elif kind in VARIANTS:  # as many weights as the standard cell of size H
        kind, switches = "variant", VARIANTS[kind]
        H = matching_hidden_size(kind, D, reference, **switches)
    else:
        switches = (
            {"update_bias": config["update_bias"]}
            if kind == "gru"
            else {"orthogonal": config["orthogonal"]}
        )
        H = matching_hidden_size(kind, D, reference)
    torch.manual_seed(config["seed"])
    return SequenceModel(make_recurrent(kind, D, H, **switches), out, vocab)


# ---------------------------------------------------------------------------- the tasks


def _tensors(*arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(a) for a in arrays)


class _Adding:
    """Fresh sequences every batch; correct when |error| < 0.04 at the sequence's end."""

    def __init__(self, config: Mapping[str, Any]):
        self.T = config["T"]
        val = adding_problem(
            config["n_val"], self.T, np.random.default_rng(config["val_seed"])
        )
        self.val = _tensors(val.x, val.lengths, val.target)
        self.strict = None
        if config["strict_n_val"] is not None:  # a second, larger held-out set
            rng = np.random.default_rng(config["val_seed"] + 1)
            strict = adding_problem(config["strict_n_val"], self.T, rng)
            self.strict = _tensors(strict.x, strict.lengths, strict.target)

    def strict_accuracy(self, model: nn.Module) -> float:
        """The share of the strict held-out set processed correctly."""
        x, lengths, target = self.strict
        prediction = self.predict(model, x, lengths).numpy()
        return float(adding_correct(prediction, target.numpy()).mean())

    @staticmethod
    def predict(
        model: nn.Module, x: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        out = model(x)[:, :, 0]  # (B, L)
        return out.gather(1, (lengths - 1)[:, None])[
            :, 0
        ]  # (B,): at each sequence's end

    def loss(
        self, model: nn.Module, batch: tuple[torch.Tensor, ...]
    ) -> torch.Tensor:
        x, lengths, target = batch
        return F.mse_loss(self.predict(model, x, lengths), target)

    def batches(
        self, rng: np.random.Generator, n_batches: int, batch_size: int
    ) -> list:
        return [
            _tensors(*adding_problem(batch_size, self.T, rng))
            for _ in range(n_batches)
        ]

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        x, lengths, target = self.val
        prediction = self.predict(model, x, lengths).numpy()
        return {
            "accuracy": float(
                adding_correct(prediction, target.numpy()).mean()
            ),
            "error": float(np.abs(prediction - target.numpy()).mean()),
            "loss": float(np.mean((prediction - target.numpy()) ** 2)),
        }


class _Copy:
    """Fresh sequences every batch; the loss and the check cover the last ``length`` steps."""

    def __init__(self, config: Mapping[str, Any]):
        self.T, self.k, self.n_symbols = (
            config["T"],
            config["length"],
            config["n_symbols"],
        )
        rng = np.random.default_rng(config["val_seed"])
        self.val = _tensors(
            *copy_memory(config["n_val"], self.T, rng, **self._options())
        )
        self.strict = None
        if config["strict_n_val"] is not None:  # a second, larger held-out set
            rng = np.random.default_rng(config["val_seed"] + 1)
            options = self._options()
            self.strict = _tensors(
                *copy_memory(config["strict_n_val"], self.T, rng, **options)
            )

    def strict_accuracy(self, model: nn.Module) -> float:
        """The share of the strict held-out set copied perfectly."""
        x, y = self.strict
        predicted = torch.zeros_like(y)
        predicted[:, -self.k :] = model(x)[:, -self.k :].argmax(-1)
        return float(copy_correct(predicted.numpy(), y.numpy(), self.k).mean())

    def _options(self) -> dict[str, int]:
        return {"n_symbols": self.n_symbols, "length": self.k}

    def loss(
        self, model: nn.Module, batch: tuple[torch.Tensor, ...]
    ) -> torch.Tensor:
        x, y = batch
        logits = model(x)[:, -self.k :]  # (B, k, n_symbols + 1)
        return F.cross_entropy(logits.flatten(0, 1), y[:, -self.k :].flatten())

    def batches(
        self, rng: np.random.Generator, n_batches: int, batch_size: int
    ) -> list:
        return [
            _tensors(*copy_memory(batch_size, self.T, rng, **self._options()))
            for _ in range(n_batches)
        ]

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        x, y = self.val
        logits = model(x)[:, -self.k :]
        predicted = torch.zeros_like(y)
        predicted[:, -self.k :] = logits.argmax(-1)
        symbols_wrong = (
            (predicted[:, -self.k :] != y[:, -self.k :]).float().mean()
        )
        return {
            "accuracy": float(
                copy_correct(predicted.numpy(), y.numpy(), self.k).mean()
            ),
            "error": float(symbols_wrong),
            "loss": float(self.loss(model, self.val)),
        }


class _Reber:
    """A fixed set of training strings, one pass per check; success when every symbol of
    every training and test string is predicted (Hochreiter & Schmidhuber 1997). The test
    strings are disjoint from the training strings."""

    strict = None

    def __init__(self, config: Mapping[str, Any]):
        rng = np.random.default_rng(config["seed"])
        train = embedded_reber(config["n_train"], rng)
        test_rng = np.random.default_rng(config["val_seed"])
        test = embedded_reber(
            config["n_test"], test_rng, exclude=set(train.strings)
        )
        self.train, self.test = encode_reber(train), encode_reber(test)
        self.facts = reber_facts(train.strings, test.strings)

    @staticmethod
    def loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, target = batch
        logits = model(x)  # (B, L, 7)
        return F.cross_entropy(
            logits.flatten(0, 1), target.flatten(), ignore_index=-100
        )

    def batches(
        self, rng: np.random.Generator, n_batches: int, batch_size: int
    ) -> list:
        order = rng.permutation(
            len(self.train.x)
        )  # one pass over the training strings
        out = []
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            L = int(self.train.lengths[rows].max())  # trim the padding
            out.append(
                _tensors(self.train.x[rows, :L], self.train.target[rows, :L])
            )
        return out

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        result = {}
        for name, data in (("train", self.train), ("test", self.test)):
            ok = np.zeros(len(data.x), dtype=bool)
            order = np.argsort(
                data.lengths
            )  # similar lengths together: little padding
            for rows in np.array_split(order, 4):
                L = int(data.lengths[rows].max())
                scores = model(torch.from_numpy(data.x[rows, :L])).numpy()
                ok[rows] = reber_correct(
                    scores, data.legal[rows, :L], data.lengths[rows]
                )
            result[name] = ok
        x, target = _tensors(self.test.x, self.test.target)
        both = np.concatenate([result["train"], result["test"]])
        return {
            **self.facts,
            # Success needs every string of both sets; accuracy is the share that are right.
            "accuracy": float(both.mean()),
            "test_accuracy": float(result["test"].mean()),
            "error": float(1.0 - both.mean()),
            "loss": float(self.loss(model, (x, target))),
        }


def reber_facts(train: Sequence[str], test: Sequence[str]) -> dict[str, int]:
    """What a Reber run's data holds: distinct strings in each set, strings the two share,
    and the longest lag the test set asks to bridge (from the second symbol to the
    second-to-last: the length of the inner string plus one)."""
    for name, strings in (("train", train), ("test", test)):
        checks.sequence(name, strings)
        for k, string in enumerate(strings):
            checks.string(f"{name}[{k}]", string)
    return {
        "train_distinct": len(set(train)),
        "test_distinct": len(set(test)),
        "shared": len(set(train) & set(test)),
        "test_longest_lag": max(len(s) for s in test) - 3,
    }


_TASK_CLASSES = {"adding": _Adding, "copy": _Copy, "reber": _Reber}


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the ``with`` block: the matrices here are small, so a
    second thread gains little on a shared machine, and the numbers would depend on the
    thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_on_task(
    config: Mapping[str, Any], log: Callable[[str], None] | None = None
) -> dict:
    """Train the model of ``config`` (see :func:`run_config`) until it solves its task.

    Training sequences come in chunks of ``eval_every`` (for Reber: one pass over the
    training strings); each chunk is one call of :func:`lstm_tutorial.training.fit` (Adam,
    gradient-norm clipping), followed by the success check on held-out data. Training stops
    when the check passes or after ``max_sequences``. Returns plain data:

    - ``solved`` (bool), ``sequences`` (training sequences seen when the check first
      passed, or all of them when it never did), ``trained`` (all training sequences seen),
      ``diverged`` (the loss became NaN or infinite);
    - with ``strict_n_val`` set (adding, copy): training goes on after the check passes
      until every sequence of a second held-out set of that size is right (a stand-in for
      the 1997 paper's rule, which stopped when all of the last 2,000 training sequences
      were right), giving ``strict_solved``, ``strict_sequences`` and ``strict_accuracy``;
    - ``accuracy`` (the share of held-out sequences processed correctly), ``error`` (adding:
      mean absolute error; copy: share of wrong symbols; Reber: share of wrong strings),
      ``loss`` (held-out loss), for Reber also ``test_accuracy``;
    - ``curve``: ``[sequences, accuracy]`` after every chunk; ``parameters`` (of the
      recurrent layer, the part whose size the models share); ``seconds``
      (training time) and ``seconds_per_1000`` (per 1000 training sequences).
    Runs torch on one thread (:func:`one_thread`).
    """
    config = check_run_config(config)
    checks.optional(checks.function, "log", log)
    with one_thread():
        task = _TASK_CLASSES[config["task"]](config)
        model = build_model(config)
        optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
        rng = np.random.default_rng(config["seed"])
        B = config["batch_size"]
        per_chunk = max(1, config["eval_every"] // B)
        seen, curve, diverged, solved, solved_at = 0, [], False, False, None
        strict_at = None
        metrics: dict[str, float] = {}
        start = time.perf_counter()
        while seen < config["max_sequences"]:
            batches = task.batches(rng, per_chunk, B)
            try:
                fit(
                    model,
                    batches,
                    loss=task.loss,
                    epochs=1,
                    optimizer=optimizer,
                    clip_norm=config["clip_norm"],
                    device="cpu",
                    seed=None,
                    diverge_factor=None,
                    log=None,
                )
            except TrainingDiverged:
                diverged = True
                break
            seen += sum(len(batch[0]) for batch in batches)
            with torch.no_grad():
                metrics = task.evaluate(model.eval())
            curve.append([seen, metrics["accuracy"]])
            if log is not None:
                log(
                    f"  {seen:>7} sequences  accuracy {metrics['accuracy']:.3f}"
                )
            if not solved and metrics["accuracy"] >= config["threshold"]:
                solved, solved_at = True, seen
            if (
                solved and task.strict is not None
            ):  # the stricter rule: all right
                with torch.no_grad():
                    metrics["strict_accuracy"] = task.strict_accuracy(
                        model.eval()
                    )
                if metrics["strict_accuracy"] == 1.0:
                    strict_at = seen
            if solved and (task.strict is None or strict_at is not None):
                break
        seconds = time.perf_counter() - start
        if not metrics:  # diverged in the first chunk
            metrics = {
                "accuracy": 0.0,
                "error": float("nan"),
                "loss": float("nan"),
            }
        strict = {}
        if task.strict is not None:
            strict = {
                "strict_solved": strict_at is not None,
                "strict_sequences": seen if strict_at is None else strict_at,
            }
        return {
            "solved": solved,
            "sequences": seen if solved_at is None else solved_at,
            "trained": seen,
            "diverged": diverged,
            **strict,
            **metrics,
            "curve": curve,
            "parameters": count_parameters(model.recurrent),
            "seconds": seconds,
            "seconds_per_1000": 1000 * seconds / max(seen, 1),
        }


# ------------------------------------------------------------------------- the stories

#: Default settings of a word-LM run on the puppy stories (:func:`train_on_stories`).
STORY_DEFAULTS: dict[str, Any] = {
    "embed_size": 32,
    "hidden_size": 64,
    "lr": 1e-2,
    "batch_size": 32,
    "epochs": 3,
    "train_stories": 1000,
    "test_stories": 500,
    "max_distance": 24,
    "clip_norm": 1.0,
    "data_seed": 1,
    "version": 2,
}


def story_config(model: str, seed: int = 0, **settings: Any) -> dict:
    """A complete config for :func:`train_on_stories`: :data:`STORY_DEFAULTS` and
    ``settings``. ``model`` is "lstm", "gru", "rnn" or a name of :data:`VARIANTS`. Every
    value is checked (:func:`check_story_config`)."""
    checks.choice("model", model, MODELS)
    checks.seed("seed", seed)
    checks.no_unknown_keys("settings", settings, STORY_DEFAULTS)
    config = {
        "task": "stories",
        "model": model,
        "T": None,
        "seed": seed,
    } | STORY_DEFAULTS
    return check_story_config(config | settings)


#: How each setting of a story config is checked (:func:`check_story_config`).
STORY_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "embed_size": checks.positive_int,
    "hidden_size": checks.positive_int,
    "lr": checks.positive_number,
    "batch_size": checks.positive_int,
    "epochs": checks.positive_int,
    "train_stories": checks.positive_int,
    "test_stories": checks.positive_int,
    "max_distance": checks.count,
    "clip_norm": _optional_positive,
    "data_seed": checks.seed,
    "version": checks.positive_int,
}


def check_story_config(config: Any) -> dict:
    """Check a whole story config (see :func:`story_config`) before anything is trained."""
    checks.mapping("config", config)
    config = dict(config)
    keys = ("task", "model", "T", "seed", *STORY_DEFAULTS)
    checks.no_unknown_keys("config", config, keys)
    missing = sorted(set(keys) - set(config))
    if missing:
        raise ValueError(
            f"config lacks the settings {missing}: build it with story_config"
        )
    checks.choice("config['task']", config["task"], ("stories",))
    checks.choice("config['model']", config["model"], MODELS)
    if config["T"] is not None:
        raise ValueError(
            f"config['T'] must be None for the stories, got {config['T']!r}"
        )
    checks.seed("config['seed']", config["seed"])
    for name, check in STORY_CHECKS.items():
        check(f"config[{name!r}]", config[name])
    from lstm_tutorial.stories import DEFAULT_VOCAB

    if config["max_distance"] > DEFAULT_VOCAB.max_distance:
        raise ValueError(
            f"config['max_distance'] must be at most {DEFAULT_VOCAB.max_distance} (the "
            f"stories' filler words), got {config['max_distance']}"
        )
    return config


class StoryLM(nn.Module):
    """Embedding -> any recurrent layer of :func:`make_recurrent` -> Linear, called like
    :class:`lstm_tutorial.word_lm.WordLM`: ids int64 (B, T) -> logits (B, T, V), state."""

    def __init__(
        self, vocab_size: int, recurrent: nn.Module, embed_size: int
    ) -> None:
        super().__init__()
        checks.positive_int("vocab_size", vocab_size)
        checks.positive_int("embed_size", embed_size)
        checks.instance(
            "recurrent",
            recurrent,
            nn.Module,
            "a recurrent layer (make_recurrent)",
        )
        if not getattr(recurrent, "batch_first", False):
            raise ValueError("recurrent must be built with batch_first=True")
        if getattr(recurrent, "input_size", embed_size) != embed_size:
            raise ValueError(
                f"recurrent reads inputs of size {recurrent.input_size}, but embed_size is "
                f"{embed_size}"
            )
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.recurrent = recurrent
        self.decoder = nn.Linear(recurrent.hidden_size, vocab_size)

    def forward(
        self, ids: torch.Tensor, state=None
    ) -> tuple[torch.Tensor, Any]:
        checks.id_tensor(
            "ids", ids, self.embedding.num_embeddings
        )  # not wrapped, not deep
        h, state = self.recurrent(self.embedding(ids), state)  # (B, T, H)
        return self.decoder(h), state  # (B, T, V)


def train_on_stories(config: Mapping[str, Any]) -> dict:
    """Train a small word LM with the recurrent layer ``config["model"]`` on the puppy
    stories (:mod:`lstm_tutorial.stories`) for ``epochs`` passes, then test it on fresh
    stories with distances 0..``max_distance``. Returns plain data: ``loss`` (mean
    cross-entropy per word on the test stories), ``accuracy`` (agreement: the verb form
    that agrees scores higher), ``recall`` (the name is the top pet name), ``parameters``
    (of the recurrent layer), ``seconds_per_epoch``. Runs torch on one thread.
    """
    from lstm_tutorial.stories import generate_stories
    from lstm_tutorial.word_lm import (
        WordVocab,
        encode_stories,
        lm_loss,
        perplexity,
        score_probes,
        story_batches,
    )

    config = check_story_config(config)
    with one_thread():
        vocab = WordVocab.from_story_vocab()
        distances = range(config["max_distance"] + 1)
        rng = np.random.default_rng(config["data_seed"])
        train = encode_stories(
            generate_stories(config["train_stories"], distances, seed=rng),
            vocab,
        )
        test = generate_stories(config["test_stories"], distances, seed=rng)
        kind, E, H = (
            config["model"],
            config["embed_size"],
            config["hidden_size"],
        )
        switches: dict[str, Any] = {}
        if kind in VARIANTS:
            kind, switches = "variant", VARIANTS[kind]
        if kind != "lstm":  # as many weights as the LSTM of size H
            reference = count_parameters(make_recurrent("lstm", E, H))
            H = matching_hidden_size(kind, E, reference, **switches)
        torch.manual_seed(config["seed"])
        model = StoryLM(vocab.size, make_recurrent(kind, E, H, **switches), E)
        history = fit(
            model,
            lambda epoch: story_batches(train, config["batch_size"]),
            loss=lm_loss,
            epochs=config["epochs"],
            lr=config["lr"],
            clip_norm=config["clip_norm"],
            device="cpu",
            seed=config["seed"],
            log=None,
        )
        scores = score_probes(model, vocab, test)
        return {
            "loss": float(
                np.log(perplexity(model, encode_stories(test, vocab)))
            ),
            "accuracy": float(scores["agreement"].mean()),
            "recall": float(scores["recall"].mean()),
            "parameters": count_parameters(model.recurrent),
            "seconds_per_epoch": float(np.mean(history.seconds)),
        }


# -------------------------------------------------------------------------------- sweeps


#: Version of the cached run files (2: with a digest of config and metrics).
CACHE_FORMAT = 2


def _record(
    config: Mapping[str, Any], metrics: Mapping[str, Any], run: str
) -> dict[str, Any]:
    """What a cache file holds: the run function's name, the config, the metrics, the format
    and the digest of the first three."""
    content = {"run": run, "config": config, "metrics": metrics}
    return {"format": CACHE_FORMAT, **content, "digest": digest(content)}


def _plain_configs(
    configs: Sequence[Any], run: Callable[[dict], dict]
) -> list[dict]:
    """Every config as plain JSON data, checked by the run's own rules where it has them
    (:func:`check_run_config`, :func:`check_story_config`), all before the first run."""
    checker = {
        train_on_task: check_run_config,
        train_on_stories: check_story_config,
    }.get(run)
    plain = []
    for k, config in enumerate(configs, 1):
        if not isinstance(config, Mapping):
            raise checks.ArgumentTypeError(
                f"configs[{k - 1}] must be a config dict, got {checks.describe(config)}"
            )
        try:
            config = json.loads(
                json.dumps(dict(config), sort_keys=True, allow_nan=False)
            )
        except TypeError as err:  # an object JSON cannot write
            raise checks.ArgumentTypeError(
                f"configs[{k - 1}] must hold only JSON data: {err}"
            ) from None
        except ValueError as err:  # NaN or inf
            raise ValueError(
                f"configs[{k - 1}] must hold only JSON data: {err}"
            ) from None
        plain.append(config if checker is None else checker(config))
    return plain


def _read_json(
    path: Path,
    config: Mapping[str, Any],
    log: Callable[[str], None] | None = None,
    run: str | None = None,
) -> dict | None:
    """The cached metrics of ``config`` at ``path``; None if there is no such file. A file
    that is unreadable, damaged, of an older format or of another config is reported in one
    line (:func:`lstm_tutorial.store.cache_problem`) and also gives None: the run is redone."""
    if not path.exists():
        return None
    try:
        stored = json.loads(read_bytes(path).decode("utf-8"))
        if not isinstance(stored, dict) or stored.get("format") != CACHE_FORMAT:
            found = stored.get("format") if isinstance(stored, dict) else None
            raise CorruptFile(
                f"{path} is not a run record of format {CACHE_FORMAT} ({found!r})"
            )
        if not isinstance(stored.get("metrics"), dict):
            raise CorruptFile(f"{path} holds no metrics")
        content = {k: stored.get(k) for k in ("run", "config", "metrics")}
        check_digest(path, stored.get("digest"), content)
        if stored["config"] != config or (
            run is not None and stored["run"] != run
        ):
            raise CorruptFile(
                f"{path} holds the result of another config or run function"
            )
    except (
        CorruptFile,
        OSError,
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ) as err:
        cache_problem(path, err, log)
        return None
    return stored["metrics"]


def _check_metrics(metrics: Any, config: Mapping[str, Any]) -> dict:
    """Metrics must be JSON data, and NaN only where the run says it diverged."""
    if not isinstance(metrics, Mapping):
        raise ValueError(
            f"run must return a dict of metrics, got {type(metrics).__name__}"
        )
    metrics = dict(metrics)
    nan = [
        k for k, v in metrics.items() if isinstance(v, float) and math.isnan(v)
    ]
    if nan and not metrics.get("diverged"):
        raise ValueError(
            f"run {describe_run(config)} returned NaN for {nan} without reporting "
            "diverged=True; a NaN metric is not recorded silently"
        )
    return metrics


def describe_run(config: Mapping[str, Any]) -> str:
    """``adding T=100 lstm seed 0``: the short name of a run in progress lines."""
    checks.mapping("config", config)
    parts = [str(config.get("task", "")), str(config.get("model", ""))]
    if config.get("T") is not None:
        parts.insert(1, f"T={config['T']}")
    if "seed" in config:
        parts.append(f"seed {config['seed']}")
    return " ".join(p for p in parts if p)


def _outcome(metrics: Mapping[str, Any]) -> str:
    if "solved" not in metrics or "sequences" not in metrics:
        accuracy = metrics.get("accuracy")
        return "done" if accuracy is None else f"accuracy {accuracy:.3f}"
    verb = "solved after" if metrics["solved"] else "not solved in"
    return f"{verb} {metrics['sequences']:,} seq"


def run_sweep(
    configs: Sequence[Mapping[str, Any]],
    run: Callable[[dict], dict] = train_on_task,
    *,
    cache_dir: str | Path,
    log: Callable[[str], None] | None = print,
    describe: Callable[[Mapping[str, Any]], str] = describe_run,
    skip_harder: bool = False,
) -> list[dict]:
    """Run ``run(config)`` for every config, or read its cached result; return the results.

    Each config must be JSON data. Its result is cached in ``cache_dir`` as
    ``<hash>.json`` (the hash covers the config and the run function's name), written
    atomically, so an interrupted sweep resumes where it stopped and two notebooks never read
    half a file. One progress line per run goes to ``log`` (None for silence), e.g.
    ``[2/6] adding T=100 lstm seed 0: solved after 24,000 seq (6.1 s)``. Returns one dict per
    config, in order: the config, then the metrics, then ``cached`` (True if read from disk).

    ``skip_harder=True`` saves the runs that cannot change a verdict: a config is skipped
    when an earlier config that differs from it only by a smaller ``T`` was not solved (a
    longer lag is only harder). A skipped run is not cached; its result has ``skipped``
    True, ``solved`` False, ``sequences`` 0 and NaN ``accuracy`` and ``error``. List the
    configs with T increasing for the rule to bite.
    """
    checks.sequence("configs (a list of config dicts, see grid)", configs)
    checks.function("run", run)
    cache_dir = checks.path("cache_dir", cache_dir)
    checks.optional(checks.function, "log", log)
    checks.function("describe", describe)
    checks.boolean("skip_harder", skip_harder)
    name = f"{getattr(run, '__module__', '')}.{getattr(run, '__qualname__', repr(run))}"
    configs = _plain_configs(
        configs, run
    )  # every config checked before the first runs
    results = []
    failed_at: dict[
        str, float
    ] = {}  # config without T -> smallest T not solved
    for k, config in enumerate(configs, 1):
        family = json.dumps(
            {n: v for n, v in config.items() if n != "T"}, sort_keys=True
        )
        if (
            skip_harder
            and config.get("T") is not None
            and config["T"] > failed_at.get(family, float("inf"))
        ):
            if log is not None:
                log(
                    f"[{k}/{len(configs)}] {describe(config)}: skipped "
                    f"(not solved at T={failed_at[family]:g})"
                )
            skipped = {
                "skipped": True,
                "solved": False,
                "sequences": 0,
                "curve": [],
            }
            nan = float("nan")
            results.append(
                {
                    **config,
                    **skipped,
                    "accuracy": nan,
                    "error": nan,
                    "cached": False,
                }
            )
            continue
        path = cache_dir / f"{config_key({'run': name, **config})}.json"
        metrics = _read_json(path, config, log, name)
        cached = metrics is not None
        start = time.perf_counter()
        if metrics is None:
            metrics = _check_metrics(run(config), config)
            text = json.dumps(
                _record(config, metrics, name), sort_keys=True, allow_nan=True
            )
            write_cache(
                path,
                lambda handle, text=text: handle.write(text.encode("utf-8")),
            )
        if log is not None:
            took = (
                "cached" if cached else f"{time.perf_counter() - start:.1f} s"
            )
            log(
                f"[{k}/{len(configs)}] {describe(config)}: {_outcome(metrics)} ({took})"
            )
        if metrics.get("solved") is False and config.get("T") is not None:
            failed_at[family] = min(
                failed_at.get(family, float("inf")), config["T"]
            )
        results.append(
            {"skipped": False, **config, **metrics, "cached": cached}
        )
    return results


def _check_results(results: Any, keys: Sequence[str]) -> None:
    """``results`` must be what :func:`run_sweep` returns: a list of dicts with ``keys``."""
    checks.sequence("results (the list run_sweep returns)", results, empty=True)
    for k, r in enumerate(results):
        checks.mapping(f"results[{k}]", r)
        missing = [key for key in keys if key not in r]
        if missing:
            raise ValueError(
                f"results[{k}] lacks {missing}: pass what run_sweep returned"
            )


def largest_solved(
    results: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, str], int | None]:
    """For every (task, model): the largest T at which every seed solved the task, or None
    if none did. Reber runs, which have no T, report 1 for solved and None otherwise."""
    _check_results(results, ("task", "model", "T", "solved"))
    by_key: dict[tuple[str, str], dict[Any, list[bool]]] = {}
    for r in results:
        by_key.setdefault((r["task"], r["model"]), {}).setdefault(
            r["T"], []
        ).append(r["solved"])
    out: dict[tuple[str, str], int | None] = {}
    for key, by_T in by_key.items():
        solved = [
            1 if T is None else T for T, flags in by_T.items() if all(flags)
        ]
        out[key] = max(solved) if solved else None
    return out


# ------------------------------------------------------------------------------ figures

#: Line colours of the models in the figures (the book's colours for the three layers).
MODEL_COLORS = {"lstm": "#386cb0", "gru": "#a6761d", "rnn": "#666666"}


def summarise(results: Sequence[Mapping[str, Any]], task: str) -> list[dict]:
    """One row per (model, T) of ``task``: seeds, success rate (skipped runs count as not
    solved), runs skipped, mean final accuracy and error of the runs that ran (NaN if none),
    and the median number of training sequences of the solved runs (None if none)."""
    _check_results(
        results,
        ("task", "model", "T", "solved", "sequences", "accuracy", "error"),
    )
    checks.string("task", task)
    rows: dict[tuple[str, Any], list[Mapping[str, Any]]] = {}
    for r in results:
        if r["task"] == task:
            rows.setdefault((r["model"], r["T"]), []).append(r)
    out = []
    for (model, T), runs in rows.items():
        solved = [r["sequences"] for r in runs if r["solved"]]
        ran = [r for r in runs if not r.get("skipped")]
        out.append(
            {
                "model": model,
                "T": T,
                "seeds": len(runs),
                "success": len(solved) / len(runs),
                "skipped": len(runs) - len(ran),
                "accuracy": float(np.mean([r["accuracy"] for r in ran]))
                if ran
                else math.nan,
                "error": float(np.mean([r["error"] for r in ran]))
                if ran
                else math.nan,
                "sequences": float(np.median(solved)) if solved else None,
            }
        )
    return out


def plot_against_T(results: Sequence[Mapping[str, Any]], task: str, axes=None):
    """Two panels for ``task``: the success rate (share of seeds solved) and the mean final
    error on held-out data, each against T, one line per model. Runs skipped by
    ``run_sweep(..., skip_harder=True)`` count as failures and are drawn as hollow markers.
    Returns the two Axes."""
    import matplotlib.pyplot as plt

    _check_results(
        results,
        ("task", "model", "T", "solved", "sequences", "accuracy", "error"),
    )

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(7.0, 3.2))
    rows = summarise(results, task)
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = sorted(
            (r for r in rows if r["model"] == model), key=lambda r: r["T"]
        )
        T = [r["T"] for r in mine]
        style = {
            "color": MODEL_COLORS.get(model),
            "marker": "o",
            "label": model.upper(),
        }
        axes[0].plot(T, [r["success"] for r in mine], **style)
        axes[1].plot(T, [r["error"] for r in mine], **style)
        skipped = [r for r in mine if r["skipped"] == r["seeds"]]
        if skipped:  # not run: drawn hollow
            axes[0].plot(
                [r["T"] for r in skipped],
                [r["success"] for r in skipped],
                ls="none",
                marker="o",
                ms=9,
                mfc="white",
                color=MODEL_COLORS.get(model),
            )
    from matplotlib.ticker import (
        FixedLocator,
        FormatStrFormatter,
        NullFormatter,
    )

    axes[0].set(
        xlabel="sequence length T", ylabel="success rate (share of seeds)"
    )
    axes[0].set_ylim(-0.05, 1.05)
    axes[1].set(
        xlabel="sequence length T",
        ylabel="mean error, held-out data",
        yscale="log",
    )
    axes[1].yaxis.set_major_locator(
        FixedLocator([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5])
    )
    axes[1].yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes[1].yaxis.set_minor_formatter(NullFormatter())
    Ts = sorted({r["T"] for r in rows})
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(Ts))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    axes[0].legend()
    return axes


def plot_curves(
    results: Sequence[Mapping[str, Any]],
    ax=None,
    *,
    threshold: float | None = None,
):
    """Learning curves: share of held-out sequences correct against training sequences, one
    line per run (seeds of a model share a colour). Returns the Axes."""
    import matplotlib.pyplot as plt

    _check_results(results, ("model", "curve"))
    checks.optional(checks.fraction, "threshold", threshold)
    if ax is None:
        _, ax = plt.subplots()
    labelled = set()
    for r in results:
        curve = np.asarray(r["curve"], dtype=float).reshape(-1, 2)
        label = None if r["model"] in labelled else r["model"].upper()
        labelled.add(r["model"])
        ax.plot(
            curve[:, 0],
            curve[:, 1],
            color=MODEL_COLORS.get(r["model"]),
            label=label,
            lw=1.6,
        )
    if threshold is not None:
        ax.axhline(threshold, color="black", ls=":", lw=1)
    ax.set(xlabel="training sequences", ylabel="share correct (held out)")
    ax.set_ylim(-0.03, 1.03)
    return ax
