"""Tests of the long-time-lag task generators: determinism, shapes, and the task rules."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tutorial.tasks import (
    ADDING_TOLERANCE,
    REBER_SYMBOLS,
    adding_correct,
    adding_problem,
    copy_correct,
    copy_memory,
    embedded_reber,
    encode_reber,
    is_embedded_reber,
    reber_correct,
    reber_legal_next,
    reber_string,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------ adding problem


def test_adding_is_deterministic_given_the_generator():
    a, b = adding_problem(20, 30, rng(1)), adding_problem(20, 30, rng(1))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = adding_problem(20, 30, rng(2))
    assert not np.array_equal(a.x, c.x)


def test_adding_shapes_and_dtypes():
    batch = adding_problem(7, 50, rng())
    assert batch.x.shape == (7, 55, 2) and batch.x.dtype == np.float32
    assert batch.lengths.shape == (7,) and batch.lengths.dtype == np.int64
    assert batch.target.shape == (7,) and batch.target.dtype == np.float32


@pytest.mark.parametrize("T", [4, 10, 25, 100])
def test_adding_follows_the_rules_of_the_paper(T):
    batch = adding_problem(500, T, rng(T))
    values, markers = batch.x[..., 0], batch.x[..., 1]
    assert np.all((batch.lengths >= T) & (batch.lengths <= T + T // 10))
    assert np.all(np.abs(values) <= 1.0)
    marked = markers == 1.0
    assert np.all(marked.sum(axis=1) == 2)
    positions = np.argwhere(marked)[:, 1].reshape(
        -1, 2
    )  # (n, 2), sorted per row
    assert np.all(
        positions[:, 0] < min(10, T // 2)
    )  # one mark among the first ten steps
    assert np.all(positions[:, 1] < T // 2)  # the other in the first half
    for k, length in enumerate(batch.lengths):
        assert markers[k, length - 1] == -1.0  # the last step
        assert markers[k, 0] in (-1.0, 1.0)  # the first step: -1 unless marked
        assert np.all(batch.x[k, length:] == 0.0)  # padding
        assert np.all(
            markers[k, 1 : length - 1][~marked[k, 1 : length - 1]] == 0.0
        )
    # A marked first step counts as 0.
    first_marked = marked[:, 0]
    assert first_marked.any() and np.all(values[first_marked, 0] == 0.0)


def test_adding_target_is_half_plus_a_quarter_of_the_marked_sum():
    batch = adding_problem(300, 20, rng(3))
    values, markers = batch.x[..., 0].astype(np.float64), batch.x[..., 1]
    expected = 0.5 + (values * (markers == 1.0)).sum(axis=1) / 4.0
    np.testing.assert_allclose(batch.target, expected, atol=1e-6)
    assert np.all((batch.target >= 0.0) & (batch.target <= 1.0))


def test_adding_correct_uses_the_papers_tolerance():
    target = np.array([0.5, 0.5, 0.5])
    prediction = target + np.array(
        [0.0, ADDING_TOLERANCE - 1e-6, ADDING_TOLERANCE + 1e-6]
    )
    np.testing.assert_array_equal(
        adding_correct(prediction, target), [True, True, False]
    )
    assert ADDING_TOLERANCE == 0.04
    with pytest.raises(ValueError, match="shape"):
        adding_correct(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize(
    "args, match",
    [
        ((0, 10), "n must be"),
        ((5, 3), "T must be"),
        ((5, 10.0), "T must be"),
        ((True, 10), "n"),
    ],
)
def test_adding_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        adding_problem(*args, rng())


def test_generators_reject_a_seed_instead_of_a_generator():
    for call in (
        lambda: adding_problem(2, 10, 0),
        lambda: embedded_reber(2, 0),
        lambda: copy_memory(2, 10, np.random.RandomState(0)),
    ):
        with pytest.raises(ValueError, match="numpy.random.Generator"):
            call()


# ------------------------------------------------------------------ embedded Reber grammar


def test_reber_is_deterministic_and_valid():
    a, b = embedded_reber(100, rng(5)), embedded_reber(100, rng(5))
    assert a.strings == b.strings and a.legal_next == b.legal_next
    for string, legal in zip(*a, strict=True):
        assert is_embedded_reber(string)
        assert set(string) <= set(REBER_SYMBOLS)
        assert (
            string[1] == string[-2] and string[1] in "TP"
        )  # the long-lag symbol
        assert len(legal) == len(string) - 1
        for t, symbols in enumerate(legal):
            assert string[t + 1] in symbols  # what came next was legal


def test_reber_exclude_never_returns_an_excluded_string():
    train = embedded_reber(256, rng(0))
    plain = embedded_reber(256, rng(1))
    assert set(plain.strings) & set(
        train.strings
    )  # short strings recur: the test is real
    test = embedded_reber(256, rng(1), exclude=train.strings)
    assert not set(test.strings) & set(train.strings)
    assert len(test.strings) == 256 and all(
        is_embedded_reber(s) for s in test.strings
    )
    assert test.legal_next == [reber_legal_next(s) for s in test.strings]
    again = embedded_reber(
        256, rng(1), exclude=set(train.strings)
    )  # any collection
    assert again.strings == test.strings  # deterministic for the same generator
    assert (
        embedded_reber(20, rng(2), exclude=()).strings
        == embedded_reber(20, rng(2)).strings
    )


@pytest.mark.parametrize(
    "exclude", ["BTBTXSETE", b"BTBTXSETE", 3, None, ["BTBTXSETE", 3]]
)
def test_reber_exclude_must_be_a_collection_of_strings(exclude):
    with pytest.raises(TypeError, match="exclude"):
        embedded_reber(2, rng(0), exclude=exclude)


def test_reber_legal_next_symbols_of_a_known_string():
    expected = ["PT", "B", "PT", "SX", "SX", "E", "T", "E"]
    legal = reber_legal_next("BTBTXSETE")
    assert ["".join(sorted(s)) for s in legal] == expected
    legal = reber_legal_next("BPBPVVEPE")  # P branch, inner string BPVVE
    assert ["".join(sorted(s)) for s in legal] == [
        "PT",
        "B",
        "PT",
        "TV",
        "PV",
        "E",
        "P",
        "E",
    ]


def test_plain_reber_strings_follow_the_grammar():
    for _ in range(50):
        inner = reber_string(rng(_))
        assert is_embedded_reber(f"BT{inner}TE")


@pytest.mark.parametrize(
    "bad",
    [
        "BTBTXSEPE",  # the second-to-last symbol must repeat the second
        "BTBTXSET",  # missing the final E
        "BTBTXSETEE",  # one symbol too many
        "BTBTXXETE",  # XX cannot end the inner string
        "TBTXSETE",  # no initial B
        "BXBTXSEXE",  # second symbol must be T or P
        "BTTXSETE",  # no inner B
        "BTBTXSQTE",  # a symbol outside the alphabet
        "",
    ],
)
def test_reber_validator_rejects_corrupted_strings(bad):
    assert not is_embedded_reber(bad)
    with pytest.raises(ValueError, match="not an embedded Reber string"):
        reber_legal_next(bad)


def test_reber_validator_rejects_every_single_symbol_change_that_breaks_the_grammar():
    strings = embedded_reber(30, rng(9)).strings
    generator = rng(10)
    for s in strings:
        k = int(generator.integers(len(s)))
        for symbol in REBER_SYMBOLS.replace(s[k], ""):
            corrupted = s[:k] + symbol + s[k + 1 :]
            # A change is legal only if the symbol was one of the legal alternatives there
            # and the rest still parses; the validator and the legal sets must agree.
            legal_here = k > 0 and symbol in reber_legal_next(s)[k - 1]
            if not legal_here:
                assert not is_embedded_reber(corrupted)
    assert not is_embedded_reber(None)


def test_encode_reber_shapes_and_contents():
    sample = embedded_reber(12, rng(4))
    batch = encode_reber(sample)
    n, L, S = batch.x.shape
    assert (n, S) == (12, 7) and L == max(map(len, sample.strings)) - 1
    assert batch.x.dtype == np.float32 and batch.target.dtype == np.int64
    assert batch.legal.dtype == bool and batch.lengths.dtype == np.int64
    for k, string in enumerate(sample.strings):
        m = len(string) - 1
        assert batch.lengths[k] == m
        decoded = "".join(REBER_SYMBOLS[i] for i in batch.x[k, :m].argmax(-1))
        assert decoded == string[:-1]
        assert (
            "".join(REBER_SYMBOLS[i] for i in batch.target[k, :m]) == string[1:]
        )
        assert np.all(batch.target[k, m:] == -100) and np.all(
            batch.x[k, m:] == 0
        )
        for t in range(m):
            legal = {
                REBER_SYMBOLS[i] for i in np.flatnonzero(batch.legal[k, t])
            }
            assert legal == set(sample.legal_next[k][t])
    with pytest.raises(ValueError):
        encode_reber([])
    with pytest.raises(ValueError, match="not an embedded Reber string"):
        encode_reber(["BTBTXSEPE"])


def test_reber_correct_needs_the_legal_symbols_on_top_at_every_step():
    batch = encode_reber(embedded_reber(5, rng(6)))
    scores = np.where(batch.legal, 1.0, 0.0)
    assert reber_correct(scores, batch.legal, batch.lengths).all()
    broken = scores.copy()
    t = int(batch.lengths[2]) - 2  # the step that needs the long-lag memory
    wrong = int(np.flatnonzero(~batch.legal[2, t])[0])
    broken[2, t, wrong] = 2.0
    np.testing.assert_array_equal(
        reber_correct(broken, batch.legal, batch.lengths),
        [True, True, False, True, True],
    )
    # Scores after a string's end are ignored.
    padded = scores.copy()
    padded[0, batch.lengths[0] :] = np.random.default_rng(0).normal(size=(1, 7))
    assert reber_correct(padded, batch.legal, batch.lengths)[0]
    with pytest.raises(ValueError, match="shape"):
        reber_correct(scores[:, :, :6], batch.legal, batch.lengths)


# ---------------------------------------------------------------------------- copy memory


def test_copy_memory_layout():
    batch = copy_memory(6, 15, rng(7), n_symbols=5, length=4)
    assert batch.x.shape == batch.y.shape == (6, 15 + 8)
    assert batch.x.dtype == batch.y.dtype == np.int64
    symbols = batch.x[:, :4]
    assert np.all((symbols >= 1) & (symbols <= 5))
    assert np.all(batch.x[:, 4 : 15 + 3] == 0)  # T - 1 blanks
    assert np.all(batch.x[:, 15 + 3] == 6)  # the delimiter
    assert np.all(batch.x[:, 15 + 4 :] == 0)
    assert np.all(batch.y[:, : 15 + 4] == 0)
    np.testing.assert_array_equal(batch.y[:, -4:], symbols)


def test_copy_memory_is_deterministic_with_the_papers_defaults():
    a, b = copy_memory(3, 100, rng(8)), copy_memory(3, 100, rng(8))
    np.testing.assert_array_equal(a.x, b.x)
    assert a.x.shape == (3, 120) and a.x.max() == 9  # 8 symbols, delimiter 9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"T": 0}, "T must be"),
        ({"n_symbols": 0}, "n_symbols"),
        ({"length": 0}, "length"),
    ],
)
def test_copy_memory_rejects_bad_arguments(kwargs, match):
    args = {"n": 2, "T": 10} | kwargs
    with pytest.raises(ValueError, match=match):
        copy_memory(args.pop("n"), args.pop("T"), rng(), **args)


def test_copy_correct_checks_the_last_symbols_only():
    batch = copy_memory(3, 5, rng(1), length=2)
    predicted = batch.y.copy()
    predicted[0, 0] = 3  # a wrong blank is not scored
    predicted[1, -1] = 0  # a wrong symbol is
    np.testing.assert_array_equal(
        copy_correct(predicted, batch.y, 2), [True, False, True]
    )
    with pytest.raises(ValueError, match="shape"):
        copy_correct(predicted[:, :-1], batch.y, 2)
