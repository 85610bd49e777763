"""The larger LSTM of the real-text part: the one measured against the best baseline.

Group ``textlm_large`` of :data:`lstm_tutorial.experiments.GROUPS`, on the same held-out
character text as ``textlm_cells`` (:func:`lstm_tutorial.textlm_experiments.heldout`):
one LSTM (:data:`LARGE_BASE`: two layers of 384, about six times the recurrent weights
of the cell comparison, and 12 epochs instead of 5), its rate tuned on
:data:`LARGE_LR_GRID` with one tuning seed and scored by the validation loss, three
seeds reported.

Every run is also evaluated dynamically (:func:`lstm_tutorial.dynamic_eval.dynamic_evaluate`,
Krause et al. 2018): the adaptation rate is chosen on the validation text from
:data:`DYNAMIC_LR_GRID`, then the test text is read once, as one stream, at that rate.
The verdict (:data:`VERDICT`) is fixed before the runs.

A run takes about twelve minutes on one thread, too long to re-run whole in a test:
:func:`check_first_epoch` re-runs a record's first epoch (same seed, same schedule) and
gives its validation loss, to compare with the recorded one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lstm_tutorial import checks
from lstm_tutorial.dynamic_eval import dynamic_evaluate
from lstm_tutorial.seeding import seed_everything
from lstm_tutorial.sweep import one_thread
from lstm_tutorial.text import StreamBatches
from lstm_tutorial.textlm import LMConfig, build_model, fit_lm, fit_options
from lstm_tutorial.textlm_experiments import (
    eval_batches,
    heldout,
    train_textlm_model,
)
from lstm_tutorial.training import History

#: The larger run: two layers of 384 units, embedding 64, light dropout, 12 epochs
#: (chosen over one layer of 512 by one trial run of each at one rate, seed 100: both
#: 12 epochs, validation bits with dynamic evaluation 1.467 and 1.492).
LARGE_BASE = LMConfig(
    level="char",
    layers=2,
    embed_size=64,
    hidden_size=384,
    dropout=0.1,
    seq_len=100,
    batch_size=32,
    epochs=12,
    schedule="one-cycle",
    weight_decay=0.01,
    clip_norm=1.0,
)
#: Learning rates tried (AdamW, one-cycle peak): factors of 2 around the rate of the
#: trial run (8e-3).
LARGE_LR_GRID = (4e-3, 8e-3, 1.6e-2, 3.2e-2)
#: The tuning seed: one (a run takes about twelve minutes).
LARGE_TUNE_SEEDS = (100,)
#: How many of the protocol's seeds are reported.
LARGE_SEEDS = 3
#: Adaptation rates of dynamic evaluation, chosen on the validation text.
DYNAMIC_LR_GRID = (0.1, 0.3, 1.0)
#: The verdict rule, stated before the numbers.
VERDICT = (
    "the LSTM beats a baseline when the test bits per character of each of its "
    "seeds is below the baseline's; by how much is the median margin and its range"
)


def large_config(seed: int, lr: float) -> dict:
    """The config of one run of the larger LSTM."""
    checks.seed("seed", seed)
    checks.positive_number("lr", lr)
    lm = {**LARGE_BASE.to_dict(), "lr": lr, "seed": seed}
    LMConfig.from_dict(lm)  # checked
    return {
        "task": "textlm_large",
        "model": "lstm",
        "T": None,
        "seed": seed,
        "lr": lr,
        "lm": lm,
    }


def large_tuning() -> list[dict]:
    """The larger LSTM at every rate of :data:`LARGE_LR_GRID`, on the tuning seed."""
    return [
        large_config(seed, lr)
        for lr in LARGE_LR_GRID
        for seed in LARGE_TUNE_SEEDS
    ]


def large_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """The larger LSTM at its tuned rate, with the protocol's first three seeds."""
    from lstm_tutorial.experiments import SEEDS

    checks.mapping("rates", rates)
    key = ("textlm_large", "lstm")
    if key not in rates:
        raise ValueError(f"rates lacks the tuned rate of {key}")
    lr = checks.positive_number(f"rates[{key!r}]", rates[key])
    return [large_config(seed, lr) for seed in SEEDS[:LARGE_SEEDS]]


def train_large_run(config: Mapping[str, Any]) -> dict:
    """Train one run (:func:`~lstm_tutorial.textlm_experiments.train_textlm_run`'s
    metrics), then evaluate it dynamically: ``dynamic_valid`` (``[rate, bits]`` on
    the validation text for each of :data:`DYNAMIC_LR_GRID`), ``dynamic_lr`` (the
    best of them), ``stream_test_bits`` (the test text read as one stream, not
    adapting) and ``dynamic_test_bits`` (the same stream, adapting at ``dynamic_lr``)."""
    checks.mapping("config", config)
    if config.get("task") != "textlm_large":
        raise ValueError(
            "config must be a textlm_large run (task 'textlm_large'), got task "
            f"{config.get('task')!r}"
        )
    _lm_config("config['lm']", config.get("lm"))
    model, metrics = train_textlm_model(config)
    if model is None:  # diverged: the message says where
        return metrics
    data = heldout("char")
    with one_thread():
        valid = [
            [lr, dynamic_evaluate(model, data.valid, lr=lr)["bits_per_token"]]
            for lr in DYNAMIC_LR_GRID
        ]
        best = min(valid, key=lambda pair: pair[1])[0]
        static = dynamic_evaluate(model, data.test, lr=0.0)
        adapted = dynamic_evaluate(model, data.test, lr=best)
    return {
        **metrics,
        "dynamic_valid": valid,
        "dynamic_lr": best,
        "stream_test_bits": static["bits_per_token"],
        "dynamic_test_bits": adapted["bits_per_token"],
    }


def _lm_config(name: str, value: Any) -> LMConfig:
    """``value`` as an LMConfig; an error names ``name`` and what is wrong."""
    checks.mapping(name, value)
    try:
        return LMConfig.from_dict(dict(value))
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name} is not a valid LMConfig: {err}") from None


class _FirstEpochDone(Exception):
    pass


def check_first_epoch(record: Mapping[str, Any]) -> tuple[float, float]:
    """Re-run the first epoch of a recorded run (its config: same seed, the same
    one-cycle schedule over all its epochs) and return ``(validation loss now,
    recorded validation loss after epoch 1)``."""
    checks.mapping("record", record)
    config = checks.mapping("record['config']", record.get("config"))
    metrics = checks.mapping("record['metrics']", record.get("metrics"))
    losses = metrics.get("val_loss")
    if not isinstance(losses, list) or not losses:
        raise ValueError(
            "record['metrics'] must hold the per-epoch 'val_loss' list of a "
            f"finished run, got {losses!r}"
        )
    recorded = checks.number("record['metrics']['val_loss'][0]", losses[0])
    lm = _lm_config("record['config']['lm']", config.get("lm"))

    def stop(line: str) -> None:
        raise _FirstEpochDone

    data = heldout(lm.level, lm.min_count)
    with (
        one_thread()
    ):  # as the recorded run: the same steps as train_textlm_model
        seed_everything(lm.seed)
        model = build_model(lm, data.vocab.size)
        train = StreamBatches(
            data.train, lm.batch_size, lm.seq_len, drop_last=True
        )
        valid = eval_batches(data.valid, lm)
        history = History()
        try:
            fit_lm(model, train, valid=valid, history=history, log=stop,
                   **fit_options(lm))  # fmt: skip
        except _FirstEpochDone:
            pass
    now = history.val_loss[0]
    if not math.isfinite(now):
        raise RuntimeError(f"the re-run's first validation loss is {now}")
    return now, recorded
