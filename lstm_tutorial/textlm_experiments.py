"""The measured comparisons of the real-text part, run by ``make experiments``.

Two groups of :data:`lstm_tutorial.experiments.GROUPS`, both on CPython's pydoc help topics
(:func:`lstm_tutorial.chardata.python_docs_text`), both following the book's protocol
(:data:`lstm_tutorial.experiments.PROTOCOL`):

``textlm_cells``, LSTM, GRU and RNN at character level
    one recurrent layer each, of the same size: the GRU's and the RNN's hidden sizes give
    their recurrent layer the number of weights (biases included) nearest to the LSTM's
    (:func:`matched_hidden_size`, the book's meaning of "same size"). Everything else is
    :data:`CELL_BASE`. Each model's learning rate is tuned on :data:`CELL_LR_GRID` with
    one tuning seed, scored by the validation loss; the reported runs use five seeds.
``textlm_reg``, the AWD-LSTM regularisers at word level
    a two-layer LSTM (:data:`REG_BASE`) with all the regularisers (:data:`AWD`), with
    none, and with all but one (:data:`VARIANTS`); each variant's rate tuned on
    :data:`REG_LR_GRID` with one tuning seed, three seeds reported.

Held out: the token stream is split 80/10/10 in order (:func:`heldout`); the vocabulary
comes from the first 80%, the middle 10% (validation) scores tuning and every epoch, the
last 10% (test) is read once, at the end, for the reported numbers. The verdicts
(:data:`VERDICT`) are fixed before the runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

import torch

from lstm_tutorial import checks
from lstm_tutorial.chardata import python_docs_text
from lstm_tutorial.seeding import seed_everything
from lstm_tutorial.sweep import one_thread
from lstm_tutorial.text import StreamBatches, Vocab, tokenize
from lstm_tutorial.textlm import (
    LMConfig,
    build_model,
    evaluate,
    fit_lm,
    fit_options,
)
from lstm_tutorial.training import TrainingDiverged

#: The cells compared at character level.
CELLS = ("lstm", "gru", "rnn")
#: Gates (weight blocks) per cell: an LSTM layer has four H x (D + H) blocks.
BLOCKS = {"lstm": 4, "gru": 3, "rnn": 1}
#: The character-level runs: one layer, the LSTM's 256 units, five epochs.
CELL_BASE = LMConfig(
    level="char",
    layers=1,
    embed_size=32,
    hidden_size=256,
    dropout=0.0,
    seq_len=100,
    batch_size=32,
    epochs=5,
    schedule="one-cycle",
    weight_decay=0.01,
    clip_norm=1.0,
)
#: Learning rates tried for each cell (AdamW, one-cycle peak): factors of 2 (the top two
#: were added when the LSTM's best lay at the top of the grid).
CELL_LR_GRID = (2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2, 6.4e-2)
#: The word-level runs: two layers of 128 (embedding 128, so tying changes only the
#: sharing), eight epochs, no regulariser.
REG_BASE = LMConfig(
    level="word",
    layers=2,
    embed_size=128,
    hidden_size=128,
    dropout=0.0,
    seq_len=35,
    batch_size=32,
    epochs=8,
    schedule="one-cycle",
    weight_decay=0.0,
    clip_norm=0.25,
    min_count=2,
)
#: All the regularisers, at AWD-LSTM's proportions (Merity et al. 2018), chosen before
#: the runs and not tuned.
AWD = {
    "embed_dropout": 0.1,
    "input_dropout": 0.4,
    "hidden_dropout": 0.25,
    "output_dropout": 0.4,
    "weight_drop": 0.3,
    "tie_weights": True,
    "ar": 2.0,
    "tar": 1.0,
    "weight_decay": 0.1,
}
#: What each variant removes from :data:`AWD` (the first two: all of it, none of it).
VARIANTS: dict[str, dict[str, Any]] = {
    "none": {k: (False if k == "tie_weights" else 0.0) for k in AWD},
    "awd": {},
    "no_embed_dropout": {"embed_dropout": 0.0},
    "no_locked_dropout": dict.fromkeys(
        ("input_dropout", "hidden_dropout", "output_dropout"), 0.0
    ),
    "no_weight_drop": {"weight_drop": 0.0},
    "no_tying": {"tie_weights": False},
    "no_ar_tar": {"ar": 0.0, "tar": 0.0},
    "no_weight_decay": {"weight_decay": 0.0},
}
#: Learning rates tried for each variant: factors of 2 (the top three were added, one
#: after the other, when the best of a variant lay at the top of the grid: first the
#: full AWD recipe's, then no_locked_dropout's at 6.4e-2).
REG_LR_GRID = (2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2, 6.4e-2, 1.28e-1)
#: Tuning seeds: one per rate (the runs are long for this machine).
CELL_TUNE_SEEDS = (100,)
REG_TUNE_SEEDS = (100,)
#: The verdict rules, stated before the numbers.
VERDICT = (
    "a model (or variant) is better than another when its median test loss is "
    "lower and each of its seeds is below every seed of the other; otherwise "
    "the runs do not separate them"
)


def recurrent_weights(cell: str, input_size: int, hidden_size: int) -> int:
    """Weights of one recurrent layer, biases included (two bias vectors, as in torch):
    blocks * (H (D + H) + 2H), blocks 4 (LSTM), 3 (GRU), 1 (RNN)."""
    checks.choice("cell", cell, CELLS)
    D = checks.positive_int("input_size", input_size)
    H = checks.positive_int("hidden_size", hidden_size)
    return BLOCKS[cell] * (H * (D + H) + 2 * H)


def matched_hidden_size(cell: str, input_size: int, weights: int) -> int:
    """The hidden size whose layer of ``cell`` has the number of recurrent weights
    nearest to ``weights`` (the smaller size on a tie)."""
    checks.choice("cell", cell, CELLS)
    checks.positive_int("input_size", input_size)
    checks.positive_int("weights", weights)
    return min(
        range(1, 4096),
        key=lambda H: (
            abs(recurrent_weights(cell, input_size, H) - weights),
            H,
        ),
    )


def cell_hidden_size(cell: str) -> int:
    """The hidden size of ``cell`` in the character-level comparison."""
    target = recurrent_weights("lstm", CELL_BASE.embed_size, 256)
    return matched_hidden_size(cell, CELL_BASE.embed_size, target)


def cell_config(cell: str, seed: int, lr: float) -> dict:
    """The config of one character-level run."""
    checks.choice("cell", cell, CELLS)
    lm = {**CELL_BASE.to_dict(), "cell": cell, "lr": lr, "seed": seed}
    lm["hidden_size"] = cell_hidden_size(cell)
    return _config("textlm_cells", cell, lm)


def reg_config(variant: str, seed: int, lr: float) -> dict:
    """The config of one word-level regularisation run."""
    checks.choice("variant", variant, tuple(VARIANTS))
    lm = {**REG_BASE.to_dict(), **AWD, **VARIANTS[variant]}
    lm |= {"lr": lr, "seed": seed}
    return _config("textlm_reg", variant, lm)


def _config(task: str, model: str, lm: dict) -> dict:
    LMConfig.from_dict(lm)  # checked
    return {
        "task": task,
        "model": model,
        "T": None,
        "seed": lm["seed"],
        "lr": lm["lr"],
        "lm": lm,
    }


class Heldout(NamedTuple):
    """A text's vocabulary and its three id streams, in the text's order."""

    vocab: Vocab
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor


@cache
def heldout(level: str, min_count: int = 1) -> Heldout:
    """The pydoc topics at ``level``, split 80/10/10 in order; the vocabulary from the
    first 80% (words seen fewer than ``min_count`` times there are unknown; at character
    level, unseen characters get their own ids)."""
    checks.choice("level", level, ("char", "word"))
    checks.positive_int("min_count", min_count)
    tokens = tokenize(python_docs_text(), level)
    a, b = round(0.8 * len(tokens)), round(0.9 * len(tokens))
    if level == "char":
        vocab = Vocab.build(tokens[:a], unk=None)
        unseen = sorted(set(tokens) - set(vocab.index))
        vocab = Vocab((*vocab.tokens, *unseen))
    else:
        vocab = Vocab.build(tokens[:a], min_count=min_count)
    ids = vocab.encode(tokens)
    return Heldout(vocab, ids[:a], ids[a:b], ids[b:])


def eval_batches(ids: torch.Tensor, config: LMConfig) -> StreamBatches:
    """The windows a run evaluates ``ids`` with: B streams, every token but the fewer
    than B that do not fill a stream, windows of at most T."""
    checks.instance("config", config, LMConfig, "an LMConfig")
    B = config.batch_size
    return StreamBatches(ids, B, min(config.seq_len, (len(ids) - 1) // B))


def train_textlm_run(config: Mapping[str, Any]) -> dict:
    """Train one run of either group and test it. Returns plain data: ``loss`` (the last
    validation loss, the tuning score), ``val_loss`` per epoch, ``test_loss``,
    ``test_ppl``, ``test_bits`` (per token), ``test_accuracy``, ``test_tokens``,
    ``recurrent_weights``, ``parameters`` (all, tied ones once), ``train_seconds``; or
    ``diverged`` and its ``message``."""
    return train_textlm_model(config)[1]


def train_textlm_model(config: Mapping[str, Any]) -> tuple[Any, dict]:
    """:func:`train_textlm_run`, and the trained model (None if training diverged)."""
    checks.mapping("config", config)
    lm = LMConfig.from_dict(checks.mapping("config['lm']", config.get("lm")))
    with one_thread():  # the numbers must not depend on the thread count
        return _train_run(lm)


def _train_run(lm: LMConfig) -> tuple[Any, dict]:
    data = heldout(lm.level, lm.min_count)
    seed_everything(lm.seed)
    model = build_model(lm, data.vocab.size)
    B, T = lm.batch_size, lm.seq_len
    train = StreamBatches(data.train, B, T, drop_last=True)
    valid = eval_batches(data.valid, lm)
    try:
        history = fit_lm(model, train, valid=valid, log=None, **fit_options(lm))
    except TrainingDiverged as err:
        return None, {"diverged": True, "message": str(err)}
    test = evaluate(model, eval_batches(data.test, lm))
    sizes = [lm.embed_size] + [lm.hidden_size] * lm.layers
    if lm.tie_weights:
        sizes[-1] = lm.embed_size
    cell = lm.cell if lm.cell in CELLS else "lstm"
    return model, {
        "loss": history.val_loss[-1],
        "val_loss": list(history.val_loss),
        "test_loss": test["loss"],
        "test_ppl": test["perplexity"],
        "test_bits": test["bits_per_token"],
        "test_accuracy": test["accuracy"],
        "test_tokens": test["tokens"],
        "recurrent_weights": sum(
            recurrent_weights(cell, sizes[k], sizes[k + 1])
            for k in range(lm.layers)
        ),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": float(sum(history.seconds)),
        "vocab_size": data.vocab.size,
    }


def cells_tuning() -> list[dict]:
    """Every cell at every rate of :data:`CELL_LR_GRID`, on the tuning seeds."""
    return [
        cell_config(cell, seed, lr)
        for cell in CELLS
        for lr in CELL_LR_GRID
        for seed in CELL_TUNE_SEEDS
    ]


def _rates(rates: Mapping, task: str, names) -> dict[str, float]:
    checks.mapping("rates", rates)
    missing = [n for n in names if (task, n) not in rates]
    if missing:
        raise ValueError(f"rates lacks the tuned rate of {missing} ({task!r})")
    return {
        n: checks.positive_number(f"rates[{(task, n)!r}]", rates[task, n])
        for n in names
    }


def cells_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """Every cell at its tuned rate, with the protocol's five seeds."""
    from lstm_tutorial.experiments import SEEDS

    lr = _rates(rates, "textlm_cells", CELLS)
    return [cell_config(c, seed, lr[c]) for c in CELLS for seed in SEEDS]


def reg_tuning() -> list[dict]:
    """Every variant at every rate of :data:`REG_LR_GRID`, on the tuning seed."""
    return [
        reg_config(v, seed, lr)
        for v in VARIANTS
        for lr in REG_LR_GRID
        for seed in REG_TUNE_SEEDS
    ]


def reg_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """Every variant at its tuned rate, with the protocol's first three seeds."""
    from lstm_tutorial.experiments import SEEDS

    lr = _rates(rates, "textlm_reg", VARIANTS)
    return [reg_config(v, seed, lr[v]) for v in VARIANTS for seed in SEEDS[:3]]
