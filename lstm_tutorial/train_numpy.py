"""Training the NumPy character language model: truncated BPTT, Adam, clipping, checkpoints.

``train(config)`` is the whole recipe:

1. read the text (CPython's pydoc topics, or any UTF-8 file: ``config.text_path``), build
   the vocabulary and split it into a training head and a validation tail;
2. cut the training text into ``batch_size`` streams and walk along them ``seq_len``
   characters at a time (``chardata.bptt_batches``, full batches only: each stream's ragged
   end is left out of training, and the first progress line says how much). The state
   (h, c) at the end of one batch is the initial state of the next: the model reads each
   stream as one long text, but the gradient stops at the batch boundary (truncated BPTT).
   The inputs are the true characters of the text, never the model's own guesses (teacher
   forcing);
3. at every step: loss and gradients (``CharLM.loss_and_grads``), gradient clipping by
   global norm (``bptt.clip_grad_norm``), one Adam update (``optim.Adam``);
4. every ``eval_every`` steps, one plain-text progress line (training and validation bits
   per character, characters per second); every ``sample_every`` steps, a short sample.
   Evaluation reads every character of the validation text (``evaluate``);
5. if the loss becomes non-finite or jumps far above the best loss so far, training stops
   with ``TrainingDiverged``, which says what to try, instead of carrying NaNs along.

Checkpoints are ``.npz`` files written with NumPy only (no pickle): the weights, the
optimizer's state, the configuration as JSON, the vocabulary and the training history.
``train_or_load`` trains once and caches the result, so that several notebooks can share
one trained model, in any order, with the same result either way.

Checks (``lstm_tutorial.checks``): ``TrainConfig`` checks every field when it is made, and
``train`` checks the data the config implies (enough text for one batch, a sample prompt
made of the text's characters) before the first step; ``evaluate``, ``train_or_load``,
``save_checkpoint`` and ``load_checkpoint`` check their arguments. ``train_step`` and
``check_divergence``, the steps the chapter shows, trust ``train``'s checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lstm_tutorial import checks
from lstm_tutorial.bptt import clip_grad_norm
from lstm_tutorial.chardata import (
    CharVocab,
    bptt_batches,
    dropped_characters,
    load_text,
    split,
)
from lstm_tutorial.charlm import MODELS, CharLM, State, bits_per_char
from lstm_tutorial.decoding import sample
from lstm_tutorial.optim import Adam
from lstm_tutorial.store import (
    CorruptFile,
    atomic_write,
    cache_problem,
    sealed_writer,
    unseal,
    write_cache,
)

#: Bumped when training or the file layout changes so that old checkpoints are stale
#: (2: sealed files, see ``lstm_tutorial.store.seal``; 3: the cell is stored, the
#: evaluation reads every character, the history counts the batches of an epoch).
CHECKPOINT_FORMAT = 3


class TrainingDiverged(RuntimeError):
    """Training stopped because the loss became non-finite or exploded."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; the same config gives the same model.

    Model: ``cell`` ("lstm": ``CharLM``; "rnn": ``CharRNN``, a plain tanh RNN),
    ``hidden_size`` H, ``embed_size`` E (None: one-hot input), ``num_layers`` L, ``dtype``
    ("float32" or "float64").
    Data: ``text_path`` (None: the pydoc topics that ship with Python), ``max_chars`` (use
    only the first characters of the text; None: all), ``val_fraction`` (the tail kept for
    validation), ``val_chars`` (evaluate on the first characters of that tail only; None: all).
    Optimisation: ``steps`` updates on batches of ``batch_size`` streams x ``seq_len``
    characters, Adam with learning rate ``lr``, gradients clipped to global norm
    ``max_grad_norm``. Training stops with ``TrainingDiverged`` if a batch's loss exceeds
    ``divergence_factor`` times the best batch loss so far.
    Reporting: a progress line every ``eval_every`` steps; a sample of ``sample_length``
    characters after ``sample_prompt`` every ``sample_every`` steps (0: never).
    """

    cell: str = "lstm"
    hidden_size: int = 128
    embed_size: int | None = 32
    num_layers: int = 1
    dtype: str = "float32"
    text_path: str | None = None
    max_chars: int | None = None
    val_fraction: float = 0.1
    val_chars: int | None = 20_000
    steps: int = 1000
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 3e-3
    max_grad_norm: float = 1.0
    divergence_factor: float = 2.0
    eval_every: int = 100
    sample_every: int = 0
    sample_prompt: str = "The "
    sample_length: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        # Every field at once, before anything is read or trained.
        def optional_positive(name: str, v: Any) -> int | None:
            return checks.optional(checks.positive_int, name, v)

        checks.config_fields(
            self,
            {
                "cell": lambda name, v: checks.choice(name, v, tuple(MODELS)),
                "hidden_size": checks.positive_int,
                "embed_size": optional_positive,
                "num_layers": checks.positive_int,
                "dtype": lambda name, v: checks.choice(
                    name, v, ("float32", "float64")
                ),
                "text_path": lambda name, v: checks.optional(
                    checks.string, name, v
                ),
                "max_chars": optional_positive,
                "val_fraction": lambda name, v: checks.number(
                    name,
                    v,
                    minimum=0.0,
                    maximum=1.0,
                    min_open=True,
                    max_open=True,
                ),
                "val_chars": optional_positive,
                "steps": checks.positive_int,
                "batch_size": checks.positive_int,
                "seq_len": checks.positive_int,
                "lr": checks.positive_number,
                "max_grad_norm": checks.positive_number,
                "divergence_factor": lambda name, v: checks.number(
                    name, v, minimum=1.0, min_open=True
                ),
                "eval_every": checks.positive_int,
                "sample_every": checks.count,
                "sample_prompt": checks.string,
                "sample_length": checks.positive_int,
                "seed": checks.seed,
            },
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            data = json.loads(checks.string("text", text))
        except json.JSONDecodeError as err:
            raise ValueError(f"text is not a JSON config: {err}") from None
        checks.mapping("text (the JSON config)", data)
        fields = [f.name for f in dataclasses.fields(cls)]
        checks.no_unknown_keys("text (the JSON config)", data, fields)
        return cls(**data)


#: The run of the book (Part II, chapters 3 and 4): about 30 s on two cores, and well below
#: the unigram baseline on the pydoc topics. Both chapters share it through ``train_or_load``.
BOOK_CONFIG = TrainConfig(
    hidden_size=128,
    embed_size=32,
    steps=1000,
    batch_size=32,
    seq_len=64,
    lr=6e-3,
    max_grad_norm=1.0,
    eval_every=100,
    sample_every=250,
    sample_prompt="The ",
    sample_length=50,
    seed=0,
)


@dataclass
class History:
    """What happened during training.

    Per progress line (every ``eval_every`` steps, and at step 0): ``step``, ``chars``
    (training characters seen), ``train_bpc`` (mean over the steps since the previous line;
    NaN at step 0) and ``val_bpc``. Per step: ``loss`` (nats) and ``grad_norm`` (before
    clipping). ``samples``: (step, text) pairs. ``seconds``: the training time.
    ``batches_per_epoch``: the full batches of one pass over the training text.
    """

    step: list[int] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    train_bpc: list[float] = field(default_factory=list)
    val_bpc: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    samples: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    batches_per_epoch: int = 0

    @property
    def epochs(self) -> float:
        """The passes over the training text made so far (steps / batches per epoch)."""
        return (
            len(self.loss) / self.batches_per_epoch
            if self.batches_per_epoch
            else 0.0
        )


@dataclass
class TrainResult:
    """A trained model with everything needed to use it, continue training it or save it."""

    model: CharLM
    vocab: CharVocab
    config: TrainConfig
    history: History
    optimizer: Adam | None = None


# ---------------------------------------------------------------------------------------------
# Data and evaluation
# ---------------------------------------------------------------------------------------------


def training_text(config: TrainConfig) -> str:
    """The text a config trains on: ``load_text(config.text_path)``, cut to ``max_chars``."""
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    text = load_text(config.text_path)
    if config.max_chars is not None:
        text = text[: config.max_chars]
    return text


def prepare_data(
    config: TrainConfig,
) -> tuple[CharVocab, NDArray[np.int64], NDArray[np.int64]]:
    """The vocabulary, the training ids and the validation ids (int64, 1-D) of a config.

    Raises ValueError if the text is too short for one training batch of the config or
    leaves no validation text, or if ``sample_prompt`` holds a character the text lacks:
    all before any training."""
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    text = training_text(config)
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), config.val_fraction)
    if config.val_chars is not None:
        val_ids = val_ids[: config.val_chars]
    B, T = config.batch_size, config.seq_len
    for part, part_ids in (("training", train_ids), ("validation", val_ids)):
        if len(part_ids) < B * T + 1:
            raise ValueError(
                f"the {part} text has {len(part_ids)} characters, too few for one batch of "
                f"batch_size={B} streams x seq_len={T} (at least {B * T + 1}): use more "
                "text (max_chars, val_fraction, val_chars) or smaller batches"
            )
    if config.sample_every:
        missing = sorted(set(config.sample_prompt) - set(vocab.chars))
        if missing:
            raise ValueError(
                f"sample_prompt {config.sample_prompt!r} holds characters the text lacks: {missing}"
            )
    return vocab, train_ids, val_ids


def evaluate(
    model: CharLM,
    ids: NDArray[np.integer],
    batch_size: int,
    seq_len: int,
) -> float:
    """Mean cross-entropy (nats per character) of ``model`` on ``ids``.

    No gradients. The text is read as ``batch_size`` streams with the
    state carried from batch to batch, as in training, so each character
    after the first batch is predicted with all of its stream's past.
    Every character after the first is predicted once: the ragged ends
    of the streams too, and the few characters after the last stream
    (``bptt_batches`` with ``drop_last=False``), so the result does not
    depend on ``seq_len`` beyond rounding.
    """
    checks.instance("model", model, CharLM, "a CharLM")
    checks.ids("ids", ids, model.vocab_size, ndim=1, lists=False)
    checks.positive_int("batch_size", batch_size)
    checks.positive_int("seq_len", seq_len)
    if len(ids) < batch_size * seq_len + 1:
        raise ValueError(
            f"ids has {len(ids)} characters, too few for one batch of batch_size={batch_size} "
            f"x seq_len={seq_len} (at least {batch_size * seq_len + 1})"
        )
    total, count, state = 0.0, 0, None
    width = batch_size  # the number of streams the state holds
    for inputs, targets in bptt_batches(ids, batch_size, seq_len):
        if state is not None and inputs.shape[1] < width:
            # the characters after the streams continue the last stream
            state = model.select_state(state, np.array([width - 1]))
            width = 1
        loss, state = model.loss(inputs, targets, state)
        total += loss * targets.size
        count += targets.size
    return total / count


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def check_divergence(
    loss: float,
    best: float,
    step: int,
    config: TrainConfig,
    grads: dict[str, Any],
) -> None:
    """Raise ``TrainingDiverged`` if the loss or a gradient is not finite,
    or if the loss exceeds ``config.divergence_factor`` x the best so far.
    """
    where = f"training diverged at step {step}"
    advice = (
        f"try a smaller learning rate (lr is {config.lr:g}) or stronger "
        f"gradient clipping (a smaller max_grad_norm; it is "
        f"{config.max_grad_norm:g})"
    )
    factor = config.divergence_factor
    if not math.isfinite(loss):
        raise TrainingDiverged(f"{where}: the loss is {loss}; {advice}")
    if loss > factor * best:
        raise TrainingDiverged(
            f"{where}: the loss jumped to {loss:.3g} nats, more than "
            f"{factor:g} x the best so far ({best:.3g}); {advice}"
        )
    for name, g in grads.items():
        if not np.isfinite(g).all():
            bad = f"the gradient of {name} holds nan or inf"
            raise TrainingDiverged(f"{where}: {bad}; {advice}")


def train_step(
    model: CharLM,
    optimizer: Adam,
    inputs: NDArray[np.integer],
    targets: NDArray[np.integer],
    state: State | None,
    config: TrainConfig,
    step: int,
    best: float,
) -> tuple[float, float, State]:
    """One update on one batch.

    inputs, targets: (T, B) int; state: (h, c), each (L, B, H), or None.
    Returns the loss (nats, before the update), the gradients' global
    norm before clipping, and the final state, the next batch's start.
    """
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    check_divergence(loss, best, step, config, grads)
    grad_norm = clip_grad_norm(grads, config.max_grad_norm)
    optimizer.step(grads)
    _check_finite_weights(model, step, config)  # an update can break it
    return loss, grad_norm, state


def progress_line(
    step: int,
    steps: int,
    chars: int,
    train_bpc: float,
    val_bpc: float,
    speed: float,
) -> str:
    """One line of training progress, at most 76 characters."""
    for name, value in (("step", step), ("steps", steps), ("chars", chars)):
        checks.count(name, value)
    if not (
        isinstance(train_bpc, float) and math.isnan(train_bpc)
    ):  # NaN: no step yet
        checks.number("train_bpc", train_bpc)
    checks.number("val_bpc", val_bpc)
    checks.number("speed", speed, minimum=0.0)
    train = "  -- " if math.isnan(train_bpc) else f"{train_bpc:5.2f}"
    return (
        f"step {step:>5}/{steps}  {chars:>10,} chars  train {train}  val {val_bpc:4.2f}"
        f" bpc  {speed:>6,.0f} ch/s"
    )


def train(
    config: TrainConfig,
    *,
    log: Callable[[str], None] | None = print,
) -> TrainResult:
    """Train the model ``config`` describes (a ``CharLM``, or a ``CharRNN``
    for cell "rnn"); print progress with ``log`` (None: silent). Raises
    ``TrainingDiverged`` if the loss explodes.

    Deterministic: the same config gives the same model (up to the last
    bits of float32 rounding, which can depend on the number of threads
    of NumPy's BLAS).
    """
    checks.optional(checks.function, "log", log)
    vocab, train_ids, val_ids = prepare_data(config)
    model = MODELS[config.cell](  # CharLM, or CharRNN for "rnn"
        vocab.size,
        config.embed_size,
        config.hidden_size,
        config.num_layers,
        dtype=np.dtype(config.dtype),
        seed=config.seed,
    )
    optimizer = Adam(model.parameters(), lr=config.lr)
    monitor = Monitor(model, vocab, val_ids, config, log, len(train_ids))
    B, T = config.batch_size, config.seq_len
    step, best = 0, math.inf
    while step < config.steps:
        state = None  # every epoch starts each stream from zeros
        # full batches only: every update averages B * T positions
        for inputs, targets in bptt_batches(train_ids, B, T, drop_last=True):
            step += 1
            loss, grad_norm, state = train_step(
                model, optimizer, inputs, targets, state, config, step, best
            )  # the final state is the next batch's initial state
            best = min(best, loss)
            monitor.record(step, loss, grad_norm)
            if step == config.steps:
                break
    return TrainResult(model, vocab, config, monitor.history, optimizer)


def _check_finite_weights(
    model: CharLM, step: int, config: TrainConfig
) -> None:
    """Raise ``TrainingDiverged`` if an update left NaN or inf in the weights: the last
    update can break a model whose loss and gradients were finite just before it."""
    for name, value in model.parameters().items():
        if not np.isfinite(value).all():
            raise TrainingDiverged(
                f"training diverged at step {step}: after the update the parameter {name} "
                f"holds NaN or inf; try a smaller learning rate (lr is {config.lr:g}) or "
                "stronger gradient clipping"
            )


class Monitor:
    """Keeps the ``History`` of a run and prints its progress lines and samples.

    It first prints how the training text is cut (``train_chars`` characters): batches per
    epoch, the characters an epoch leaves out, the number of epochs the steps make.
    ``record`` is called after every step. Every ``config.eval_every`` steps (and at the
    last) it evaluates on the validation text and prints a ``progress_line``; every
    ``config.sample_every`` steps it prints a short sample. The speed counts only the time
    between ``record`` calls, not the evaluations and samples.
    """

    def __init__(
        self,
        model: CharLM,
        vocab: CharVocab,
        val_ids: NDArray[np.int64],
        config: TrainConfig,
        log: Callable[[str], None] | None,
        train_chars: int,
    ) -> None:
        self.model, self.vocab, self.val_ids, self.config = (
            model,
            vocab,
            val_ids,
            config,
        )
        self.say = log if log is not None else (lambda line: None)
        B, T = config.batch_size, config.seq_len
        batches = (train_chars - 1) // B // T
        self.history = History(batches_per_epoch=batches)
        left_out = dropped_characters(train_chars, B, T)
        targets = train_chars - 1
        self.say(
            f"one epoch = {batches:,} batches of {B} streams x {T} characters;"
        )
        self.say(
            f"it leaves out {left_out:,} of the {targets:,} training targets"
        )
        self.say(
            f"{config.steps:,} steps = {config.steps / batches:.2f} epochs"
        )
        self.rng = np.random.default_rng(config.seed + 1)  # for samples only
        self.losses: list[float] = []  # since the last progress line
        self.seconds = 0.0
        self.report(0)
        self.clock = time.perf_counter()

    def record(self, step: int, loss: float, grad_norm: float) -> None:
        self.seconds += time.perf_counter() - self.clock
        self.history.loss.append(loss)
        self.history.grad_norm.append(grad_norm)
        self.losses.append(loss)
        config = self.config
        if step % config.eval_every == 0 or step == config.steps:
            self.report(step)
        if config.sample_every and step % config.sample_every == 0:
            text = generate_sample(self.model, self.vocab, config, self.rng)
            self.history.samples.append((step, text))
            self.say(f"  sample: {text!r}")
        self.clock = time.perf_counter()

    def report(self, step: int) -> None:
        config, history = self.config, self.history
        B, T = config.batch_size, config.seq_len
        val = bits_per_char(evaluate(self.model, self.val_ids, B, T))
        if not math.isfinite(val):
            raise TrainingDiverged(
                f"training diverged by step {step}: the validation loss is {val}; try a "
                f"smaller learning rate (lr is {config.lr:g}) or stronger gradient clipping"
            )
        train = (
            bits_per_char(float(np.mean(self.losses)))
            if self.losses
            else math.nan
        )
        speed = (
            len(self.losses) * B * T / self.seconds if self.seconds > 0 else 0.0
        )
        history.step.append(step)
        history.chars.append(step * B * T)
        history.train_bpc.append(train)
        history.val_bpc.append(val)
        history.seconds += self.seconds
        self.say(
            progress_line(step, config.steps, step * B * T, train, val, speed)
        )
        self.losses, self.seconds = [], 0.0


def generate_sample(
    model: CharLM,
    vocab: CharVocab,
    config: TrainConfig,
    rng: np.random.Generator,
) -> str:
    """A short sample (temperature 0.8) after ``config.sample_prompt``, prompt included."""
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    checks.rng("rng", rng)
    missing = sorted(set(config.sample_prompt) - set(vocab.chars))
    if missing:
        raise ValueError(
            f"config.sample_prompt holds characters the vocabulary lacks: {missing}"
        )
    prompt_ids = vocab.encode(config.sample_prompt)
    ids = sample(
        model, prompt_ids, config.sample_length, rng=rng, temperature=0.8
    )
    return config.sample_prompt + vocab.decode(ids)


# ---------------------------------------------------------------------------------------------
# Checkpoints: .npz files, no pickle
# ---------------------------------------------------------------------------------------------


def text_fingerprint(config: TrainConfig) -> str:
    """SHA-256 of the training text, so that a cached model of another text is not reused."""
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    return hashlib.sha256(training_text(config).encode("utf-8")).hexdigest()


def _checkpoint_arrays(result: TrainResult) -> dict[str, np.ndarray]:
    """Everything a checkpoint stores, as named arrays."""
    history = result.history
    arrays: dict[str, np.ndarray] = {
        "format": np.array(CHECKPOINT_FORMAT),
        "config": np.array(result.config.to_json()),
        "model_config": np.array(json.dumps(result.model.config)),
        "text_sha256": np.array(text_fingerprint(result.config)),
        "vocab": np.array(
            [ord(ch) for ch in result.vocab.chars], dtype=np.int32
        ),
        "history/samples": np.array(json.dumps(history.samples)),
        "history/seconds": np.array(history.seconds),
        "history/batches_per_epoch": np.array(history.batches_per_epoch),
    }
    for name in ("step", "chars", "train_bpc", "val_bpc", "loss", "grad_norm"):
        arrays[f"history/{name}"] = np.array(getattr(history, name))
    arrays |= {f"param/{k}": v for k, v in result.model.parameters().items()}
    if result.optimizer is not None:
        arrays |= {
            f"adam/{k}": v for k, v in result.optimizer.state_dict().items()
        }
    return arrays


def save_checkpoint(path: str | Path, result: TrainResult) -> Path:
    """Write a ``TrainResult`` to ``path`` (.npz), atomically: a reader never sees half a file.

    Stored: the parameters (``param/<name>``), the optimizer state (``adam/<key>``, if any),
    the config and the model's constructor arguments as JSON strings, the vocabulary as
    Unicode code points (int32), the history, the text's fingerprint and a format number.
    The file is a normal ``.npz`` sealed with the SHA-256 of its bytes
    (``lstm_tutorial.store.seal``), which ``load_checkpoint`` verifies.
    """
    path = checks.path("path", path)
    if path.is_dir():
        raise ValueError(f"path must be a file, but {path} is a folder")
    checks.instance("result", result, TrainResult, "a TrainResult")
    checks.instance("result.history", result.history, History, "a History")
    if result.vocab.size != result.model.vocab_size:
        raise ValueError(
            f"result.vocab has {result.vocab.size} characters but the model's vocabulary has "
            f"{result.model.vocab_size}"
        )
    _check_finite_weights(
        result.model,
        result.history.step[-1] if result.history.step else 0,
        result.config,
    )
    arrays = _checkpoint_arrays(result)
    atomic_write(path, sealed_writer(lambda buffer: np.savez(buffer, **arrays)))
    return path


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The verified arrays of the checkpoint at ``path``; ``CorruptFile`` otherwise."""
    data = unseal(path)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
        RuntimeError,
    ) as err:
        reason = (
            str(err).strip().splitlines()[0][:120] if str(err).strip() else ""
        )
        raise CorruptFile(
            f"{path} cannot be read as a checkpoint ({type(err).__name__}: {reason})"
        ) from None
    if "format" not in arrays:
        raise CorruptFile(
            f"{path} is not a checkpoint of this module (it has no format entry)"
        )
    if (
        arrays["format"].shape != ()
        or int(arrays["format"]) != CHECKPOINT_FORMAT
    ):
        raise CorruptFile(
            f"{path} has checkpoint format {arrays['format']}, this version reads format "
            f"{CHECKPOINT_FORMAT} (an older file: delete it, or let train_or_load retrain)"
        )
    return arrays


