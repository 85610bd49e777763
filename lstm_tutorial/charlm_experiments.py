"""The measured comparison of Part II: the NumPy LSTM language model against a plain RNN
of the same size, trained on the same text with the same loop.

Both models are :mod:`lstm_tutorial.charlm` models (``CharLM`` and ``CharRNN``) trained by
:func:`lstm_tutorial.train_numpy.train` with the book's run, ``BOOK_CONFIG`` (an embedding
of 32, batches of 32 streams x 64 characters, Adam, clipping at global norm 1, 1000
steps), and nothing else changed but the cell, its hidden size and the learning rate. The
comparison follows the book's protocol (:data:`lstm_tutorial.experiments.PROTOCOL`):

- **same size**: the RNN's hidden size is the one whose recurrent layer has the number of
  weights (biases included) nearest to the LSTM's (:func:`hidden_size`, the rule of
  :func:`lstm_tutorial.variants.matching_hidden_size`);
- **learning rate**: tuned per model on :data:`LR_GRID` with the tuning seeds
  :data:`TUNE_SEEDS` (the language models' two), scored by the median validation loss;
  the best rate must not lie at an end of the grid;
- **seeds**: the reported runs use the protocol's five seeds at the tuned rates;
- **held out**: the validation text (the first ``val_chars`` characters of the text's
  tail) picks the rates; the reported number is the bits per character on the *test* text,
  the rest of the tail, which neither training nor tuning read (:func:`heldout_ids`);
- **verdict** (:data:`VERDICT`, fixed before the runs): one model is better when its
  median test bits per character is lower and every one of its seeds beats every seed of
  the other; otherwise the measurement does not separate them.

It is group ``charlm`` of :data:`lstm_tutorial.experiments.GROUPS`; ``make experiments``
(or ``python -m lstm_tutorial.experiments --only charlm``) runs it and writes
``lstm_tutorial/records/charlm.json``. :func:`train_charlm_run` runs one config;
:func:`tuning_lines`, :func:`result_lines` and :func:`verdict` print the records.

Checks: every public function checks its arguments (with :mod:`lstm_tutorial.checks`)
before any work; :func:`train_charlm_run` checks the whole config by building its
``TrainConfig``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.chardata import CharVocab, split
from lstm_tutorial.charlm import bits_per_char
from lstm_tutorial.train_numpy import (
    BOOK_CONFIG,
    TrainConfig,
    TrainingDiverged,
    evaluate,
    train,
    training_text,
)

#: The two models compared, by cell.
CELLS = ("lstm", "rnn")
#: The learning rates tried for each model (Adam): factors of 2 around the book's 6e-3.
LR_GRID = (1.5e-3, 3e-3, 6e-3, 1.2e-2, 2.4e-2, 4.8e-2)
#: Tuning seeds: the language models' two (the protocol's first two).
TUNE_SEEDS = (100, 101)
#: The TrainConfig fields a run sets besides the cell (the rest is BOOK_CONFIG's).
_FIELDS = ("hidden_size", "lr", "seed", "steps", "max_grad_norm")
#: The clipping threshold of the runs without clipping: far above any gradient norm.
NO_CLIP = 1e9
#: The verdict rule, stated before the numbers.
VERDICT = (
    "a model is better when its median test bits/char is lower and each of its "
    "seeds is below every seed of the other; otherwise the runs do not separate them"
)


def recurrent_weights(cell: str, input_size: int, hidden_size: int) -> int:
    """The number of weights of one recurrent layer, biases included (two bias vectors, as
    in torch): 4H(D + H) + 8H for the LSTM, H(D + H) + 2H for the plain RNN."""
    checks.choice("cell", cell, CELLS)
    D = checks.positive_int("input_size", input_size)
    H = checks.positive_int("hidden_size", hidden_size)
    gates = 4 if cell == "lstm" else 1
    return gates * (H * (D + H) + 2 * H)


def hidden_size(cell: str) -> int:
    """The hidden size of ``cell`` in the comparison: the book's H for the LSTM; for the
    RNN the H whose layer has the number of weights nearest to the LSTM's (the smaller H
    on a tie), as :func:`lstm_tutorial.variants.matching_hidden_size` chooses it."""
    checks.choice("cell", cell, CELLS)
    D, H = BOOK_CONFIG.embed_size, BOOK_CONFIG.hidden_size
    if cell == "lstm":
        return H
    target = recurrent_weights("lstm", D, H)
    sizes = range(1, 4 * H + 1)
    return min(
        sizes, key=lambda h: (abs(recurrent_weights(cell, D, h) - target), h)
    )


def run_config(cell: str, seed: int, lr: float, **fields: Any) -> dict:
    """The config dict of one run (checked by building its TrainConfig): ``task`` "charlm",
    ``model`` the cell, ``T`` None, the seed, the rate, the hidden size of
    :func:`hidden_size`, and ``fields`` (``steps``, ``max_grad_norm``) set on top."""
    checks.choice("cell", cell, CELLS)
    checks.no_unknown_keys("fields", fields, ("steps", "max_grad_norm"))
    config = {
        "task": "charlm",
        "model": cell,
        "T": None,
        "seed": seed,
        "lr": lr,
        "hidden_size": hidden_size(cell),
        **fields,
    }
    train_config(config)
    return config


def train_config(config: Mapping[str, Any]) -> TrainConfig:
    """The ``TrainConfig`` of a run's config dict: ``BOOK_CONFIG`` with the run's cell,
    hidden size, rate, seed (and steps, clipping threshold), evaluated only at the end, no
    samples."""
    checks.mapping("config", config)
    checks.choice("config['task']", config.get("task"), ("charlm",))
    checks.no_unknown_keys(
        "config",
        config,
        ("task", "model", "T", *_FIELDS),
    )
    for key in ("model", "seed", "lr", "hidden_size"):
        if key not in config:
            raise ValueError(f"config lacks {key!r}: build it with run_config")
    checks.choice("config['model']", config["model"], CELLS)
    fields = {"cell": config["model"]}
    fields |= {k: config[k] for k in _FIELDS if k in config}
    replaced = dataclasses.replace(BOOK_CONFIG, **fields, sample_every=0)
    return dataclasses.replace(replaced, eval_every=replaced.steps)


def heldout_ids(config: TrainConfig) -> np.ndarray:
    """The test text of a config: the tail that ``prepare_data`` keeps for validation, after
    its first ``val_chars`` characters (the validation text), as ids of the text's
    vocabulary. Neither training nor tuning reads it."""
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    if config.val_chars is None:
        raise ValueError(
            "config.val_chars must be set: the test text is the tail after it"
        )
    text = training_text(config)
    ids = CharVocab.from_text(text).encode(text)
    tail = split(ids, config.val_fraction)[1]
    return tail[config.val_chars :]


def train_charlm_run(config: Mapping[str, Any]) -> dict:
    """Train the run of ``config`` (see :func:`run_config`) and test it. Returns plain
    data: ``loss`` (validation nats, the tuning score), ``val_bpc``, ``test_bpc``,
    ``test_chars``, ``clipped`` (steps whose gradient norm exceeded the run's clipping
    threshold), ``above_book_threshold`` (steps whose norm exceeded the book's threshold,
    ``BOOK_CONFIG.max_grad_norm``), ``steps``, ``max_norm`` and ``median_norm`` (gradient
    norms before clipping), ``epochs``, ``parameters`` (the recurrent layer's weights) and
    ``train_seconds``; or ``diverged`` and its ``message`` if training stopped."""
    train_cfg = train_config(config)
    try:
        result = train(train_cfg, log=None)
    except TrainingDiverged as err:
        return {"diverged": True, "message": str(err)}
    history, model = result.history, result.model
    test = heldout_ids(train_cfg)
    B, T = train_cfg.batch_size, train_cfg.seq_len
    test_nats = evaluate(model, test, B, T)
    norms = np.array(history.grad_norm)
    D = train_cfg.embed_size or model.vocab_size
    return {
        "loss": history.val_bpc[-1] * math.log(2),
        "val_bpc": float(history.val_bpc[-1]),
        "test_bpc": float(bits_per_char(test_nats)),
        "test_chars": int(len(test) - 1),
        "clipped": int((norms > train_cfg.max_grad_norm).sum()),
        "above_book_threshold": int((norms > BOOK_CONFIG.max_grad_norm).sum()),
        "steps": int(len(norms)),
        "max_norm": float(norms.max()),
        "median_norm": float(np.median(norms)),
        "epochs": float(history.epochs),
        "parameters": recurrent_weights(model.cell, D, train_cfg.hidden_size),
        "train_seconds": float(history.seconds),
    }


def charlm_tuning() -> list[dict]:
    """The tuning runs: both models at every rate of :data:`LR_GRID`, on the tuning
    seeds."""
    return [
        run_config(cell, seed, lr)
        for cell in CELLS
        for lr in LR_GRID
        for seed in TUNE_SEEDS
    ]


def charlm_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """The reported runs: both models with the protocol's five seeds at their tuned rates
    ``rates[("charlm", cell)]``; then the RNN's five again without clipping (threshold
    :data:`NO_CLIP`), to see what clipping does (the LSTM's gradients stay below the
    threshold in the book's run, so without clipping its runs would be the same)."""
    from lstm_tutorial.experiments import SEEDS

    checks.mapping("rates", rates)
    missing = [cell for cell in CELLS if ("charlm", cell) not in rates]
    if missing:
        raise ValueError(
            f"rates lacks the tuned rate of {missing} (keys ('charlm', cell))"
        )
    for cell in CELLS:
        checks.positive_number(
            f"rates[('charlm', {cell!r})]", rates["charlm", cell]
        )
    runs = [
        run_config(cell, seed, rates["charlm", cell])
        for cell in CELLS
        for seed in SEEDS
    ]
    rate = rates["charlm", "rnn"]
    return runs + [
        run_config("rnn", seed, rate, max_grad_norm=NO_CLIP) for seed in SEEDS
    ]


# ------------------------------------------------------------------- reading the records


def _check_records(name: str, records: Any) -> list[dict]:
    """A list of records of this group: each with a config of task "charlm" and metrics."""
    checks.sequence(f"{name} (a list of records)", records)
    for k, record in enumerate(records):
        checks.mapping(f"{name}[{k}]", record)
        for part in ("config", "metrics"):
            checks.mapping(f"{name}[{k}][{part!r}]", record.get(part))
        if record["config"].get("task") != "charlm":
            raise ValueError(f"{name}[{k}] is not a run of the charlm group")
    return list(records)


def _bpc(metrics: Mapping[str, Any], key: str) -> float:
    return math.inf if metrics.get("diverged") else float(metrics[key])


def tuning_lines(tuning: Sequence[Mapping[str, Any]]) -> list[str]:
    """The tuning runs as lines of at most 76 characters: per model and rate, the median
    validation bits/char over the tuning seeds ("div." for a diverged run) and the median
    number of clipped steps, the best rate marked with *, and "edge" if it lies at an end
    of the grid."""
    from lstm_tutorial.experiments import tuned_rates

    tuning = _check_records("tuning", tuning)
    best = tuned_rates(tuning)
    grid = sorted({r["config"]["lr"] for r in tuning})
    lines = [
        "validation bits/char (median of the tuning seeds) and clipped steps",
        f"{'rate':>8}"
        + "".join(
            f"{cell.upper() + ' bpc':>13}{'clipped':>9}" for cell in CELLS
        ),
    ]
    for lr in grid:
        row = f"{lr:>8g}"
        for cell in CELLS:
            runs = [
                r
                for r in tuning
                if r["config"]["model"] == cell and r["config"]["lr"] == lr
            ]
            bpc = statistics.median(_bpc(r["metrics"], "val_bpc") for r in runs)
            clipped = [r["metrics"].get("clipped") for r in runs]
            mark = "*" if best["charlm", cell]["best"] == lr else " "
            text = "div." if math.isinf(bpc) else f"{bpc:.3f}"
            count = (
                "-" if None in clipped else f"{statistics.median(clipped):.0f}"
            )
            row += f"{text + mark:>13}{count:>9}"
        lines.append(row)
    for cell in CELLS:
        if best["charlm", cell]["edge"]:
            lines.append(f"{cell}: the best rate is at the edge of the grid")
    return lines


def _reported(runs: Any, cell: str, clipping: bool = True) -> list[dict]:
    """The runs of ``cell``: with the book's clipping, or (``clipping=False``) without."""
    return [
        r
        for r in _check_records("runs", runs)
        if r["config"]["model"] == cell
        and ("max_grad_norm" not in r["config"]) == clipping
    ]


def spread(values: Sequence[float], digits: int = 3) -> str:
    """``median [min-max]`` of ``values`` with ``digits`` decimals."""
    values = [
        checks.number(f"values[{k}]", v)
        for k, v in enumerate(checks.sequence("values", values))
    ]
    checks.count("digits", digits)
    return (
        f"{statistics.median(values):.{digits}f} "
        f"[{min(values):.{digits}f}-{max(values):.{digits}f}]"
    )


def result_lines(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The reported runs as lines of at most 76 characters: per model (and for the RNN
    without clipping) its hidden size, recurrent weights, rate and seeds, the test
    bits/char as median [range] over the seeds, and the median number of steps whose
    gradient norm exceeded the book's clipping threshold (the steps clipped, where
    clipping was on)."""
    runs = _check_records("runs", runs)
    kappa = BOOK_CONFIG.max_grad_norm
    lines = [
        f"{'model':<13}{'H':>4}{'weights':>8}{'rate':>7}{'seeds':>6}"
        f"  {'test bits/char':<28}{f'norm > {kappa:g}':>8}"
    ]
    for cell, clipping in (("lstm", True), ("rnn", True), ("rnn", False)):
        mine = _reported(runs, cell, clipping)
        if not mine:
            continue
        name = cell.upper() + ("" if clipping else ", no clip")
        config = mine[0]["config"]
        ok = [r["metrics"] for r in mine if not r["metrics"].get("diverged")]
        bpc = spread([m["test_bpc"] for m in ok]) if ok else "all diverged"
        if len(ok) < len(mine):
            bpc += f" ({len(mine) - len(ok)} div.)"
        over = [m["above_book_threshold"] for m in ok]
        over_text = f"{statistics.median(over):.0f}" if ok else "-"
        weights = ok[0]["parameters"] if ok else 0
        lines.append(
            f"{name:<13}{config['hidden_size']:>4}{weights:>8,}"
            f"{config['lr']:>7g}{len(mine):>6}  {bpc:<28}{over_text:>8}"
        )
    return lines


def verdict(runs: Sequence[Mapping[str, Any]]) -> str:
    """The verdict of :data:`VERDICT` on the reported runs with the book's clipping, in
    one sentence."""
    runs = _check_records("runs", runs)
    scores = {
        cell: [_bpc(r["metrics"], "test_bpc") for r in _reported(runs, cell)]
        for cell in CELLS
    }
    missing = [cell for cell, values in scores.items() if not values]
    if missing:
        raise ValueError(f"runs holds no run of {missing}")
    lstm, rnn = scores["lstm"], scores["rnn"]
    median_lstm, median_rnn = statistics.median(lstm), statistics.median(rnn)
    if median_lstm < median_rnn and max(lstm) < min(rnn):
        return "the LSTM is better: every LSTM seed beats every RNN seed"
    if median_rnn < median_lstm and max(rnn) < min(lstm):
        return "the RNN is better: every RNN seed beats every LSTM seed"
    return "the runs do not separate the two models"
