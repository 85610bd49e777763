"""The LSTM-against-RNN comparison of Part II (group ``charlm``): the same size by the
protocol's rule, the book's run with only the cell, size and rate changed, a test text
that neither training nor tuning reads, the grids, the tables and the verdict rule."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lstm_tutorial import charlm_experiments as cx
from lstm_tutorial import experiments
from lstm_tutorial.chardata import CharVocab, split
from lstm_tutorial.train_numpy import BOOK_CONFIG, prepare_data, training_text
from lstm_tutorial.variants import (
    count_parameters,
    make_recurrent,
    matching_hidden_size,
)


def test_the_rnn_has_the_lstms_number_of_recurrent_weights_by_the_protocols_rule():
    D, H = BOOK_CONFIG.embed_size, BOOK_CONFIG.hidden_size
    lstm = count_parameters(make_recurrent("lstm", D, H))
    assert cx.recurrent_weights("lstm", D, H) == lstm
    H_rnn = cx.hidden_size("rnn")
    assert H_rnn == matching_hidden_size("rnn", D, lstm)
    rnn = count_parameters(make_recurrent("rnn", D, H_rnn))
    assert cx.recurrent_weights("rnn", D, H_rnn) == rnn
    assert abs(rnn - lstm) / lstm < 0.02
    assert cx.hidden_size("lstm") == H


def test_a_run_is_the_books_run_with_only_cell_size_rate_and_seed_changed():
    config = cx.run_config("rnn", 3, 1e-3)
    assert config["task"] == "charlm" and config["T"] is None
    train = cx.train_config(config)
    changed = {
        f.name
        for f in dataclasses.fields(train)
        if getattr(train, f.name) != getattr(BOOK_CONFIG, f.name)
    }
    assert changed == {
        "cell",
        "hidden_size",
        "lr",
        "seed",
        "eval_every",
        "sample_every",
    }
    assert train.eval_every == train.steps and train.sample_every == 0
    assert cx.train_config(cx.run_config("lstm", 0, 6e-3, steps=7)).steps == 7


def test_the_test_text_is_the_tail_after_the_validation_text():
    config = cx.train_config(cx.run_config("lstm", 0, 6e-3))
    _, train_ids, val_ids = prepare_data(config)
    test = cx.heldout_ids(config)
    text = training_text(config)
    ids = CharVocab.from_text(text).encode(text)
    assert len(train_ids) + len(val_ids) + len(test) == len(ids)
    np.testing.assert_array_equal(
        np.concatenate([val_ids, test]), split(ids, config.val_fraction)[1]
    )
    assert len(test) > 10_000
    with pytest.raises(ValueError, match="val_chars must be set"):
        cx.heldout_ids(dataclasses.replace(config, val_chars=None))


def test_the_grids_follow_the_protocol():
    tuning = cx.charlm_tuning()
    assert len(tuning) == len(cx.CELLS) * len(cx.LR_GRID) * len(cx.TUNE_SEEDS)
    assert {c["seed"] for c in tuning} == set(cx.TUNE_SEEDS)
    assert not set(cx.TUNE_SEEDS) & set(experiments.SEEDS)
    rates = {("charlm", "lstm"): 6e-3, ("charlm", "rnn"): 1.5e-3}
    runs = cx.charlm_runs(rates)
    seeds = experiments.SEEDS
    assert [(c["model"], c["seed"]) for c in runs] == [
        (cell, seed) for cell in (*cx.CELLS, "rnn") for seed in seeds
    ]
    assert {c["lr"] for c in runs if c["model"] == "rnn"} == {1.5e-3}
    assert [c.get("max_grad_norm") for c in runs[-len(seeds) :]] == [
        cx.NO_CLIP
    ] * len(seeds)
    with pytest.raises(
        ValueError, match=r"rates lacks the tuned rate of \['rnn'\]"
    ):
        cx.charlm_runs({("charlm", "lstm"): 6e-3})
    name, (tune, report, modules) = "charlm", experiments.GROUPS["charlm"]
    assert tune is cx.charlm_tuning and report is cx.charlm_runs
    assert {"charlm", "train_numpy", "chardata", "optim"} <= set(modules)
    assert experiments.run_function(runs[0]) is cx.train_charlm_run, name


def test_a_short_run_gives_every_metric(monkeypatch):
    metrics = cx.train_charlm_run(cx.run_config("rnn", 0, 6e-3, steps=3))
    assert metrics["steps"] == 3 and 0 <= metrics["clipped"] <= 3
    assert metrics["loss"] == pytest.approx(metrics["val_bpc"] * math.log(2))
    assert metrics["test_bpc"] > 0 and metrics["test_chars"] > 10_000
    assert metrics["parameters"] == cx.recurrent_weights(
        "rnn", 32, cx.hidden_size("rnn")
    )
    broken = cx.train_charlm_run(cx.run_config("lstm", 0, 1e3, steps=20))
    assert broken["diverged"] and "diverged" in broken["message"]


def _record(cell, seed, lr, bpc, clipped=0, diverged=False, **fields):
    metrics = (
        {"diverged": True, "message": "x"}
        if diverged
        else {
            "loss": bpc * math.log(2),
            "val_bpc": bpc,
            "test_bpc": bpc + 0.1,
            "clipped": clipped,
            "above_book_threshold": clipped,
            "parameters": 1000,
        }
    )
    return {
        "config": cx.run_config(cell, seed, lr, **fields),
        "metrics": metrics,
    }


def test_the_tables_and_the_verdict_rule():
    tuning = [
        _record(cell, seed, lr, bpc + (0.2 if cell == "rnn" else 0))
        for cell in cx.CELLS
        for lr, bpc in ((1e-3, 2.5), (3e-3, 2.0), (1e-2, 2.4))
        for seed in cx.TUNE_SEEDS
    ]
    tuning[-1] = _record("rnn", 101, 1e-2, 0, diverged=True)
    lines = cx.tuning_lines(tuning)
    assert all(len(line) <= 76 for line in lines)
    assert "2.000*" in lines[3] and "2.200*" in lines[3]
    # the median of a finite score and a diverged run's is inf
    assert "div." in lines[4]
    runs = [
        _record("lstm", s, 3e-3, 1.8 + s / 100, clipped=s) for s in range(5)
    ]
    runs += [
        _record("rnn", s, 3e-3, 2.0 + s / 100, clipped=9) for s in range(5)
    ]
    no_clip = [
        _record("rnn", s, 3e-3, 1.0, clipped=0, max_grad_norm=cx.NO_CLIP)
        for s in range(4)
    ] + [_record("rnn", 4, 3e-3, 1.0, diverged=True, max_grad_norm=cx.NO_CLIP)]
    lines = cx.result_lines(runs + no_clip)
    assert all(len(line) <= 76 for line in lines)
    assert lines[3].startswith("RNN, no clip") and "(1 div.)" in lines[3]
    assert cx.verdict(runs + no_clip) == cx.verdict(runs)  # clipped runs only
    assert (
        "1.920 [1.900-1.940]" in lines[1] and "2.120 [2.100-2.140]" in lines[2]
    )
    assert (
        cx.verdict(runs)
        == "the LSTM is better: every LSTM seed beats every RNN seed"
    )
    overlapping = runs[:5] + [
        _record("rnn", s, 3e-3, 1.82 + s / 100) for s in range(5)
    ]
    assert cx.verdict(overlapping) == "the runs do not separate the two models"
    assert cx.spread([1.0, 3.0, 2.0], 1) == "2.0 [1.0-3.0]"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: cx.recurrent_weights("gru", 3, 4), "cell must be one of"),
        (lambda: cx.recurrent_weights("lstm", 0, 4), "input_size"),
        (lambda: cx.recurrent_weights("lstm", 3, 4.0), "hidden_size"),
        (lambda: cx.hidden_size("gru"), "cell must be one of"),
        (lambda: cx.run_config("gru", 0, 1e-3), "cell must be one of"),
        (lambda: cx.run_config("lstm", 0, -1.0), "lr"),
        (lambda: cx.run_config("lstm", -1, 1e-3), "seed"),
        (lambda: cx.run_config("lstm", 0, 1e-3, epochs=3), "fields"),
        (lambda: cx.train_config([]), "config must be a mapping"),
        (lambda: cx.train_config({"task": "stories"}), r"config\['task'\]"),
        (lambda: cx.train_config({"task": "charlm"}), "config lacks 'model'"),
        (lambda: cx.heldout_ids({}), "config must be a TrainConfig"),
        (lambda: cx.train_charlm_run(None), "config must be a mapping"),
        (lambda: cx.charlm_runs([]), "rates must be a mapping"),
        (
            lambda: cx.charlm_runs({("charlm", c): 0.0 for c in cx.CELLS}),
            "rates",
        ),
        (lambda: cx.tuning_lines(None), "tuning"),
        (lambda: cx.tuning_lines([{"config": {}, "metrics": {}}]), "tuning"),
        (lambda: cx.result_lines([{"config": {"task": "x"}}]), "runs"),
        (lambda: cx.verdict("abc"), "runs"),
        (lambda: cx.verdict([_record("lstm", 0, 1e-3, 2.0)]), r"\['rnn'\]"),
        (lambda: cx.spread([1.0, "2"]), r"values\[1\]"),
        (lambda: cx.spread([1.0], -1), "digits"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()
