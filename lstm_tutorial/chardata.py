"""Character-level text data for the NumPy language model of Part II.

The default corpus is text that ships with every CPython: the help topics of ``pydoc``
(``pydoc_data.topics``), about 460,000 characters of English prose and code. Nothing is
downloaded; any text file the reader points at works too.

Every public function and ``CharVocab`` check their arguments first (with
:mod:`lstm_tutorial.checks`) and raise a TypeError or ValueError that names the argument:
a path that is not a path, a character outside the vocabulary, ids that are negative, too
large or not integers, a split that leaves one side empty, batch sizes that are not counts,
and a text too short for one batch are refused before any work, never wrapped around or
turned into an empty result. ``CharVocab.decode`` and ``unigram_bits_per_char`` take ids
as an integer array or a list of ints; ``split`` and ``bptt_batches``, which return views
of their ids, take a NumPy array only.

``bptt_batches`` covers every character of a text by default (an evaluation must);
training asks it for full batches only (``drop_last=True``), and ``dropped_characters``
counts what that leaves out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstm_tutorial import checks


def python_docs_text() -> str:
    """The pydoc help topics of this Python, joined in sorted order (a few hundred kB)."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip() for k in sorted(topics))


def load_text(path: str | Path | None = None) -> str:
    """Read a UTF-8 text file, or return :func:`python_docs_text` when ``path`` is None.

    Raises FileNotFoundError for a missing file and ValueError for a directory, a file that
    is not UTF-8 text or one of fewer than two characters.
    """
    if path is None:
        return python_docs_text()
    path = checks.path("path", path)
    if not path.exists():
        raise FileNotFoundError(
            f"path must name a text file, but there is no file at {path}"
        )
    if not path.is_file():
        raise ValueError(
            f"path must name a text file, got {path}, which is not a file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"path must name a UTF-8 text file, but {path} is not: {err}"
        ) from None
    if len(text) < 2:
        raise ValueError(
            f"path must name a text of at least two characters, but {path} has {len(text)}"
        )
    return text


def _stream_ids(name: str, value: Any) -> np.ndarray:
    """A 1-D integer NumPy array of ids >= 0 (a list is refused: the batches are its views)."""
    ids = checks.array(name, value, kind="int", ndim=1, nonempty=False)
    if ids.size and ids.min() < 0:
        raise ValueError(f"{name} must hold ids >= 0, got {int(ids.min())}")
    return ids


@dataclass(frozen=True)
class CharVocab:
    """A bijection between the characters of a text and the integers 0..V-1.

    ``chars``: a non-empty tuple of distinct characters (strings of length 1); character
    ``chars[k]`` has id k.
    """

    chars: tuple[str, ...]

    def __post_init__(self) -> None:
        chars = checks.instance(
            "chars",
            self.chars,
            tuple,
            "a tuple of distinct characters, e.g. tuple('abc')",
        )
        if not chars:
            raise ValueError("chars must hold at least one character, got ()")
        for k, ch in enumerate(chars):
            if not isinstance(ch, str) or len(ch) != 1:
                raise checks.ArgumentTypeError(
                    f"chars must hold single characters, got chars[{k}] = {checks.describe(ch)}"
                )
        if len(set(chars)) != len(chars):
            twice = sorted({ch for ch in chars if chars.count(ch) > 1})
            raise ValueError(
                f"chars must be distinct, but {twice} occur more than once"
            )

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """The sorted distinct characters of ``text`` (a non-empty string)."""
        text = checks.string("text", text)
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Text -> int64 array of shape (len(text),). Unknown characters raise ValueError."""
        text = checks.string("text", text, empty=True)
        index = {ch: k for k, ch in enumerate(self.chars)}
        try:
            return np.fromiter(
                (index[ch] for ch in text), dtype=np.int64, count=len(text)
            )
        except KeyError as err:
            position = text.index(err.args[0])
            raise ValueError(
                f"text must hold only characters of the vocabulary: {err.args[0]!r} is not in "
                f"the vocabulary of {self.size} characters (text[{position}])"
            ) from None

    def decode(self, ids: Any) -> str:
        """1-D ids in [0, V) (an integer array or a list of ints) -> text."""
        ids = checks.ids("ids", ids, self.size, ndim=1, nonempty=False)
        return "".join(self.chars[k] for k in ids)


def split(
    ids: np.ndarray, val_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Split a 1-D id array into a training head and a validation tail (no shuffling).

    ``val_fraction`` in (0, 1); each side must keep at least two ids (one input and its
    target).
    """
    ids = _stream_ids("ids", ids)
    val_fraction = checks.fraction(
        "val_fraction", val_fraction, open_low=True, open_high=True
    )
    cut = int(round(len(ids) * (1 - val_fraction)))
    if cut < 2 or len(ids) - cut < 2:
        raise ValueError(
            f"ids ({len(ids)} of them) are too few to split with val_fraction={val_fraction}: "
            f"it leaves {cut} for training and {len(ids) - cut} for validation, and each side "
            "needs at least 2"
        )
    return ids[:cut], ids[cut:]