def load_checkpoint(path: str | Path) -> TrainResult:
    """Read a checkpoint written by ``save_checkpoint`` (with ``allow_pickle=False``).

    Raises FileNotFoundError for a missing file and a ValueError naming the file
    (``lstm_tutorial.store.CorruptFile``) for one that is empty, truncated, damaged (its
    digest does not match), of another format, or holds pickled objects.
    """
    path = checks.path("path", path)
    data = _read_arrays(path)
    try:
        config = TrainConfig.from_json(str(data["config"]))
        model_config = json.loads(str(data["model_config"]))
        model = MODELS[model_config["cell"]](
            model_config["vocab_size"],
            model_config["embed_size"],
            model_config["hidden_size"],
            model_config["num_layers"],
            dtype=np.dtype(model_config["dtype"]),
        )
        model.load_state_dict(
            {k[6:]: data[k] for k in data if k.startswith("param/")}
        )
        vocab = CharVocab(tuple(chr(int(code)) for code in data["vocab"]))
        optimizer = None
        adam_keys = [k for k in data if k.startswith("adam/")]
        if adam_keys:
            optimizer = Adam(model.parameters(), lr=config.lr)
            optimizer.load_state_dict({k[5:]: data[k] for k in adam_keys})
        history = History(
            step=data["history/step"].tolist(),
            chars=data["history/chars"].tolist(),
            train_bpc=data["history/train_bpc"].tolist(),
            val_bpc=data["history/val_bpc"].tolist(),
            loss=data["history/loss"].tolist(),
            grad_norm=data["history/grad_norm"].tolist(),
            samples=[
                (int(s), str(t))
                for s, t in json.loads(str(data["history/samples"]))
            ],
            seconds=float(data["history/seconds"]),
            batches_per_epoch=int(data["history/batches_per_epoch"]),
        )
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as err:
        raise CorruptFile(
            f"{path} is not a valid checkpoint ({type(err).__name__}: {err})"
        ) from None
    if vocab.size != model.vocab_size:
        raise CorruptFile(
            f"{path} holds a vocabulary of {vocab.size} characters for a model of "
            f"{model.vocab_size}"
        )
    return TrainResult(model, vocab, config, history, optimizer)


