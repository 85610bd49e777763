"""Character-level text data for the NumPy language model of Part II.

The default corpus is text that ships with every CPython: the help topics of ``pydoc``
(``pydoc_data.topics``), about 460,000 characters of English prose and code. Nothing is
downloaded; any text file the reader points at works too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def python_docs_text() -> str:
    """The pydoc help topics of this Python, joined in sorted order (a few hundred kB)."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip() for k in sorted(topics))


def load_text(path: str | Path | None = None) -> str:
    """Read a UTF-8 text file, or return :func:`python_docs_text` when ``path`` is None."""
    if path is None:
        return python_docs_text()
    text = Path(path).read_text(encoding="utf-8")
    if len(text) < 2:
        raise ValueError(f"{path} must contain at least two characters, got {len(text)}")
    return text


@dataclass(frozen=True)
class CharVocab:
    """A bijection between the characters of a text and the integers 0..V-1."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        if not text:
            raise ValueError("cannot build a vocabulary from an empty text")
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Text -> int64 array of shape (len(text),). Unknown characters raise ValueError."""
        index = {ch: k for k, ch in enumerate(self.chars)}
        try:
            return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(
                f"character {err.args[0]!r} is not in the vocabulary of {self.size} characters"
            ) from None

    def decode(self, ids) -> str:
        """Sequence of ints in [0, V) -> text."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a 1-D integer array, got {ids.dtype} {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"ids must lie in [0, {self.size}), got [{ids.min()}, {ids.max()}]")
        return "".join(self.chars[k] for k in ids)


def split(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Split a 1-D id array into a training head and a validation tail (no shuffling)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    if cut < 2 or len(ids) - cut < 2:
        raise ValueError(f"{len(ids)} ids are too few to split with val_fraction={val_fraction}")
    return ids[:cut], ids[cut:]


def bptt_batches(
    ids: np.ndarray, batch_size: int, seq_len: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (inputs, targets), each int64 of shape (seq_len, batch_size), for truncated BPTT.

    The text is cut into ``batch_size`` contiguous streams laid side by side; consecutive
    batches continue every stream where the previous batch stopped, so a model can carry its
    state (h, c) from one batch to the next. The targets are the inputs shifted by one
    character. The ragged end that does not fill a whole batch is left out (at most
    ``batch_size * seq_len`` characters).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    if batch_size < 1 or seq_len < 1:
        raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size}, {seq_len}")
    stream_len = (len(ids) - 1) // batch_size
    if stream_len < seq_len:
        raise ValueError(
            f"{len(ids)} ids are too few for batch_size={batch_size} and seq_len={seq_len}"
        )
    x = ids[: stream_len * batch_size].reshape(batch_size, stream_len).T  # (S, B)
    y = ids[1 : stream_len * batch_size + 1].reshape(batch_size, stream_len).T
    for start in range(0, stream_len - seq_len + 1, seq_len):
        yield x[start : start + seq_len], y[start : start + seq_len]


def unigram_bits_per_char(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """Bits per character on ``val_ids`` of a model that ignores context entirely.

    It predicts every character with its training frequency (add-one smoothed): the baseline
    any language model that reads context has to beat.
    """
    counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + 1.0
    p = counts / counts.sum()
    return float(-np.mean(np.log2(p[val_ids])))
