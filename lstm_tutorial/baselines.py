"""Baselines that a language model on real text must beat, on the same text.

A validation loss means little alone: 2.1 bits per character is excellent for
one text and poor for another. These baselines say what is cheap to get,
measured in the same unit (bits per token, base 2) on the same validation text
as the network:

- :func:`uniform_bits`: every token equally likely, log2(V) bits. A model that
  learned nothing scores this.
- :func:`unigram_bits`: every token with its training frequency (add-alpha
  smoothed), context ignored. A model that learned only which tokens are common
  scores this.
- :class:`NGramModel`: the next token from the k - 1 tokens before it, with
  interpolated Kneser-Ney smoothing, the strongest classical count-based
  language model. :func:`best_order` picks k on the tail of the *training*
  tokens, never on the validation text, so the baseline is as honestly tuned as
  the network.
- :func:`compressor_bits_per_char` and :func:`compressor_table`: what lzma, bz2
  and zlib need for the validation text once they have read the training text. A
  general-purpose compressor is a language model too (a code length is a
  log-probability), and a network that loses to ``xz`` has not learned much.

Everything works on lists of string tokens
(:func:`lstm_tutorial.text.char_tokens` or
:func:`~lstm_tutorial.text.word_tokens`) and a
:class:`lstm_tutorial.text.Vocab`; a token outside the vocabulary counts as
``vocab.unk``, exactly as ``Vocab.encode`` maps it, and is refused when the
vocabulary has no unk token. The compressors read the texts themselves, as UTF-8
bytes, and report bits per *character*.

Every public function, class and method checks its arguments first (with
:mod:`lstm_tutorial.checks`) and raises a TypeError or ValueError that names the
argument: one string where a list of tokens is expected, an empty list, a token
that is not a non-empty string, a vocabulary that is not a ``text.Vocab``, an
order below 1, a discount outside (0, 1], a smoothing ``alpha`` that is not
positive, an unknown compressor.
"""

from __future__ import annotations

import bz2
import lzma
import math
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lstm_tutorial import checks
from lstm_tutorial.text import Vocab

#: The compressors of :func:`compressor_bits_per_char`, at their strongest.
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "lzma": lambda data: lzma.compress(data, preset=9 | lzma.PRESET_EXTREME),
    "bz2": lambda data: bz2.compress(data, compresslevel=9),
    "zlib": lambda data: zlib.compress(data, level=9),
}
#: The names of the compressors, in the order of :func:`compressor_table`.
METHODS = tuple(COMPRESSORS)
#: The orders :func:`best_order` tries by default.
ORDERS = tuple(range(1, 9))
#: The discount of every count where too few counts-of-counts allow an estimate.
FALLBACK_DISCOUNT = 0.75


# ---------------------------------------------------------- checking the tokens


def _check_vocab(vocab: Any) -> Vocab:
    vocab = checks.instance(
        "vocab", vocab, Vocab, "a text.Vocab (Vocab.build(tokens, unk='<unk>'))"
    )
    if vocab.size > 0x110000:  # each id is stored as one character
        raise ValueError(
            f"vocab must hold at most {0x110000} tokens, got {vocab.size}"
        )
    return vocab


def _encode(
    name: str, tokens: Any, vocab: Vocab, *, empty: bool = False
) -> str:
    """Tokens -> their ids as a string, one character ``chr(id)`` per token.

    An n-gram is then a slice of that string: a compact, fast dictionary key.
    Unknown tokens become ``vocab.unk``; without one they are a ValueError
    naming ``name``.
    """
    if isinstance(tokens, str):
        raise checks.ArgumentTypeError(
            f"{name} must be a list of tokens, got one string: tokenize it "
            "first (text.char_tokens or text.word_tokens)"
        )
    checks.sequence(name, tokens, empty=empty)
    if not all(type(token) is str and token for token in tokens):
        for k, token in enumerate(tokens):
            checks.string(f"{name}[{k}]", token)
    code = {token: chr(k) for k, token in enumerate(vocab.tokens)}
    if vocab.unk is None:
        unknown = [token for token in tokens if token not in code]
        if unknown:
            raise ValueError(
                f"{name} holds {len(unknown)} tokens not in the vocabulary of "
                f"{vocab.size}, such as {unknown[:5]}, and the vocabulary has "
                "no unk token (Vocab.build(..., unk='<unk>'))"
            )
        return "".join([code[token] for token in tokens])
    unk = code[vocab.unk]
    return "".join([code.get(token, unk) for token in tokens])


# ------------------------------------------------------- context-free baselines


def uniform_bits(vocab_size: int) -> float:
    """log2(V): the bits per token when every token is equally likely."""
    return math.log2(checks.positive_int("vocab_size", vocab_size))