def _check_cached(path: Path, config: TrainConfig) -> TrainResult:
    """The checkpoint at ``path`` if it holds exactly this config, format and training text;
    ``CorruptFile`` saying why not otherwise."""
    result = load_checkpoint(path)
    if result.config != config:
        raise CorruptFile(f"{path} holds a model trained with another config")
    stored_text = str(_read_arrays(path).get("text_sha256", ""))
    if stored_text != text_fingerprint(config):
        raise CorruptFile(f"{path} holds a model trained on another text")
    return result


def train_or_load(
    config: TrainConfig,
    path: str | Path,
    *,
    log: Callable[[str], None] | None = print,
) -> TrainResult:
    """Load the model trained with ``config`` from ``path`` if it is there, else train and save.

    Training is deterministic, so either way the caller gets the same model. The file is
    written atomically, so notebooks that run at the same time can share one ``path``. A
    file that is damaged, of an older format or of another config is reported in one line
    (through ``log``, or as a warning when ``log`` is None) and replaced by a new run; a
    folder that cannot be written gives a warning, and the trained model is still returned.
    """
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    path = checks.path("path", path)
    checks.optional(checks.function, "log", log)
    if path.exists():
        try:
            result = _check_cached(path, config)
        except (CorruptFile, OSError) as err:
            cache_problem(path, err, log)
        else:
            if log is not None:
                log(
                    f"loaded the model trained for {config.steps} steps from {path.name}"
                )
            return result
    result = train(config, log=log)
    arrays = _checkpoint_arrays(result)
    write_cache(path, sealed_writer(lambda buffer: np.savez(buffer, **arrays)))
    return result
