"""Any text, ready for a PyTorch language model: tokens, a vocabulary, stream batches.

The pieces of the "Language models on real text" part, usable on any corpus:

- :func:`char_tokens` and :func:`word_tokens` cut a text into tokens. Words keep their inner
  hyphens and apostrophes ("well-known", "don't"), numbers stay whole ("3.11", "1,000"),
  every other non-space character is a token of its own; :func:`join_tokens` puts tokens
  back together (exactly, for characters).
- :class:`Vocab` is built from any token sequence (:meth:`Vocab.build`): a minimum count,
  an optional unknown token that stands for everything rarer, optional padding and
  end-of-text tokens. It encodes tokens to int64 tensors and decodes ids back.
- :class:`StreamBatches` lays a token stream out as B contiguous streams and yields
  (inputs, targets) windows of shape (B, T), int64 tensors, batch first, so that a model
  can carry its state from one window to the next (truncated BPTT).
- :func:`check_ids` is the check every model of the part runs on its input; it explains a
  NumPy array, a float tensor or a (T, B) window where a (B, T) one was expected.

Reading a file goes through :func:`lstm_tutorial.chardata.load_text` (a missing, empty or
non-UTF-8 file is refused with its reason). Every public function checks its arguments
before any work and raises a TypeError or ValueError that names the argument.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from lstm_tutorial import checks

#: The unknown token :meth:`Vocab.build` adds by default.
UNK = "<unk>"
#: The tokenizers, by level.
LEVELS = ("char", "word")

_WORD = re.compile(
    r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"  # words, with inner ' or -
    r"|\d+(?:[.,]\d+)*"  # numbers: 3, 3.11, 1,000
    r"|\S",  # any other visible character, one at a time
)


def char_tokens(text: str) -> list[str]:
    """Every character of ``text``, spaces and newlines included."""
    return list(checks.string("text", text))


def word_tokens(text: str) -> list[str]:
    """Words, numbers and single punctuation marks of ``text``; spaces are dropped.

    >>> word_tokens("It's a well-known fact: Python 3.11 costs $0.")
    ["It's", 'a', 'well-known', 'fact', ':', 'Python', '3.11', 'costs', '$', '0', '.']
    """
    return _WORD.findall(checks.string("text", text))


def tokenize(text: str, level: str) -> list[str]:
    """:func:`char_tokens` or :func:`word_tokens`, by ``level`` ("char" or "word")."""
    checks.choice("level", level, LEVELS)
    return char_tokens(text) if level == "char" else word_tokens(text)


def join_tokens(tokens: Sequence[str], level: str) -> str:
    """Tokens back to text: characters are concatenated (exactly the text again), words
    joined by single spaces (the tokenizer dropped the original spacing)."""
    checks.choice("level", level, LEVELS)
    for k, token in enumerate(checks.sequence("tokens", tokens, empty=True)):
        checks.string(f"tokens[{k}]", token)
    return ("" if level == "char" else " ").join(tokens)


@dataclass(frozen=True)
class Vocab:
    """A bijection between tokens and the ids 0..V-1.

    ``tokens`` lists every token once; ``unk``, ``pad`` and ``eos`` name the special tokens
    in it (or are None). With ``unk`` set, :meth:`encode` maps every unknown token to it;
    without, an unknown token is a ValueError.
    """

    tokens: tuple[str, ...]
    unk: str | None = None
    pad: str | None = None
    eos: str | None = None

    def __post_init__(self) -> None:
        tokens = checks.sequence("tokens", self.tokens)
        for k, token in enumerate(tokens):
            checks.string(f"tokens[{k}]", token)
        if len(set(tokens)) != len(tokens):
            twice = sorted({t for t, n in Counter(tokens).items() if n > 1})
            raise ValueError(
                f"tokens must list each token once, got {twice[:5]} twice"
            )
        for name in ("unk", "pad", "eos"):
            special = checks.optional(checks.string, name, getattr(self, name))
            if special is not None and special not in tokens:
                raise ValueError(
                    f"{name}={special!r} must be one of the tokens"
                )
        object.__setattr__(self, "tokens", tuple(tokens))

    @classmethod
    def build(
        cls,
        tokens: Sequence[str],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        unk: str | None = UNK,
        pad: str | None = None,
        eos: str | None = None,
    ) -> Vocab:
        """The vocabulary of a token sequence.

        The special tokens come first (pad, unk, eos, those that are not None), then every
        token seen at least ``min_count`` times, most frequent first (ties in first-seen
        order), at most ``max_size`` tokens in all. Rarer tokens are left out, so they
        need ``unk``: a ``min_count`` or ``max_size`` that leaves a token out without an
        ``unk`` is a ValueError.
        """
        if isinstance(tokens, str):
            raise checks.ArgumentTypeError(
                "tokens must be a list of tokens, got one string: tokenize it "
                "first (char_tokens or word_tokens)"
            )
        for k, token in enumerate(checks.sequence("tokens", tokens)):
            checks.string(f"tokens[{k}]", token)
        min_count = checks.positive_int("min_count", min_count)
        checks.optional(checks.positive_int, "max_size", max_size)
        specials = []
        for name, value in (("pad", pad), ("unk", unk), ("eos", eos)):
            if checks.optional(checks.string, name, value) is not None:
                specials.append(value)
        if len(set(specials)) != len(specials):
            raise ValueError(f"pad, unk and eos must differ, got {specials}")
        counts = Counter(tokens)
        kept = [
            t
            for t, n in sorted(counts.items(), key=lambda tn: -tn[1])
            if n >= min_count and t not in specials
        ]
        if max_size is not None:
            if max_size <= len(specials):
                raise ValueError(
                    f"max_size={max_size} leaves no room beside the special "
                    f"tokens {specials}"
                )
            kept = kept[: max_size - len(specials)]
        left_out = len(counts) - len(
            [t for t in counts if t in set(kept) | set(specials)]
        )
        if left_out and unk is None:
            raise ValueError(
                f"min_count={min_count} and max_size={max_size} leave {left_out} "
                "kinds of token out, and there is no unk token to stand for them"
            )
        return cls((*specials, *kept), unk=unk, pad=pad, eos=eos)

    @cached_property
    def index(self) -> dict[str, int]:
        return {token: k for k, token in enumerate(self.tokens)}

    @property
    def size(self) -> int:
        return len(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str]) -> torch.Tensor:
        """Tokens -> int64 tensor (len(tokens),). Unknown tokens become ``unk``, or
        raise a ValueError when there is none."""
        if isinstance(tokens, str):
            raise checks.ArgumentTypeError(
                "tokens must be a list of tokens, got one string: tokenize it "
                "first (char_tokens or word_tokens)"
            )
        for k, token in enumerate(
            checks.sequence("tokens", tokens, empty=True)
        ):
            checks.string(f"tokens[{k}]", token)
        index = self.index
        if self.unk is None:
            unknown = [t for t in tokens if t not in index]
            if unknown:
                raise ValueError(
                    f"tokens holds {len(unknown)} not in the vocabulary of "
                    f"{self.size}, such as {unknown[:5]}, and the vocabulary has "
                    "no unk token (Vocab.build(..., unk='<unk>'))"
                )
            ids = [index[t] for t in tokens]
        else:
            unk = index[self.unk]
            ids = [index.get(t, unk) for t in tokens]
        return torch.tensor(ids, dtype=torch.int64)

    def decode(self, ids: Any) -> list[str]:
        """Ids in [0, V) (a 1-D integer tensor, array or list) -> tokens."""
        if isinstance(ids, torch.Tensor):
            checks.tensor("ids", ids, ndim=1, nonempty=False)
            if ids.dtype == torch.bool or ids.is_floating_point():
                raise checks.ArgumentTypeError(
                    f"ids must be integer token ids, got dtype {ids.dtype}"
                )
            ids = ids.cpu().numpy()
        ids = checks.ids("ids", ids, self.size, ndim=1, nonempty=False)
        return [self.tokens[k] for k in np.asarray(ids).tolist()]


def check_ids(
    name: str,
    ids: Any,
    vocab_size: int | None = None,
    *,
    batch_size: int | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """A batch of token ids as the models of this part read it: an int64 tensor (B, T).

    A NumPy array, a tensor of another dtype or dimension, ids outside [0, vocab_size),
    another device, and a (T, B) window where ``batch_size`` says B (so the state carried
    from the last window no longer fits) are each explained in the error.
    """
    if isinstance(ids, np.ndarray):
        raise checks.ArgumentTypeError(
            f"{name} must be a torch int64 tensor (B, T), got a NumPy array of "
            f"shape {ids.shape}; convert it with torch.from_numpy, and transpose "
            "it if it is time-major (T, B) as chardata.bptt_batches yields"
        )
    checks.tensor(name, ids, ndim=2)
    if ids.dtype != torch.int64:
        raise checks.ArgumentTypeError(
            f"{name} must hold int64 token ids, got dtype {ids.dtype}"
        )
    if device is not None and ids.device != device:
        raise ValueError(
            f"{name} is on {ids.device} but the model is on {device}: move it "
            f"with .to({str(device)!r})"
        )
    if vocab_size is not None and ids.numel():
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(
                f"{name} must hold ids in [0, {vocab_size}), got {low}..{high}"
            )
    if batch_size is not None and ids.shape[0] != batch_size:
        hint = (
            ": it looks transposed, (T, B) instead of (B, T)"
            if ids.shape[1] == batch_size
            else ""
        )
        raise ValueError(
            f"{name} has {ids.shape[0]} rows but the state carried in holds "
            f"{batch_size} streams (shape {tuple(ids.shape)}){hint}"
        )
    return ids


def split_stream(
    ids: torch.Tensor, valid_fraction: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """A 1-D id tensor -> (training head, validation tail): the last ``valid_fraction``
    of the stream is the validation text; nothing is shuffled."""
    checks.tensor("ids", ids, ndim=1, dtype=torch.int64)
    valid_fraction = checks.fraction(
        "valid_fraction", valid_fraction, open_low=True, open_high=True
    )
    cut = int(round(len(ids) * (1 - valid_fraction)))
    if cut < 2 or len(ids) - cut < 2:
        raise ValueError(
            f"ids ({len(ids)} tokens) are too few to split with valid_fraction="
            f"{valid_fraction}: each side needs at least 2 tokens"
        )
    return ids[:cut], ids[cut:]


class StreamBatches:
    """Token ids laid out as ``batch_size`` contiguous streams, read in windows.

    The text (N ids) is cut into B streams of S = (N - 1) // B ids, one per row; window k
    holds columns k*T .. k*T+T-1 of every row, so row b of window k+1 continues row b of
    window k, and a model can carry its state across windows. Iterating yields
    ``(inputs, targets)``, int64 tensors (B, T) on ``device``; the targets are the inputs
    shifted by one token. The last window is shorter when S is not a multiple of T
    (``drop_last=False``, for evaluation) or left out (``drop_last=True``, for training);
    the (N - 1) % B ids that do not fill a stream are never read (:attr:`unread`).
    """

    def __init__(
        self,
        ids: torch.Tensor,
        batch_size: int,
        seq_len: int,
        *,
        drop_last: bool = False,
        device: torch.device | str | None = None,
    ) -> None:
        if isinstance(ids, np.ndarray):
            raise checks.ArgumentTypeError(
                "ids must be a 1-D torch int64 tensor of token ids, got a NumPy "
                "array: convert it with torch.from_numpy(ids)"
            )
        checks.tensor("ids", ids, ndim=1, dtype=torch.int64)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.seq_len = checks.positive_int("seq_len", seq_len)
        self.drop_last = checks.boolean("drop_last", drop_last)
        device = checks.torch_device("device", device)
        self.stream_len = (len(ids) - 1) // batch_size
        if self.stream_len < seq_len:
            raise ValueError(
                f"ids ({len(ids)} tokens) are too few for one batch of "
                f"batch_size={batch_size} and seq_len={seq_len}: it needs "
                f"batch_size * seq_len + 1 = {batch_size * seq_len + 1} tokens"
            )
        used = self.stream_len * batch_size
        self.unread = len(ids) - 1 - used
        to = {} if device is None else {"device": device}
        self.x = ids[:used].reshape(batch_size, -1).to(**to)  # (B, S)
        self.y = ids[1 : used + 1].reshape(batch_size, -1).to(**to)

    def __len__(self) -> int:
        full, rest = divmod(self.stream_len, self.seq_len)
        return full + (1 if rest and not self.drop_last else 0)

    @property
    def targets(self) -> int:
        """How many targets one pass reads: B * S, less the ragged ends when dropped."""
        return (
            self.batch_size * self.seq_len * len(self)
            if self.drop_last
            else (self.batch_size * self.stream_len)
        )

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for k in range(len(self)):
            window = slice(k * self.seq_len, (k + 1) * self.seq_len)
            yield self.x[:, window], self.y[:, window]
