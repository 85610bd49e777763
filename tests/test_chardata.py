"""Character data: the shipped corpus, the vocabulary, and batches for truncated BPTT."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tutorial.chardata import (
    CharVocab,
    bptt_batches,
    dropped_characters,
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
    assert train.tolist() == list(range(90)) and val.tolist() == list(
        range(90, 100)
    )
    with pytest.raises(ValueError, match="val_fraction"):
        split(np.arange(100), 1.5)


def test_bptt_batches_continue_each_stream_and_shift_targets():
    ids = np.arange(41)
    batches = list(bptt_batches(ids, batch_size=2, seq_len=5, drop_last=True))
    assert len(batches) == 4
    x0, y0 = batches[0]
    assert x0.shape == (5, 2)
    np.testing.assert_array_equal(y0, x0 + 1)
    np.testing.assert_array_equal(
        batches[1][0][0], x0[-1] + 1
    )  # stream continues
    assert x0[0].tolist() == [0, 20]
    # The default keeps the ragged end: here S = 20 fills four windows exactly.
    assert len(list(bptt_batches(ids, batch_size=2, seq_len=5))) == 4


@pytest.mark.parametrize(
    "n, batch_size, seq_len",
    [
        (41, 2, 5),
        (58, 3, 8),
        (100, 4, 7),
        (20001, 32, 64),
        (37, 5, 3),
        (8, 7, 1),
    ],
)
def test_every_character_is_a_target_exactly_once_by_default(
    n, batch_size, seq_len
):
    ids = np.arange(
        n
    )  # id k is character k, so the targets say which characters they are
    batches = list(bptt_batches(ids, batch_size, seq_len))
    targets = np.concatenate([y.T.reshape(-1) for _, y in batches])
    assert sorted(targets.tolist()) == list(
        range(1, n)
    )  # each of 1..n-1 exactly once
    for x, y in batches:
        np.testing.assert_array_equal(y, x + 1)  # the target follows its input
        assert x.shape[0] <= seq_len and x.shape[1] in (batch_size, 1)
    stream_len = (n - 1) // batch_size
    full = [x for x, _ in batches if x.shape == (seq_len, batch_size)]
    assert len(full) == stream_len // seq_len
    with_drop = list(bptt_batches(ids, batch_size, seq_len, drop_last=True))
    assert all(x.shape == (seq_len, batch_size) for x, _ in with_drop)
    assert len(with_drop) == len(full)
    covered = sum(y.size for _, y in with_drop)
    assert dropped_characters(n, batch_size, seq_len) == n - 1 - covered


def test_the_windows_of_width_one_continue_the_last_stream():
    ids = np.arange(
        24
    )  # 23 targets: 3 streams of 7, and 2 characters left over
    batches = list(bptt_batches(ids, batch_size=3, seq_len=4))
    shapes = [x.shape for x, _ in batches]
    assert shapes == [
        (4, 3),
        (3, 3),
        (2, 1),
    ]  # the last stream's window is the ragged end
    last_stream = np.concatenate([x[:, -1] for x, _ in batches])
    np.testing.assert_array_equal(
        last_stream, np.arange(14, 23)
    )  # one unbroken text


def test_the_seq_len_demo_of_the_book_loses_no_character():
    text = "The for statement iterates over the items of any iterable."
    ids = np.arange(len(text))
    rows = [
        "".join(text[k] for k in x[:, b])
        for x, _ in bptt_batches(ids, 3, 8)
        for b in range(x.shape[1])
    ]
    streams = ["".join(rows[b::3]) for b in range(3)]
    assert (
        "".join(streams) == text[:-1]
    )  # every character but the last is an input


def test_bptt_batches_refuse_too_short_input():
    with pytest.raises(ValueError, match="too few"):
        list(bptt_batches(np.arange(10), batch_size=4, seq_len=5))
    with pytest.raises(TypeError, match="drop_last must be"):
        bptt_batches(np.arange(100), batch_size=2, seq_len=5, drop_last=1)
    with pytest.raises(ValueError, match="n_ids .* too few"):
        dropped_characters(10, batch_size=4, seq_len=5)


def test_unigram_baseline_is_entropy_of_the_frequencies():
    train = np.array([0, 0, 1, 1])
    assert unigram_bits_per_char(train, np.array([0, 1]), 2) == pytest.approx(
        1.0
    )


# ---------------------------------------------------------------------------------------------
# Bad input that the harness of test_bad_input_text.py cannot express
# ---------------------------------------------------------------------------------------------


def test_load_text_names_the_path_when_the_file_is_missing_a_directory_or_not_utf8(
    tmp_path,
):
    with pytest.raises(FileNotFoundError, match="path must name a text file"):
        load_text(tmp_path / "missing.txt")
    with pytest.raises(
        ValueError, match="path must name a text file.*not a file"
    ):
        load_text(tmp_path)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\u00e9 cr\u00e8me".encode("latin-1"))
    with pytest.raises(ValueError, match="path must name a UTF-8 text file"):
        load_text(latin1)
    with pytest.raises(TypeError, match="path must be a path"):
        load_text(3)


def test_encode_names_the_unknown_character_and_where_it_is():
    with pytest.raises(
        ValueError, match=r"text must hold only .*'!' .*\(text\[5\]\)"
    ):
        CharVocab.from_text("hello world").encode("hello!")
    assert CharVocab.from_text("ab").encode("").shape == (
        0,
    )  # the empty text is fine


def test_decode_refuses_negative_ids_instead_of_wrapping_and_accepts_lists():
    vocab = CharVocab.from_text("abc")
    with pytest.raises(
        ValueError, match=r"ids must hold ids in \[0, 3\).*got -1"
    ):
        vocab.decode(np.array([0, -1]))  # would otherwise be "ac"
    assert vocab.decode([2, 0]) == "ca" and vocab.decode([]) == ""


def test_vocab_refuses_repeated_characters_and_strings_longer_than_one():
    with pytest.raises(ValueError, match=r"chars must be distinct.*\['a'\]"):
        CharVocab(("a", "b", "a"))
    with pytest.raises(TypeError, match="chars must hold single characters"):
        CharVocab(("ab", "c"))
    with pytest.raises(
        TypeError, match=r"chars must be a tuple.*tuple\('abc'\)"
    ):
        CharVocab(["a", "b"])


def test_split_refuses_a_fraction_that_leaves_one_side_too_small():
    with pytest.raises(
        ValueError, match="too few to split with val_fraction=0.05"
    ):
        split(np.arange(10), 0.05)  # 0 or 1 validation ids
    with pytest.raises(ValueError, match="too few to split"):
        split(np.arange(3), 0.5)
    with pytest.raises(
        ValueError, match=r"val_fraction must be a finite number in \(0, 1\)"
    ):
        split(np.arange(100), 1.0)


def test_bptt_batches_checks_when_called_not_at_the_first_batch():
    # A generator function would only complain at next(); an empty training loop is worse.
    with pytest.raises(
        ValueError, match="batch_size=4 and seq_len=5: it needs .* 21 ids"
    ):
        bptt_batches(np.arange(20), batch_size=4, seq_len=5)
    assert len(list(bptt_batches(np.arange(21), batch_size=4, seq_len=5))) == 1
    with pytest.raises(TypeError, match="seq_len must be an integer"):
        bptt_batches(np.arange(100), batch_size=2, seq_len=5.0)
    with pytest.raises(
        TypeError, match=r"ids must be a NumPy array.*np\.asarray"
    ):
        bptt_batches(list(range(100)), batch_size=2, seq_len=5)


def test_unigram_refuses_a_vocabulary_smaller_than_the_ids():
    with pytest.raises(
        ValueError, match=r"train_ids must hold ids in \[0, 2\)"
    ):
        unigram_bits_per_char(np.array([0, 1, 2]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match=r"val_ids must hold ids in \[0, 3\)"):
        unigram_bits_per_char(np.array([0, 1, 2]), np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="val_ids must not be empty"):
        unigram_bits_per_char(
            np.array([0, 1, 2]), np.array([], dtype=np.int64), 3
        )
