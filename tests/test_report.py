"""Tests of the tables of the recorded experiments (:mod:`lstm_tutorial.report`), on tiny
synthetic records (no model is trained): the Wilson interval, the cells and their summaries,
the tuning, task, verdict and story tables, the probes by distance, the records' run time,
and the chapter's config."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fake_records import by_distance, records_file, story_record, task_record

from lstm_tutorial import report
from lstm_tutorial.experiments import SOLVED_IF, spread
from lstm_tutorial.story_experiments import HARD, story_size
from lstm_tutorial.word_lm import StoryLMConfig

# ----------------------------------------------------------------------------- wilson


def _textbook_wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


@pytest.mark.parametrize(
    "k, n", [(5, 10), (0, 10), (10, 10), (1, 20), (81, 263), (7, 40)]
)
def test_wilson_is_the_textbook_score_interval(k, n):
    low, high = report.wilson(k, n)
    assert (float(low), float(high)) == pytest.approx(
        _textbook_wilson(k, n), abs=1e-12
    )
    assert low <= k / n <= high


def test_wilson_matches_published_intervals():
    # Newcombe (1998), Statistics in Medicine 17, 857-872, table I (method 3)
    for (k, n), expected in {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }.items():
        assert tuple(map(float, report.wilson(k, n))) == pytest.approx(
            expected, abs=5e-5
        )
    assert tuple(map(float, report.wilson(5, 10))) == pytest.approx(
        (0.2366, 0.7634), abs=5e-5
    )


def test_wilson_is_symmetric_vectorised_and_narrows_with_more_trials():
    low, high = report.wilson(np.array([2, 8]), np.array([10, 10]))
    assert low.shape == high.shape == (2,)
    assert low[0] == pytest.approx(1 - high[1]) and high[0] == pytest.approx(
        1 - low[1]
    )
    small, large = report.wilson(5, 10), report.wilson(50, 100)
    assert large[1] - large[0] < small[1] - small[0]
    assert (
        report.wilson(5, 10, z=1.0)[1] < report.wilson(5, 10)[1]
    )  # a smaller z: narrower


@pytest.mark.parametrize(
    "right, total", [(11, 10), (-1, 10), (0, 0), ([1, 3], [2, 2])]
)
def test_wilson_refuses_impossible_counts(right, total):
    with pytest.raises(ValueError, match="0 <= right <= total and total > 0"):
        report.wilson(right, total)


# ------------------------------------------------------------------------ task cells


def _cell(
    model="lstm", T=10, solved=(True, True, False), task="adding", start=100
):
    """One (model, T) cell: a seed per entry of ``solved``; seed k needs (k+1) x ``start``
    sequences."""
    return [
        task_record(model, T, seed, task=task, solved=s, sequences=start * (seed + 1),
                    error=0.01 * (seed + 1), strict_solved=s and seed == 0,
                    strict_sequences=2 * start * (seed + 1))
        for seed, s in enumerate(solved)
    ]  # fmt: skip


def test_cells_group_by_model_and_length_in_order_and_keep_one_task():
    records = (
        _cell("gru", 30) + _cell("lstm", 10) + _cell("lstm", 10, task="copy")
    )
    records += _cell("gru", 10)
    groups = report.cells(records, "adding")
    assert list(groups) == [("gru", 30), ("lstm", 10), ("gru", 10)]
    assert all(len(runs) == 3 for runs in groups.values())
    assert [r["config"]["seed"] for r in groups["lstm", 10]] == [0, 1, 2]
    assert list(report.cells(records, "copy")) == [("lstm", 10)]
    assert (
        report.cells(records, "reber") == {}
        and report.cells([], "adding") == {}
    )


def test_cell_summary_counts_the_solved_seeds_and_their_sequences():
    s = report.cell_summary(_cell(solved=(True, True, False)))
    assert (s["seeds"], s["solved"], s["verdict"]) == (3, 2, False)
    assert s["sequences"] == [100, 200]  # only the solved seeds
    assert s["budget"] == 4000 and s["parameters"] == 100
    assert s["error"] == pytest.approx(0.02)  # the mean over every seed
    strict = report.cell_summary(
        _cell(solved=(True, True, False)), "strict_solved"
    )
    assert (strict["solved"], strict["sequences"]) == (1, [200])
    assert report.cell_summary(_cell(solved=[True] * SOLVED_IF + [False]))[
        "verdict"
    ]
    assert not report.cell_summary(
        _cell(solved=[True] * (SOLVED_IF - 1) + [False] * 2)
    )["verdict"]


def _row(table: str, *start: str) -> str:
    """The line of ``table`` whose first words are ``start``."""
    rows = [
        line
        for line in table.splitlines()
        if line.split()[: len(start)] == list(start)
    ]
    assert len(rows) == 1, (start, table)
    return rows[0]


def test_task_table_shows_seeds_solved_and_the_median_range_of_the_solved_seeds():
    records = _cell(
        "lstm", 10, (True, False, True), start=100
    )  # seeds 0 and 2: 100, 300
    records += _cell("rnn", 10, (False, False, False))
    table = report.task_table(records, "adding")
    assert table.splitlines()[0].split()[:4] == [
        "model",
        "T",
        "weights",
        "solved",
    ]
    row = _row(table, "lstm", "10")
    assert "2 of 3" in row and "200 [100-300]" in row
    assert spread([100, 300]) in row
    assert row.split()[-1] == "0.020"  # the mean final error of the three seeds
    none = _row(table, "rnn", "10")
    assert "0 of 3" in none and " - " in none
    assert table.splitlines()[0].split()[-1] == "error"


def test_a_strict_task_table_shows_the_stricter_rules_seeds_and_no_error():
    records = _cell(
        "lstm", 10, (True, False, True), start=100
    )  # strict: seed 0 only, 200
    table = report.task_table(records, "adding", strict=True)
    assert "error" not in table.splitlines()[0]
    row = _row(table, "lstm", "10")
    assert row.split()[2:] == ["100", "1", "of", "3", "200"]


def test_task_table_shows_a_single_solved_seed_without_a_range_and_reber_without_T():
    records = _cell(
        "lstm", None, (True, False, False), task="reber", start=1234
    )
    row = _row(report.task_table(records, "reber"), "lstm", "-")
    assert "1 of 3" in row and "1,234" in row and "[" not in row


def test_verdict_table_gives_the_largest_T_solved_none_and_not_run():
    five = (True, True, True, True, False)  # 4 of 5: solved
    three = (True, True, True, False, False)  # 3 of 5: not solved
    records = (
        _cell("lstm", 10, five)
        + _cell("lstm", 30, five)
        + _cell("lstm", 100, three)
    )
    records += _cell("gru", 10, three) + _cell("gru", 30, three)
    records += _cell("lstm", None, five, task="reber") + _cell(
        "gru", None, three, task="reber"
    )
    table = report.verdict_table(
        records, ["adding", "reber", "copy"], ["lstm", "gru", "rnn"]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["task", "LSTM", "GRU", "RNN"]
    assert lines[1].split() == ["adding", "T=30", "none", "not", "run"]
    assert lines[2].split() == ["reber", "solved", "none", "not", "run"]
    assert lines[3].split() == [
        "copy",
        "not",
        "run",
        "not",
        "run",
        "not",
        "run",
    ]
    # a solved short T does not hide an unsolved longer one: the largest solved T counts
    gap = _cell("lstm", 10, three) + _cell("lstm", 30, five)
    assert report.verdict_table(gap, ["adding"], ["lstm"]).splitlines()[
        1
    ].split() == [
        "adding",
        "T=30+",
    ]  # "+": the largest length run, so the limit was not found


def test_tuning_table_shows_every_rates_median_score_the_best_and_the_edge():
    def runs(
        model, lr, sequences
    ):  # None: unsolved, scored 2 x the budget of 4,000
        return [
            task_record(
                model, 10, seed, lr=lr, solved=s is not None, sequences=s or 0
            )
            for seed, s in enumerate(sequences)
        ]

    tuning = runs("lstm", 1e-3, [None, None, 3000]) + runs(
        "lstm", 1e-2, [1000, 900, 1500]
    )
    tuning += runs("lstm", 1e-1, [2000, None, 2000]) + runs(
        "gru", 1e-3, [500, 500, 500]
    )
    tuning += runs("gru", 1e-2, [600, 700, 800])
    table = report.tuning_table(tuning)
    head = table.splitlines()[0].split()
    assert head == ["task", "model", "0.001", "0.01", "0.1", "best"]
    lstm = _row(table, "adding", "lstm")
    assert lstm.split()[2:] == [
        "8.0k",
        "1.0k",
        "2.0k",
        "0.01",
    ]  # medians; no edge
    gru = _row(table, "adding", "gru")
    assert gru.split()[2:] == [
        "0.5k",
        "0.7k",
        "-",
        "0.001",
        "(edge)",
    ]  # 1e-1 not tried


def test_tuning_table_prints_a_language_models_loss():
    tuning = []
    for lr, loss in ((1e-3, 1.6), (1e-2, 1.2), (3e-2, 1.4)):
        record = story_record("lstm", 0)
        record["config"] = record["config"] | {"lr": lr}
        record["metrics"] = {"loss": loss}
        tuning.append(record)
    row = _row(report.tuning_table(tuning), "story_lm", "lstm")
    assert row.split()[2:] == ["1.600", "1.200", "1.400", "0.01"]


# --------------------------------------------------------------------------- stories


def test_story_cells_select_by_field_with_the_defaults_and_group_by_model():
    plain = [story_record(m, seed) for m in ("lstm", "gru") for seed in (0, 1)]
    hard = [story_record("lstm", seed, **HARD) for seed in (0, 1, 2)]
    short = [story_record("rnn", 0, max_distance=0)]
    longer = [story_record("lstm", 0, epochs=21)]
    records = plain + hard + short + longer
    groups = report.story_cells(
        records, distractor=False, max_distance=24, epochs=7
    )
    assert {m: len(r) for m, r in groups.items()} == {"lstm": 2, "gru": 2}
    assert {
        m: len(r)
        for m, r in report.story_cells(records, distractor=True).items()
    } == {"lstm": 3}
    assert list(report.story_cells(records, max_distance=0)) == ["rnn"]
    assert len(report.story_cells(records, epochs=21)["lstm"]) == 1
    assert sum(map(len, report.story_cells(records).values())) == len(records)


def test_by_distance_pools_the_seeds_counts_for_the_interval():
    runs = [
        story_record("lstm", 0, distances=by_distance({"agreement": [9, 9], "recall": [5, 4]},
                                                      [10, 10])),
        story_record("lstm", 1, distances=by_distance({"agreement": [20, 30], "recall": [10, 3]},
                                                      [20, 30])),
    ]  # fmt: skip
    curve = report.by_distance(runs, "recall")
    assert curve["distance"].tolist() == [0, 1]
    np.testing.assert_allclose(curve["mean"], [0.5, (0.4 + 0.1) / 2])
    np.testing.assert_allclose(curve["min"], [0.5, 0.1])
    np.testing.assert_allclose(curve["max"], [0.5, 0.4])
    # the interval is of all the stories pooled (15 of 30, 7 of 40), not of the mean share
    low, high = report.wilson([15, 7], [30, 40])
    np.testing.assert_allclose(curve["low"], low)
    np.testing.assert_allclose(curve["high"], high)
    assert curve["low"][1] < 7 / 40 < curve["high"][1] < curve["mean"][1] + 0.1
    agreement = report.by_distance(runs, "agreement")
    np.testing.assert_allclose(agreement["mean"], [0.95, 0.95])
    np.testing.assert_allclose(
        agreement["high"], report.wilson([29, 39], [30, 40])[1]
    )


def test_story_table_shows_the_median_range_and_the_gap_to_the_best_perplexity():
    runs = [
        story_record(
            "gru", 0, agreement=0.9, recall=0.3, test_ppl=3.0, bound_ppl=2.5
        ),
        story_record(
            "gru", 1, agreement=0.7, recall=0.5, test_ppl=3.4, bound_ppl=2.5
        ),
        story_record(
            "gru", 2, agreement=0.8, recall=0.4, test_ppl=3.2, bound_ppl=2.5
        ),
    ]
    table = report.story_table({"gru": runs, "lstm": [story_record("lstm", 0)]})
    assert table.splitlines()[0] == "best perplexity on the test stories: 2.500"
    assert table.splitlines()[1].split()[:3] == ["model", "H", "seeds"]
    gru = _row(table, "gru")
    assert gru.split()[1:3] == [str(story_size("gru")), "3"]
    assert "0.800 [0.700-0.900]" in gru and "0.400 [0.300-0.500]" in gru
    assert gru.split()[-2:] == ["3.200", "+0.700"]
    assert _row(table, "lstm").split()[1:3] == [str(story_size("lstm")), "1"]


def test_chapter_config_is_the_recorded_plain_run_of_the_model_and_seed():
    runs = [story_record("lstm", seed) for seed in (0, 1)] + [
        story_record("gru", 0)
    ]
    runs += [
        story_record("lstm", 0, **HARD),
        story_record("lstm", 0, max_distance=0),
    ]
    runs += [story_record("lstm", 0, epochs=21)]
    records = records_file(runs)
    config = report.chapter_config(records, "lstm", 1)
    assert isinstance(config, StoryLMConfig)
    assert (config.cell, config.seed, config.lr) == ("lstm", 1, 1e-2)
    assert (
        config.hidden_size == story_size("lstm") and config.max_distance == 24
    )
    assert report.chapter_config(records, "gru").hidden_size == story_size(
        "gru"
    )
    with pytest.raises(ValueError, match="0 plain runs of 'rnn', seed 0"):
        report.chapter_config(records, "rnn")
    with pytest.raises(ValueError, match="0 plain runs of 'lstm', seed 4"):
        report.chapter_config(records, "lstm", 4)


# ----------------------------------------------------------------------------- others


def test_run_minutes_says_how_the_records_were_made():
    record = records_file(_cell(), tuning=_cell("gru"))
    text = report.run_minutes(record)
    assert text == (
        f"made by `make experiments` on 2024-05-01: 6 runs, 67 min of run time on 2 "
        f"processes (code {record['code_hash']})"
    )
