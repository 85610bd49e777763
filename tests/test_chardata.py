"""Character data: the shipped corpus, the vocabulary, and batches for truncated BPTT."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tutorial.chardata import (
    CharVocab,
    bptt_batches,
    load_text,
    python_docs_text,
    split,
    unigram_bits_per_char,
)


def test_python_docs_text_ships_with_python_and_is_large():
    text = python_docs_text()
    assert len(text) > 100_000
    assert "function" in text and text == python_docs_text()


def test_load_text_reads_a_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("hello world", encoding="utf-8")
    assert load_text(path) == "hello world"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="at least two characters"):
        load_text(path)


def test_vocab_round_trips_and_refuses_unknown_characters():
    vocab = CharVocab.from_text("abca")
    assert vocab.chars == ("a", "b", "c")
    ids = vocab.encode("cab")
    assert ids.dtype == np.int64 and ids.tolist() == [2, 0, 1]
    assert vocab.decode(ids) == "cab"
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("az")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        vocab.decode([0, 3])


def test_split_keeps_order_and_checks_fraction():
    train, val = split(np.arange(100), 0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match="val_fraction"):
        split(np.arange(100), 1.5)


def test_bptt_batches_continue_each_stream_and_shift_targets():
    ids = np.arange(41)
    batches = list(bptt_batches(ids, batch_size=2, seq_len=5))
    assert len(batches) == 4
    x0, y0 = batches[0]
    assert x0.shape == (5, 2)
    np.testing.assert_array_equal(y0, x0 + 1)
    np.testing.assert_array_equal(batches[1][0][0], x0[-1] + 1)  # stream continues
    assert x0[0].tolist() == [0, 20]


def test_bptt_batches_refuse_too_short_input():
    with pytest.raises(ValueError, match="too few"):
        list(bptt_batches(np.arange(10), batch_size=4, seq_len=5))


def test_unigram_baseline_is_entropy_of_the_frequencies():
    train = np.array([0, 0, 1, 1])
    assert unigram_bits_per_char(train, np.array([0, 1]), 2) == pytest.approx(1.0)
