"""A PyTorch language model for any text, and its training by truncated BPTT.

The model (:class:`TextLM`) reads token ids (B, T) and predicts the next token everywhere::

    ids -> embedding (row dropout) -> locked dropout -> layer 1 -> locked dropout -> ...
        -> layer L -> locked dropout -> decoder (optionally tied to the embedding) -> logits

Each layer is a one-layer ``nn.LSTM``, ``nn.GRU``, ``nn.RNN`` or the book's scratch
``torch_lstm.LSTM`` (:data:`CELLS`), wrapped for DropConnect on its recurrent weights
(:class:`lstm_tutorial.regularize.WeightDrop`). It returns an :class:`LMOutput`: the
logits, the state to carry to the next window, and the last layer's outputs before and
after dropout, which activation regularisation needs.

:func:`fit_lm` trains it on :class:`lstm_tutorial.text.StreamBatches`: the state is carried
from window to window and detached, reset at the start of every epoch and for validation;
the learning rate follows a per-step schedule (:func:`one_cycle`); every epoch records the
validation loss, perplexity and next-token accuracy. :func:`setup` and
:func:`train_text_lm` do it all from a text and an :class:`LMConfig`, which is also what
the command line (:mod:`lstm_tutorial.lm`) builds. The records of the part's experiments
hash this module: its code decides their numbers.

Every public function and class checks its arguments before any work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple

import torch
from torch import nn

from lstm_tutorial import checks, torch_lstm
from lstm_tutorial.regularize import (
    LockedDropout,
    WeightDrop,
    activation_penalty,
    embedding_dropout,
)
from lstm_tutorial.seeding import seed_everything
from lstm_tutorial.text import (
    LEVELS,
    StreamBatches,
    Vocab,
    check_ids,
    split_stream,
    tokenize,
)
from lstm_tutorial.training import (
    History,
    TrainingDiverged,
    _check_finite_parameters,
    _diverged,
)

#: The recurrent layers a :class:`TextLM` can stack, by name.
CELLS: dict[str, type[nn.Module]] = {
    "lstm": nn.LSTM,
    "gru": nn.GRU,
    "rnn": nn.RNN,
    "scratch": torch_lstm.LSTM,
}
#: The learning-rate schedules of :func:`fit_lm`, by name.
SCHEDULES = ("constant", "one-cycle")
#: The dropouts of a :class:`TextLM`, each a probability.
DROPOUTS = (
    "embed_dropout",
    "input_dropout",
    "hidden_dropout",
    "output_dropout",
    "weight_drop",
)


class LMOutput(NamedTuple):
    """What :meth:`TextLM.forward` returns."""

    logits: torch.Tensor  # (B, T, V)
    state: list[Any]  # one per layer: (h, c) for an LSTM, h otherwise
    raw: torch.Tensor  # (B, T, H_L), the last layer's outputs
    dropped: torch.Tensor  # (B, T, H_L), the same after output dropout


def _check_text_lm(vocab_size, cell, layers, embed_size, hidden_size, tie):
    checks.positive_int("vocab_size", vocab_size)
    checks.choice("cell", cell, tuple(CELLS))
    checks.positive_int("num_layers", layers)
    checks.positive_int("embed_size", embed_size)
    checks.positive_int("hidden_size", hidden_size)
    checks.boolean("tie_weights", tie)


class TextLM(nn.Module):
    """Embedding -> ``num_layers`` recurrent layers -> decoder, with AWD-LSTM's dropouts.

    Layer sizes: the first reads ``embed_size`` features, every layer has ``hidden_size``
    units, except the last when ``tie_weights`` is set: it has ``embed_size`` units, so that
    the decoder can use the embedding matrix as its weight (one shared tensor).
    The dropouts (:data:`DROPOUTS`) act in training mode only: ``embed_dropout`` drops
    whole embedding rows, ``input_dropout``, ``hidden_dropout`` and ``output_dropout`` are
    locked masks on the embeddings, between layers and on the last output, ``weight_drop``
    is DropConnect on every layer's hidden-to-hidden weights.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        cell: str = "lstm",
        num_layers: int = 2,
        embed_size: int = 64,
        hidden_size: int = 256,
        tie_weights: bool = False,
        embed_dropout: float = 0.0,
        input_dropout: float = 0.0,
        hidden_dropout: float = 0.0,
        output_dropout: float = 0.0,
        weight_drop: float = 0.0,
    ) -> None:
        super().__init__()
        _check_text_lm(
            vocab_size, cell, num_layers, embed_size, hidden_size, tie_weights
        )
        self.cell, self.num_layers = cell, num_layers
        self.embed_dropout = checks.fraction(
            "embed_dropout", embed_dropout, open_high=True
        )
        self.embedding = nn.Embedding(vocab_size, embed_size)
        sizes = [embed_size] + [hidden_size] * num_layers
        if tie_weights:
            sizes[-1] = embed_size
        self.layers = nn.ModuleList()
        for k in range(num_layers):
            layer = CELLS[cell](sizes[k], sizes[k + 1], batch_first=True)
            self.layers.append(WeightDrop(layer, weight_drop))  # p=0: as is
        self.drop_in = LockedDropout(input_dropout)
        self.drop_between = LockedDropout(hidden_dropout)
        self.drop_out = LockedDropout(output_dropout)
        self.decoder = nn.Linear(sizes[-1], vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # one tensor

    def forward(self, ids: torch.Tensor, state=None) -> LMOutput:
        """ids: int64 (B, T); state: what the last call returned (None: zeros)."""
        self._check_input(ids, state)
        x = embedding_dropout(
            self.embedding, ids, self.embed_dropout, self.training
        )
        x = self.drop_in(x)  # (B, T, E)
        new_state = []
        for k, layer in enumerate(self.layers):
            x, s = layer(x, None if state is None else state[k])
            new_state.append(s)
            if k < self.num_layers - 1:
                x = self.drop_between(x)  # (B, T, H)
        dropped = self.drop_out(x)
        return LMOutput(self.decoder(dropped), new_state, x, dropped)

    def _check_input(self, ids: Any, state: Any) -> None:
        rows = None
        if state is not None:
            checks.sequence("state", state)
            if len(state) != self.num_layers:
                raise ValueError(
                    f"state must hold one entry per layer ({self.num_layers}), "
                    f"got {len(state)}: pass what the last call returned"
                )
            first = state[0][0] if isinstance(state[0], tuple) else state[0]
            checks.tensor("state[0]", first, ndim=3)
            rows = first.shape[1]
        check_ids(
            "ids",
            ids,
            self.embedding.num_embeddings,
            batch_size=rows,
            device=self.embedding.weight.device,
        )


def detach_state(state: Any) -> Any:
    """The same state cut from the graph that made it: tensors, and tuples or lists of
    them, detached. Truncated BPTT calls it between windows."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    if state is None:
        return None
    raise checks.ArgumentTypeError(
        "state must be a tensor, or tuples and lists of tensors, got "
        f"{checks.describe(state)}"
    )


def lm_loss(model: nn.Module, inputs, targets, state=None):
    """Mean next-token cross-entropy of one window (nats per token), the model's
    output, and so the state to carry on."""
    out = model(inputs, state)
    loss = nn.functional.cross_entropy(
        out.logits.flatten(0, 1), targets.flatten()
    )
    return loss, out


@torch.no_grad()
def evaluate(model: nn.Module, batches: StreamBatches) -> dict[str, float]:
    """The model on every window of ``batches``, the state carried from the first:
    loss (nats per token), perplexity, bits per token, next-token accuracy, tokens."""
    checks.instance("model", model, nn.Module, "a TextLM")
    checks.instance("batches", batches, StreamBatches, "a StreamBatches")
    model.eval()
    total, correct, count, state = 0.0, 0, 0, None
    for inputs, targets in batches:
        loss, out = lm_loss(model, inputs, targets, state)
        state = out.state
        total += float(loss) * targets.numel()
        correct += int((out.logits.argmax(-1) == targets).sum())
        count += targets.numel()
    loss = total / count
    return {
        "loss": loss,
        "perplexity": math.exp(loss),
        "bits_per_token": loss / math.log(2),
        "accuracy": correct / count,
        "tokens": count,
    }


def one_cycle(total_steps: int, warmup: float = 0.3) -> Callable[[int], float]:
    """The one-cycle factor of the learning rate at step s = 1..total_steps.

    Up from 1/25 to 1 along a half cosine over the first ``warmup`` share of the steps,
    then down to 1/250000 along another (Smith and Topin 2019): the factors of
    ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults, which a test checks.
    """
    total = checks.positive_int("total_steps", total_steps)
    warmup = checks.fraction("warmup", warmup, open_low=True, open_high=True)
    top = warmup * total - 1  # the step index (from 0) of the peak

    def factor(step: int) -> float:
        k = checks.positive_int("step", step) - 1
        if k <= top:
            start, end, x = 1 / 25, 1.0, k / top if top > 0 else 1.0
        else:
            start, end = 1.0, 1 / 25 / 1e4
            x = (k - top) / (total - 1 - top)
        return end + (start - end) / 2 * (1 + math.cos(math.pi * x))

    return factor


def _schedule(schedule: Any, total_steps: int) -> Callable[[int], float]:
    if callable(schedule):
        return schedule
    checks.choice("schedule", schedule, SCHEDULES)
    return one_cycle(total_steps) if schedule == "one-cycle" else lambda s: 1.0


def _check_fit_lm(model, train, valid, epochs, lr, wd, clip, ar, tar, seed):
    checks.instance("model", model, nn.Module, "a TextLM")
    checks.instance("train", train, StreamBatches, "a StreamBatches")
    checks.optional(
        checks.instance,
        "valid",
        valid,
        kind=StreamBatches,
        expected="a StreamBatches",
    )
    checks.positive_int("epochs", epochs)
    checks.positive_number("lr", lr)
    checks.number("weight_decay", wd, minimum=0.0)
    checks.optional(checks.positive_number, "clip_norm", clip)
    checks.number("ar", ar, minimum=0.0)
    checks.number("tar", tar, minimum=0.0)
    checks.optional(checks.seed, "seed", seed)


def fit_lm(
    model: nn.Module,
    train: StreamBatches,
    *,
    epochs: int,
    lr: float,
    valid: StreamBatches | None = None,
    schedule: str | Callable[[int], float] = "constant",
    weight_decay: float = 0.0,
    clip_norm: float | None = 0.25,
    ar: float = 0.0,
    tar: float = 0.0,
    seed: int | None = 0,
    history: History | None = None,
    log: Callable[[str], None] | None = print,
    progress: bool = False,
) -> History:
    """Train ``model`` with truncated BPTT over the windows of ``train``.

    The state is carried from window to window, detached, and reset to zeros at the start
    of each epoch; validation starts from zeros too. AdamW with ``weight_decay``; the
    learning rate is ``lr`` times ``schedule(step)`` at every step (a name in
    :data:`SCHEDULES` or a function of the step, 1..epochs * len(train)); ``ar`` and
    ``tar`` weigh the activation penalties. Each epoch appends to ``history`` (a new one
    by default): the training loss (cross-entropy alone), the validation loss, the
    validation ``accuracy`` and ``perplexity`` and the ``tokens_per_s``. A loss that is
    not finite or grows past ten times the first stops training with
    :class:`TrainingDiverged`. ``progress`` shows a tqdm bar; ``log`` gets one line per
    epoch.
    """
    _check_fit_lm(
        model, train, valid, epochs, lr, weight_decay, clip_norm, ar, tar, seed
    )
    checks.optional(
        checks.instance, "history", history, kind=History, expected="a History"
    )
    checks.optional(checks.function, "log", log)
    checks.boolean("progress", progress)
    factor = _schedule(schedule, epochs * len(train))
    if seed is not None:
        seed_everything(seed)
    opt = torch.optim.AdamW(
        model.parameters(), lr=lr, weight_decay=weight_decay
    )
    history = History() if history is None else history
    for name in ("accuracy", "perplexity", "tokens_per_s"):
        history.metrics.setdefault(name, [])
    step, first = 0, None
    for epoch in range(1, epochs + 1):
        start, total, state = time.perf_counter(), 0.0, None
        model.train()
        bar = _bar(progress, len(train), epoch, epochs)
        for inputs, targets in train:
            step += 1
            opt.param_groups[0]["lr"] = lr * factor(step)
            loss, out = lm_loss(model, inputs, targets, state)
            value = float(loss.detach())
            first = value if first is None else first
            if not math.isfinite(value) or value > 10 * first:
                raise _diverged(
                    epoch, step, value, first, 10 * first, lr, clip_norm
                )
            penalty = activation_penalty(out.raw, out.dropped, ar, tar)
            opt.zero_grad(set_to_none=True)
            (loss + penalty).backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            opt.step()
            state = detach_state(out.state)
            total += value
            if bar is not None:
                bar.set_postfix(loss=f"{value:.3f}")
                bar.update(1)
        if bar is not None:
            bar.close()
        _check_finite_parameters(model, f"in epoch {epoch}", lr, clip_norm)
        seconds = time.perf_counter() - start
        _record_epoch(
            history,
            model,
            valid,
            total / len(train),
            seconds,
            train.batch_size * train.seq_len * len(train),
        )
        if log is not None:
            log(_epoch_line(history, epoch, epochs))
    model.eval()
    return history


def _record_epoch(history, model, valid, train_loss, seconds, tokens) -> None:
    history.train_loss.append(train_loss)
    history.seconds.append(seconds)
    history.metrics["tokens_per_s"].append(tokens / seconds)
    if valid is not None:
        result = evaluate(model, valid)
        if not math.isfinite(result["loss"]):
            raise TrainingDiverged(
                f"the validation loss is {result['loss']}: training diverged"
            )
        history.val_loss.append(result["loss"])
        history.metrics["accuracy"].append(result["accuracy"])
        history.metrics["perplexity"].append(result["perplexity"])


def _epoch_line(history: History, epoch: int, epochs: int) -> str:
    parts = [f"epoch {epoch}/{epochs}", f"train {history.train_loss[-1]:.3f}"]
    if history.val_loss:
        parts += [
            f"val {history.val_loss[-1]:.3f}",
            f"ppl {history.metrics['perplexity'][-1]:.2f}",
            f"acc {history.metrics['accuracy'][-1]:.3f}",
        ]
    parts.append(f"{history.metrics['tokens_per_s'][-1]:,.0f} tok/s")
    return "  ".join(parts)


def _bar(progress: bool, total: int, epoch: int, epochs: int):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False
    )


# ----------------------------------------------------------------- the whole recipe


@dataclass(frozen=True)
class LMConfig:
    """Everything that decides a trained :class:`TextLM`: data, model, training.

    ``dropout`` sets every one of :data:`DROPOUTS` that is left at None.
    """

    level: str = "char"
    cell: str = "lstm"
    layers: int = 2
    embed_size: int = 64
    hidden_size: int = 256
    tie_weights: bool = False
    dropout: float = 0.1
    embed_dropout: float | None = None
    input_dropout: float | None = None
    hidden_dropout: float | None = None
    output_dropout: float | None = None
    weight_drop: float | None = None
    seq_len: int = 100
    batch_size: int = 32
    epochs: int = 4
    lr: float = 3e-3
    schedule: str = "one-cycle"
    weight_decay: float = 0.01
    clip_norm: float = 0.25
    ar: float = 0.0
    tar: float = 0.0
    min_count: int = 1
    valid_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        checks.choice("level", self.level, LEVELS)
        checks.choice("cell", self.cell, tuple(CELLS))
        for name in (
            "layers",
            "embed_size",
            "hidden_size",
            "seq_len",
            "batch_size",
            "epochs",
            "min_count",
        ):
            checks.positive_int(name, getattr(self, name))
        checks.boolean("tie_weights", self.tie_weights)
        checks.fraction("dropout", self.dropout, open_high=True)
        for name in DROPOUTS:
            checks.optional(
                checks.fraction, name, getattr(self, name), open_high=True
            )
        checks.positive_number("lr", self.lr)
        checks.choice("schedule", self.schedule, SCHEDULES)
        for name in ("weight_decay", "ar", "tar"):
            checks.number(name, getattr(self, name), minimum=0.0)
        checks.positive_number("clip_norm", self.clip_norm)
        checks.fraction(
            "valid_fraction",
            self.valid_fraction,
            open_low=True,
            open_high=True,
        )
        checks.seed("seed", self.seed)

    def dropouts(self) -> dict[str, float]:
        """Each of :data:`DROPOUTS`: its own value, or ``dropout`` where None."""
        return {
            n: self.dropout if getattr(self, n) is None else getattr(self, n)
            for n in DROPOUTS
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMConfig:
        checks.mapping("data", data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"data has unknown config keys {unknown}")
        return cls(**data)


def build_model(config: LMConfig, vocab_size: int) -> TextLM:
    """The :class:`TextLM` that ``config`` describes, for ``vocab_size`` tokens."""
    checks.instance("config", config, LMConfig, "an LMConfig")
    return TextLM(
        vocab_size,
        cell=config.cell,
        num_layers=config.layers,
        embed_size=config.embed_size,
        hidden_size=config.hidden_size,
        tie_weights=config.tie_weights,
        **config.dropouts(),
    )


class Prepared(NamedTuple):
    """A text made ready for training: its vocabulary and its two id streams."""

    vocab: Vocab
    train_ids: torch.Tensor
    valid_ids: torch.Tensor


def prepare(text: str, config: LMConfig) -> Prepared:
    """Tokenize ``text`` at ``config.level``, build the vocabulary from the training
    head only (so validation tokens unseen in training are unknown, as in use), split
    off the last ``valid_fraction`` as validation text."""
    checks.string("text", text)
    checks.instance("config", config, LMConfig, "an LMConfig")
    tokens = tokenize(text, config.level)
    if len(tokens) < 4:
        raise ValueError(
            f"text has {len(tokens)} {config.level} tokens, too few to train on"
        )
    cut = int(round(len(tokens) * (1 - config.valid_fraction)))
    unk = "<unk>" if config.level == "word" or config.min_count > 1 else None
    vocab = Vocab.build(tokens[:cut], min_count=config.min_count, unk=unk)
    if unk is None:
        unseen = sorted(set(tokens[cut:]) - set(vocab.index))
        if unseen:
            vocab = Vocab((*vocab.tokens, *unseen))
    ids = vocab.encode(tokens)
    train_ids, valid_ids = split_stream(ids, config.valid_fraction)
    return Prepared(vocab, train_ids, valid_ids)


def _check_fits(config: LMConfig, prepared: Prepared) -> None:
    need = config.batch_size * config.seq_len + 1
    for name, ids in (
        ("training", prepared.train_ids),
        ("validation", prepared.valid_ids),
    ):
        if len(ids) < need and name == "training":
            raise ValueError(
                f"the {name} text has {len(ids)} tokens, too few for one batch of "
                f"batch_size={config.batch_size} x seq_len={config.seq_len} "
                f"(it needs {need}): use a longer text or smaller batches"
            )
        if name == "validation" and len(ids) < config.batch_size + 1:
            raise ValueError(
                f"the validation text has {len(ids)} tokens, fewer than "
                f"batch_size + 1 = {config.batch_size + 1}: raise valid_fraction"
            )


class Setup(NamedTuple):
    """A model ready to train on a prepared text: :func:`setup` makes it."""

    model: TextLM
    vocab: Vocab
    train: StreamBatches  # full windows only
    valid: StreamBatches  # every validation token


def setup(text: str, config: LMConfig, device=None) -> Setup:
    """Tokens, vocabulary, batches and a freshly seeded model for ``text``.

    The training windows are full (B, T) ones; the validation windows read every
    validation token but the fewer than B that do not fill a stream. A text too short
    for one training batch, or a validation tail shorter than B + 1 tokens, is a
    ValueError that says what to change.
    """
    prepared = prepare(text, config)
    _check_fits(config, prepared)
    device = checks.torch_device("device", device) or torch.device("cpu")
    seed_everything(config.seed)
    model = build_model(config, prepared.vocab.size).to(device)
    B, T = config.batch_size, config.seq_len
    train = StreamBatches(
        prepared.train_ids, B, T, drop_last=True, device=device
    )
    T_valid = min(T, (len(prepared.valid_ids) - 1) // B)
    valid = StreamBatches(prepared.valid_ids, B, T_valid, device=device)
    return Setup(model, prepared.vocab, train, valid)


def fit_options(config: LMConfig) -> dict[str, Any]:
    """The training settings of ``config``, as :func:`fit_lm` takes them."""
    checks.instance("config", config, LMConfig, "an LMConfig")
    names = ("epochs", "lr", "schedule", "weight_decay", "clip_norm", "ar")
    return {n: getattr(config, n) for n in (*names, "tar", "seed")}


def train_text_lm(
    text: str,
    config: LMConfig = LMConfig(),
    *,
    device: torch.device | str | None = None,
    log: Callable[[str], None] | None = print,
) -> tuple[TextLM, Vocab, History]:
    """Train the model ``config`` describes on ``text``; returns model, vocabulary and
    history (its last entries are the final validation numbers)."""
    s = setup(text, config, device)
    options = fit_options(config)
    history = fit_lm(s.model, s.train, valid=s.valid, log=log, **options)
    return s.model, s.vocab, history