def unigram_bits(
    train_tokens: Sequence[str],
    valid_tokens: Sequence[str],
    vocab: Vocab,
    alpha: float = 1.0,
) -> float:
    """Bits per token on ``valid_tokens`` of the training frequencies alone.

    p(w) = (count(w) + alpha) / (N + alpha V), counted over the N training
    tokens for every token of the vocabulary (so one never seen still gets a
    little).
    """
    vocab = _check_vocab(vocab)
    train = _encode("train_tokens", train_tokens, vocab)
    valid = _encode("valid_tokens", valid_tokens, vocab)
    alpha = checks.positive_number("alpha", alpha)
    counts = Counter(train)
    denominator = len(train) + alpha * vocab.size
    bits = {
        w: -math.log2((counts[w] + alpha) / denominator) for w in set(valid)
    }
    return sum(bits[w] for w in valid) / len(valid)


# ----------------------------------------------------------- Kneser-Ney n-grams


@dataclass(frozen=True)
class _Level:
    """One order n of the model: counts of n-grams (raw at the top order,
    continuation counts below), discounted, and per context (n - 1 tokens) its
    total and the mass the discounts freed for the order below."""

    discounted: dict[str, float]  # n-gram -> count - D(count)
    contexts: dict[str, tuple[float, float]]  # context -> (total, freed)
    discounts: tuple[float, float, float]  # D(1), D(2), D(3 or more)