def bptt_batches(
    ids: np.ndarray, batch_size: int, seq_len: int, drop_last: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (inputs, targets), int64 arrays of shape (seq_len, batch_size), for truncated BPTT.

    The text is cut into ``batch_size`` contiguous streams of S = (len(ids) - 1) //
    batch_size characters each, laid side by side; consecutive batches continue every stream
    where the previous batch stopped, so a model can carry its state (h, c) from one batch to
    the next. The targets are the inputs shifted by one character.

    With ``drop_last=False`` (the default) every character after the first is a target
    exactly once, so an evaluation covers the whole text: when S is not a multiple of
    ``seq_len``, the last window of every stream is shorter, (S % seq_len, batch_size); and
    the r = (len(ids) - 1) % batch_size characters that do not fill a stream come last, as
    batches of width 1, (at most seq_len, 1), that continue the *last* stream (a caller that
    carries the state keeps only that stream's state for them). With ``drop_last=True``
    only full (seq_len, batch_size) batches come, as training wants (every update averages
    the same number of positions); :func:`dropped_characters` counts what it leaves out.

    The arguments are checked when it is called, not at the first batch: ids too few for one
    full batch (``batch_size * seq_len + 1``) are a ValueError, never an empty iterator.
    """
    ids = _stream_ids("ids", ids)
    batch_size = checks.positive_int("batch_size", batch_size)
    seq_len = checks.positive_int("seq_len", seq_len)
    drop_last = checks.boolean("drop_last", drop_last)
    stream_len = _stream_len(ids, batch_size, seq_len)
    return _batches(ids, batch_size, seq_len, stream_len, drop_last)


def _stream_len(ids: np.ndarray, batch_size: int, seq_len: int) -> int:
    """S = (len(ids) - 1) // batch_size, refused if it is shorter than one window."""
    stream_len = (len(ids) - 1) // batch_size
    if stream_len < seq_len:
        raise ValueError(
            f"ids ({len(ids)} of them) are too few for one batch of batch_size={batch_size} "
            f"and seq_len={seq_len}: it needs batch_size * seq_len + 1 = "
            f"{batch_size * seq_len + 1} ids"
        )
    return stream_len


def _batches(
    ids: np.ndarray,
    batch_size: int,
    seq_len: int,
    stream_len: int,
    drop_last: bool,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    used = stream_len * batch_size  # characters in the B equal streams
    x = ids[:used].reshape(batch_size, stream_len).T  # (S, B)
    y = ids[1 : used + 1].reshape(batch_size, stream_len).T
    last = stream_len - seq_len if drop_last else stream_len - 1
    for start in range(0, last + 1, seq_len):
        yield x[start : start + seq_len], y[start : start + seq_len]
    if drop_last:
        return
    # The r < B characters after the streams continue the last stream.
    tail_x, tail_y = ids[used:-1, None], ids[used + 1 :, None]  # (r, 1)
    for start in range(0, len(tail_x), seq_len):
        yield tail_x[start : start + seq_len], tail_y[start : start + seq_len]


def dropped_characters(n_ids: int, batch_size: int, seq_len: int) -> int:
    """How many targets ``bptt_batches(ids, batch_size, seq_len, drop_last=True)`` leaves
    out of ``n_ids`` ids (of ``n_ids - 1`` targets): each stream's ragged end and the
    characters that do not fill a stream. ``n_ids`` must allow one full batch."""
    n_ids = checks.positive_int("n_ids", n_ids)
    batch_size = checks.positive_int("batch_size", batch_size)
    seq_len = checks.positive_int("seq_len", seq_len)
    stream_len = (n_ids - 1) // batch_size
    if stream_len < seq_len:
        raise ValueError(
            f"n_ids ({n_ids}) is too few for one batch of batch_size={batch_size} and "
            f"seq_len={seq_len}: it must be at least {batch_size * seq_len + 1}"
        )
    kept = (stream_len // seq_len) * seq_len * batch_size
    return n_ids - 1 - kept


def unigram_bits_per_char(
    train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int
) -> float:
    """Bits per character on ``val_ids`` of a model that ignores context entirely.

    It predicts every character with its training frequency (add-one smoothed): the baseline
    any language model that reads context has to beat. Both id arrays are 1-D, non-empty,
    with ids in [0, vocab_size).
    """
    vocab_size = checks.positive_int("vocab_size", vocab_size)
    train_ids = checks.ids("train_ids", train_ids, vocab_size, ndim=1)
    val_ids = checks.ids("val_ids", val_ids, vocab_size, ndim=1)
    counts = (
        np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + 1.0
    )
    p = counts / counts.sum()
    return float(-np.mean(np.log2(p[val_ids])))