def _estimate_discounts(counts: Counter[str]) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts from the counts of counts.

    Chen and Goodman's estimates: with n_r the number of n-grams seen r times
    and Y = n_1 / (n_1 + 2 n_2),
    D(1) = 1 - 2Y n_2/n_1, D(2) = 2 - 3Y n_3/n_2, D(3+) = 3 - 4Y n_4/n_3. Where
    some n_r is 0 or an estimate falls outside (0, r] (a tiny text), every count
    gets the fixed :data:`FALLBACK_DISCOUNT`.
    """
    n = Counter(c for c in counts.values() if c <= 4)
    fallback = (FALLBACK_DISCOUNT,) * 3
    if not all(n[r] for r in (1, 2, 3, 4)):
        return fallback
    y = n[1] / (n[1] + 2 * n[2])
    d = tuple(r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3))
    if not all(0 < d[r - 1] <= r for r in (1, 2, 3)):
        return fallback
    return d


def _level(counts: Counter[str], discount: float | None) -> _Level:
    if discount is None:
        discounts = _estimate_discounts(counts)
    else:
        discounts = (discount,) * 3
    discounted: dict[str, float] = {}
    total: dict[str, float] = {}
    freed: dict[str, float] = {}
    for gram, c in counts.items():
        d = discounts[min(c, 3) - 1]
        context = gram[:-1]
        discounted[gram] = c - d
        total[context] = total.get(context, 0) + c
        freed[context] = freed.get(context, 0.0) + d
    contexts = {h: (total[h], freed[h]) for h in total}
    return _Level(discounted, contexts, discounts)


class _Tables:
    """The counts of one encoded training text, computed once and shared.

    Every order that needs them uses the same tables, so :func:`best_order`
    counts each n-gram once for all the orders it tries.
    """

    def __init__(self, ids: str, discount: float | None) -> None:
        self.ids, self.discount = ids, discount
        self._raw: dict[int, Counter[str]] = {}
        self._cont: dict[int, Counter[str]] = {}
        self._levels: dict[tuple[int, bool], _Level] = {}

    def raw(self, n: int) -> Counter[str]:
        """How often each n-gram occurs."""
        if n not in self._raw:
            ids = self.ids
            self._raw[n] = Counter(
                ids[i : i + n] for i in range(len(ids) - n + 1)
            )
        return self._raw[n]

    def continuation(self, n: int) -> Counter[str]:
        """After how many different tokens each n-gram occurs (the start of the
        text counting as one more, so that every n-gram seen has a count)."""
        if n not in self._cont:
            counts: Counter[str] = Counter(g[1:] for g in self.raw(n + 1))
            if len(self.ids) >= n:
                counts[self.ids[:n]] += 1
            self._cont[n] = counts
        return self._cont[n]

    def level(self, n: int, top: bool) -> _Level:
        if (n, top) not in self._levels:
            counts = self.raw(n) if top else self.continuation(n)
            self._levels[n, top] = _level(counts, self.discount)
        return self._levels[n, top]

    def levels(self, order: int) -> list[_Level]:
        """Orders 1..order of a model: continuation counts below the top."""
        return [self.level(n, n == order) for n in range(1, order + 1)]


def _check_discount(discount: Any) -> float | None:
    return checks.optional(
        checks.number,
        "discount",
        discount,
        minimum=0.0,
        maximum=1.0,
        min_open=True,
    )


class NGramModel:
    """An order-k language model with interpolated Kneser-Ney smoothing.

    ``order`` = k: the next token depends on the k - 1 before it (1 is a unigram
    model). The probability of token w after context h (its last k - 1 tokens)
    is built from the bottom up, starting from the uniform 1/V over the
    vocabulary::

        p_n(w | h) = (max(c_n(h w) - D_n, 0) + F_n(h) p_{n-1}(w | h'))
                     / c_n(h .)

    where h' drops the oldest token of h, c_n(h .) sums c_n(h w) over w, and
    F_n(h) = sum over the w seen after h of D_n(c_n(h w)), the mass the
    discounts freed: so every p_n(. | h) sums to 1 over the vocabulary. A
    context never seen at order n hands down p_{n-1} unchanged. At the top order
    c_n counts occurrences; below, it counts *after how many different tokens*
    the n-gram occurs (Kneser-Ney's continuation count; the start of the text
    counts as one), because a lower order is consulted only where the longer
    context was rare: "Francisco" is common but follows only "San".

    The discounts: with ``discount=None`` (the default) modified Kneser-Ney,
    three discounts per order, D(1), D(2) and D(3+), estimated from that order's
    counts of counts (Chen and Goodman 1999); with ``discount=d`` in (0, 1],
    plain interpolated Kneser-Ney with the fixed D = d for every count and
    order. :attr:`discounts` lists them, order 1 first.

    The training tokens are one stream (no sentence marks). Tokens outside
    ``vocab`` count as ``vocab.unk``; every vocabulary token, seen or not, gets
    a probability.
    """

    def __init__(
        self,
        train_tokens: Sequence[str],
        order: int,
        vocab: Vocab,
        discount: float | None = None,
    ) -> None:
        vocab = _check_vocab(vocab)
        ids = _encode("train_tokens", train_tokens, vocab)
        order = checks.positive_int("order", order)
        discount = _check_discount(discount)
        self._setup(_Tables(ids, discount), order, vocab)

    @classmethod
    def _from_tables(
        cls, tables: _Tables, order: int, vocab: Vocab
    ) -> NGramModel:
        model = cls.__new__(cls)
        model._setup(tables, order, vocab)
        return model

    def _setup(self, tables: _Tables, order: int, vocab: Vocab) -> None:
        self.order, self.vocab, self.discount = order, vocab, tables.discount
        self._levels = tables.levels(order)
        self.discounts = tuple(level.discounts for level in self._levels)

    @property
    def vocab_size(self) -> int:
        return self.vocab.size

    def _prob(self, history: str, w: str) -> float:
        """p(w | the last order - 1 ids of ``history``), both encoded."""
        p = 1.0 / self.vocab.size
        end = len(history)
        for n in range(1, min(self.order, end + 1) + 1):
            level = self._levels[n - 1]
            context = history[end - n + 1 :]
            seen = level.contexts.get(context)
            if seen is not None:
                total, freed = seen
                gram = level.discounted.get(context + w, 0.0)
                p = (gram + freed * p) / total
        return p

    def _tail(self, name: str, tokens: Any) -> str:
        """The last order - 1 tokens of ``tokens`` (may be empty), encoded."""
        ids = _encode(name, tokens, self.vocab, empty=True)
        return ids[len(ids) - self.order + 1 :] if self.order > 1 else ""

    def log2_prob(self, context: Sequence[str], token: str) -> float:
        """log2 p(token | context). ``context`` lists the tokens before (its
        last order - 1 count; fewer, even none, use the lower orders only)."""
        history = self._tail("context", context)
        checks.string("token", token)
        w = _encode("token", [token], self.vocab)
        return math.log2(self._prob(history, w))

    def distribution(self, context: Sequence[str]) -> dict[str, float]:
        """p(w | context) for every token w of the vocabulary: they sum to 1."""
        history = self._tail("context", context)
        return {
            token: self._prob(history, chr(k))
            for k, token in enumerate(self.vocab.tokens)
        }

    def bits(
        self,
        tokens: Sequence[str],
        history: Sequence[str] | None = None,
    ) -> float:
        """Mean -log2 p over ``tokens``, each predicted from those before it.

        Without ``history`` the first order - 1 tokens have shorter contexts
        (the first token none). ``history`` lists tokens that come before
        ``tokens`` (its last order - 1 matter): pass the training tokens when
        ``tokens`` continue them, as a validation split cut from the end of a
        text does.
        """
        ids = _encode("tokens", tokens, self.vocab)
        before = "" if history is None else self._tail("history", history)
        return self._bits(before, ids)

    def _bits(self, before: str, ids: str) -> float:
        """Mean -log2 p of the encoded ``ids``, after the encoded ``before``."""
        stream = (
            before[len(before) - self.order + 1 :] if self.order > 1 else ""
        )
        start = len(stream)
        stream += ids
        k, prob = self.order - 1, self._prob
        total = 0.0
        for j in range(start, len(stream)):
            total -= math.log2(prob(stream[max(0, j - k) : j], stream[j]))
        return total / len(ids)

    def __repr__(self) -> str:
        return (
            f"NGramModel(order={self.order}, vocab_size={self.vocab.size}, "
            f"discount={self.discount})"
        )


def _dev_cut(name: str, length: int, dev_fraction: float) -> int:
    cut = int(round(length * (1 - dev_fraction)))
    if cut < 1 or cut >= length:
        raise ValueError(
            f"{name} ({length} tokens) are too few to keep dev_fraction="
            f"{dev_fraction} of them for choosing the order: each side needs "
            "at least one token"
        )
    return cut


def best_order(
    train_tokens: Sequence[str],
    vocab: Vocab,
    orders: Sequence[int] = ORDERS,
    dev_fraction: float = 0.1,
    discount: float | None = None,
) -> tuple[int, dict[int, float]]:
    """The order of :class:`NGramModel` that best predicts held-out training.

    The last ``dev_fraction`` of ``train_tokens`` is the dev text; each order is
    fitted on the tokens before it and scored on it (continuing from them,
    ``history``). The validation text is never seen: refit the chosen order on
    all of ``train_tokens`` and score the validation text once. Returns the
    order of the fewest dev bits per token (the smaller on a tie) and ``{order:
    dev bits}``. The counts are computed once and shared by all orders.
    """
    vocab = _check_vocab(vocab)
    ids = _encode("train_tokens", train_tokens, vocab)
    checks.sequence("orders", orders)
    orders = [
        checks.positive_int(f"orders[{k}]", n) for k, n in enumerate(orders)
    ]
    if len(set(orders)) != len(orders):
        raise ValueError(f"orders must list each order once, got {orders}")
    dev_fraction = checks.fraction(
        "dev_fraction", dev_fraction, open_low=True, open_high=True
    )
    discount = _check_discount(discount)
    cut = _dev_cut("train_tokens", len(ids), dev_fraction)
    head, tail = ids[:cut], ids[cut:]
    tables = _Tables(head, discount)
    dev = {
        n: NGramModel._from_tables(tables, n, vocab)._bits(head, tail)
        for n in sorted(orders)
    }
    return min(dev, key=lambda n: (dev[n], n)), dev


# ------------------------------------------------------------------ compressors


def _compressed_bits(method: str, train: bytes, valid: bytes) -> float:
    compress = COMPRESSORS[method]
    return 8.0 * (len(compress(train + valid)) - len(compress(train)))


def compressor_bits_per_char(
    train_text: str, valid_text: str, method: str
) -> float:
    """Bits per character a compressor spends on ``valid_text`` after training.

    The result is::

        8 * (len(compress(train + valid)) - len(compress(train)))
          / len(valid_text)

    with the texts as UTF-8 bytes, divided by the number of *characters* (not
    bytes), so that it compares with a character model's bits. Each compressor
    runs at its strongest setting, and how much of the training text each can
    use differs:

    - ``"lzma"`` (xz, preset 9 | PRESET_EXTREME): a 64 MiB dictionary, so all of
      a training text of a few MB can be matched.
    - ``"bz2"`` (level 9): the Burrows-Wheeler transform works on blocks of
      900 kB, so the training text helps only where it shares the validation
      text's block (a text under 900 kB is one block).
    - ``"zlib"`` (level 9, DEFLATE): a 32 KiB window, so it sees only the last
      32 KiB of the training text; it is usually the weakest of the three.

    The difference of two compressed sizes is an estimate (framing and block
    boundaries shift it by a few bytes), not a code length the compressor
    guarantees.
    """
    checks.string("train_text", train_text)
    checks.string("valid_text", valid_text)
    checks.choice("method", method, METHODS)
    bits = _compressed_bits(
        method, train_text.encode("utf-8"), valid_text.encode("utf-8")
    )
    return bits / len(valid_text)


def compressor_table(train_text: str, valid_text: str) -> dict[str, float]:
    """{method: :func:`compressor_bits_per_char`} for lzma, bz2 and zlib."""
    checks.string("train_text", train_text)
    checks.string("valid_text", valid_text)
    return {
        method: compressor_bits_per_char(train_text, valid_text, method)
        for method in METHODS
    }
