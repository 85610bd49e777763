"""Turning a language model's next-character distributions into text.

A trained model gives, after each character, log-probabilities for the next one. A
*decoding method* decides which character to emit:

- ``greedy``: always the most probable character;
- ``sample``: draw one at random from the distribution, optionally sharpened or flattened
  by a ``temperature`` and restricted to the ``top_k`` most probable characters;
- ``beam_search``: keep the ``beam_width`` best partial sequences (by total log-probability)
  and extend all of them, so that a character that looks poor now can win later.

Every method talks to the model through a small *step interface* (``StepModel``): feed one
id per sequence, get log-probabilities and a new state back. ``charlm.CharLM`` implements it,
and so does ``BigramModel`` below, a tiny hand-made model whose answers can be worked out on
paper. Random choices come from a ``numpy.random.Generator``: the same seed, the same text.

The end of the module measures generated text: ``distinct_n`` (diversity),
``repeated_ngram_rate`` (repetition) and ``mean_log_prob`` (how likely the model itself
finds the text), and ``text_stats`` computes all three for a set of continuations.

Every public function and class checks its arguments before any work, with
:mod:`lstm_tutorial.checks`, and raises a TypeError or ValueError that names the argument:
a model without the step interface, prompt or continuation ids outside its vocabulary (or
a ``CharVocab`` of another size than the model's), temperatures, ``top_k``, ``beam_width``,
lengths and counts that are not positive (or are booleans, floats, inf), a ``rng`` that is
not a ``numpy.random.Generator``, log-probabilities holding NaN or +inf, texts that are not
strings or are too short for their n-grams. The functions the book shows (``prime``,
``greedy``, ``beam_search``, ``adjust_log_probs``, ``draw``, ``distinct_n``,
``repeated_ngram_rate``) do it in one line that calls a private check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from lstm_tutorial import checks
from lstm_tutorial.chardata import CharVocab

IntArray = NDArray[np.integer]
LogProbs = NDArray[np.float64]


class StepModel(Protocol):
    """What a decoder needs from a model. B is the number of sequences decoded side by side."""

    vocab_size: int

    def start_state(self, batch_size: int) -> Any:
        """The state before the first character, for ``batch_size`` sequences."""

    def step(self, ids: IntArray, state: Any) -> tuple[LogProbs, Any]:
        """ids (B,) -> log-probabilities of the next id (B, V) float64, and the new state."""

    def select_state(self, state: Any, rows: IntArray) -> Any:
        """The states of sequences ``rows`` (an int array), in that order."""


@dataclass
class BigramModel:
    """A hand-made model: the next id depends only on the id just fed.

    ``log_probs[a, b]`` is log p(next = b | fed = a), a (V, V) table whose rows are
    distributions. The state is the number of steps taken (unused); it exists so that the
    model has the full ``StepModel`` interface.
    """

    log_probs: NDArray[np.float64]

    def __post_init__(self) -> None:
        table = checks.array("log_probs", self.log_probs, kind="float", ndim=2)
        if table.shape[0] != table.shape[1]:
            raise ValueError(
                f"log_probs must be a square (V, V) table, got shape {table.shape}"
            )
        _check_log_probs("log_probs", table)
        if not np.allclose(np.exp(table).sum(axis=1), 1.0):
            raise ValueError(
                "each row of log_probs must be a distribution (exp sums to 1)"
            )
        self.log_probs = np.asarray(table, dtype=np.float64)

    @property
    def vocab_size(self) -> int:
        return self.log_probs.shape[0]

    def start_state(self, batch_size: int) -> NDArray[np.int64]:
        return np.zeros(
            checks.positive_int("batch_size", batch_size), dtype=np.int64
        )

    def step(
        self, ids: IntArray, state: NDArray[np.int64]
    ) -> tuple[LogProbs, NDArray[np.int64]]:
        ids = checks.ids("ids", ids, self.vocab_size, ndim=1)
        state = checks.array("state", state, kind="int", shape=(len(ids),))
        return self.log_probs[ids], state + 1

    def select_state(
        self, state: NDArray[np.int64], rows: IntArray
    ) -> NDArray[np.int64]:
        state = checks.array("state", state, kind="int", ndim=1)
        return state[_check_rows(rows, len(state))]


# ---------------------------------------------------------------------------------------------
# Checking arguments, and reading the prompt
# ---------------------------------------------------------------------------------------------


def _check_model(model: Any) -> int:
    """``model`` has the ``StepModel`` interface; returns its vocab_size."""
    missing = [
        name
        for name in ("vocab_size", "start_state", "step", "select_state")
        if not hasattr(model, name)
        or (name != "vocab_size" and not callable(getattr(model, name)))
    ]
    if missing:
        raise checks.ArgumentTypeError(
            "model must have the step interface of decoding.StepModel (vocab_size, "
            f"start_state, step, select_state), but {checks.describe(model)} lacks {missing}"
        )
    return checks.positive_int("model.vocab_size", model.vocab_size)


def _check_prompt(model: Any, prompt_ids: Any, batch_size: Any = 1) -> IntArray:
    """The model, its prompt (1-D ids in [0, V), at least one) and the batch size."""
    vocab_size = _check_model(model)
    ids = checks.ids(
        "prompt_ids", prompt_ids, vocab_size, ndim=1, nonempty=False
    )
    if ids.size == 0:
        raise ValueError(
            "prompt_ids must hold at least one id: the prompt must contain at least one "
            "character (id); got an empty one"
        )
    checks.positive_int("batch_size", batch_size)
    return ids


def _check_length(length: Any) -> int:
    return checks.positive_int("length", length)


def _check_rows(rows: Any, batch_size: int) -> IntArray:
    """Row numbers of a state of ``batch_size`` sequences: 1-D, in [0, batch_size)."""
    rows = checks.array("rows", rows, kind="int", ndim=1)
    if rows.min() < 0 or rows.max() >= batch_size:
        bad = rows.min() if rows.min() < 0 else rows.max()
        raise ValueError(
            f"rows must hold sequence numbers in [0, {batch_size}) (the state holds "
            f"{batch_size} sequences), got {bad}"
        )
    return rows


def _check_log_probs(
    name: str, log_probs: Any, ndim: int | None = None
) -> LogProbs:
    """Floating-point log-probabilities (..., V): -inf allowed (impossible ids), NaN and +inf
    not, and every row gives some id a probability."""
    log_probs = checks.array(name, log_probs, kind="float", ndim=ndim)
    if log_probs.ndim == 0:
        raise ValueError(f"{name} must have shape (..., V), got a 0-d array")
    if np.isnan(log_probs).any() or np.isposinf(log_probs).any():
        raise ValueError(
            f"{name} must hold log-probabilities (finite or -inf), got NaN or +inf"
        )
    if not np.isfinite(log_probs).any(axis=-1).all():
        raise ValueError(
            f"{name} must give some id a probability in every row, got a row of -inf"
        )
    return log_probs


def prime(
    model: StepModel,
    prompt_ids: IntArray,
    batch_size: int = 1,
) -> tuple[LogProbs, Any]:
    """Feed the prompt, one id at a time, to ``batch_size`` copies of the
    model. Returns the log-probabilities of the character after the
    prompt, (batch_size, V), and the state after it.
    """
    ids = _check_prompt(model, prompt_ids, batch_size)
    state = model.start_state(batch_size)
    for token in ids:
        log_probs, state = model.step(np.full(batch_size, token), state)
    return log_probs, state


def adjust_log_probs(
    log_probs: LogProbs,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> LogProbs:
    """The distribution a sampler draws from.

    log_probs: (..., V). Returns normalised log-probabilities of the same
    shape: softmax(log_probs / temperature), and with ``top_k`` only the
    k most probable ids keep a probability (the others get -inf).
    A temperature below 1 sharpens the distribution, above 1 flattens it.
    """
    _check_sampling(temperature, top_k, log_probs)
    scaled = log_probs / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        # a stable sort ranks equal scores by id: ties are repeatable
        order = np.argsort(-scaled, axis=-1, kind="stable")
        scaled = scaled.copy()
        np.put_along_axis(scaled, order[..., top_k:], -np.inf, axis=-1)
    shifted = scaled - scaled.max(axis=-1, keepdims=True)
    log_total = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted - log_total


_NOT_GIVEN = object()


#: Dividing log-probabilities by a smaller temperature overflows to inf (and then NaN);
#: for the limit temperature -> 0 use ``greedy``.
MIN_TEMPERATURE = 1e-6


def _check_sampling(
    temperature: Any, top_k: Any, log_probs: Any = _NOT_GIVEN
) -> None:
    checks.number("temperature", temperature, minimum=MIN_TEMPERATURE)
    checks.optional(checks.positive_int, "top_k", top_k)
    if log_probs is not _NOT_GIVEN:
        _check_log_probs("log_probs", log_probs)


def _check_draw(log_probs: Any, rng: Any) -> None:
    _check_log_probs("log_probs", log_probs, ndim=2)
    checks.rng("rng", rng)


def draw(log_probs: LogProbs, rng: np.random.Generator) -> IntArray:
    """One id per row of ``log_probs`` (B, V), drawn with those
    probabilities, by inverting the cumulative distribution. Returns (B,).
    """
    _check_draw(log_probs, rng)
    cumulative = np.cumsum(np.exp(log_probs), axis=-1)  # (B, V)
    u = rng.random(len(cumulative)) * cumulative[:, -1]  # in [0, total)
    ids = (cumulative <= u[:, None]).sum(axis=-1)  # first id with cdf > u
    return np.minimum(ids, log_probs.shape[-1] - 1)


# ---------------------------------------------------------------------------------------------
# The decoding methods
# ---------------------------------------------------------------------------------------------


def greedy(
    model: StepModel,
    prompt_ids: IntArray,
    length: int,
) -> NDArray[np.int64]:
    """Greedy decoding: at every step the most probable id (the smallest
    id among ties). Returns the ``length`` ids after the prompt, int64."""
    length = _check_length(length)
    log_probs, state = prime(model, prompt_ids)  # log_probs: (1, V)
    out = np.empty(length, dtype=np.int64)
    for t in range(length):
        out[t] = np.argmax(log_probs[0])
        if t + 1 < length:
            log_probs, state = model.step(out[t : t + 1], state)
    return out


def sample(
    model: StepModel,
    prompt_ids: IntArray,
    length: int,
    *,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    num_samples: int | None = None,
) -> NDArray[np.int64]:
    """Sampling: every id drawn from ``adjust_log_probs(...)``.

    ``rng`` makes it repeatable. Returns (length,) int64, or
    (num_samples, length) when ``num_samples`` is given (the samples are
    drawn side by side, as one batch).
    """
    length = _check_length(length)
    checks.rng("rng", rng)
    _check_sampling(temperature, top_k)
    if num_samples is None:
        B = 1
    else:
        B = checks.positive_int("num_samples", num_samples)
    _check_prompt(model, prompt_ids, B)
    log_probs, state = prime(model, prompt_ids, B)  # (B, V)
    out = np.empty((B, length), dtype=np.int64)
    for t in range(length):
        adjusted = adjust_log_probs(log_probs, temperature, top_k)
        out[:, t] = draw(adjusted, rng)
        if t + 1 < length:
            log_probs, state = model.step(out[:, t], state)
    return out[0] if num_samples is None else out


@dataclass
class Beam:
    """A finished hypothesis of beam search: its ids and total log-probability (nats)."""

    ids: NDArray[np.int64]
    log_prob: float

    def __post_init__(self) -> None:
        checks.array("ids", self.ids, kind="int", ndim=1)
        log_prob = checks.number("log_prob", self.log_prob, finite=False)
        if log_prob == np.inf:
            raise ValueError(
                "log_prob must be a log-probability (<= 0 or -inf), got inf"
            )

    def score(self, length_normalize: bool) -> float:
        checks.boolean("length_normalize", length_normalize)
        if length_normalize:
            return self.log_prob / len(self.ids)
        return self.log_prob


def beam_search(
    model: StepModel,
    prompt_ids: IntArray,
    length: int,
    *,
    beam_width: int = 5,
    end_id: int | None = None,
    length_normalize: bool = False,
) -> list[Beam]:
    """Beam search for a likely continuation of at most ``length`` ids.

    Each step extends every live sequence (at most ``beam_width``) by
    every id, scores it by its total log-probability, and keeps the
    ``beam_width`` best. A sequence that emits ``end_id`` (if given)
    finishes and leaves the beam; at ``length`` all finish. Returns the
    finished sequences, best first: by total log-probability or, with
    ``length_normalize``, by log-probability per id, so that short
    sequences do not win just by being short.
    """
    length = _check_length(length)
    _check_beam(model, beam_width, end_id, length_normalize)
    log_probs, state = prime(model, prompt_ids)  # (1, V): one beam
    scores = np.zeros(1)  # total log-probability of each live beam
    sequences = np.zeros((1, 0), dtype=np.int64)  # (beams, t)
    finished: list[Beam] = []
    for t in range(length):
        V = log_probs.shape[-1]
        candidates = (scores[:, None] + log_probs).reshape(-1)  # (beams*V,)
        best = np.argsort(-candidates, kind="stable")[:beam_width]
        rows, ids = best // V, best % V  # which beam, extended by which id
        sequences = np.column_stack([sequences[rows], ids])
        scores = candidates[best]
        done = ids == end_id if end_id is not None else ids < 0
        if t + 1 == length:
            done[:] = True
        for seq, score in zip(sequences[done], scores[done], strict=True):
            finished.append(Beam(seq, float(score)))
        live = ~done
        if not live.any():
            break
        sequences, scores = sequences[live], scores[live]
        state = model.select_state(state, rows[live])  # reorder the beams
        log_probs, state = model.step(ids[live], state)
    finished.sort(key=lambda b: b.score(length_normalize), reverse=True)
    return finished


def _check_beam(
    model: StepModel, beam_width: Any, end_id: Any, length_normalize: Any
) -> None:
    vocab_size = _check_model(model)
    checks.positive_int("beam_width", beam_width)
    checks.optional(
        checks.integer, "end_id", end_id, minimum=0, maximum=vocab_size - 1
    )
    checks.boolean("length_normalize", length_normalize)


# ---------------------------------------------------------------------------------------------
# Text in, text out
# ---------------------------------------------------------------------------------------------


def _check_vocab(vocab: Any, model: Any = None) -> CharVocab:
    """A ``CharVocab``, of the model's vocab_size when a model is given."""
    checks.instance("vocab", vocab, CharVocab, "a chardata.CharVocab")
    if model is not None:
        vocab_size = _check_model(model)
        if vocab.size != vocab_size:
            raise ValueError(
                f"vocab must be the model's vocabulary, but it has {vocab.size} characters "
                f"and model.vocab_size is {vocab_size}"
            )
    return vocab


def _check_chars(
    name: str, text: Any, vocab: CharVocab, *, empty: bool = False
) -> str:
    """A string of characters of ``vocab`` only."""
    text = checks.string(name, text, empty=empty)
    unknown = sorted(set(text) - set(vocab.chars))
    if unknown:
        raise ValueError(
            f"{name} contains characters the model has never seen: {unknown}; "
            f"expected only characters of its vocabulary of {vocab.size}"
        )
    return text


def encode_prompt(vocab: Any, prompt: str) -> IntArray:
    """The prompt's ids under ``vocab`` (a ``chardata.CharVocab``), with clear errors."""
    vocab = _check_vocab(vocab)
    return vocab.encode(_check_chars("prompt", prompt, vocab))


METHODS = ("greedy", "sample", "beam")


def generate(
    model: StepModel,
    vocab: Any,
    prompt: str,
    length: int,
    method: str = "sample",
    *,
    rng: np.random.Generator | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    beam_width: int = 5,
) -> str:
    """Generate ``length`` characters after ``prompt`` and return them as text.

    ``method`` is "greedy", "sample" (with ``temperature``, ``top_k`` and ``rng``) or "beam"
    (the best sequence of ``beam_search`` with ``beam_width``).
    """
    return generate_many(
        model,
        vocab,
        prompt,
        length,
        method,
        rng=rng,
        temperature=temperature,
        top_k=top_k,
        beam_width=beam_width,
    )[0]


def generate_many(
    model: StepModel,
    vocab: Any,
    prompt: str,
    length: int,
    method: str = "sample",
    *,
    num_samples: int = 1,
    rng: np.random.Generator | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    beam_width: int = 5,
) -> list[str]:
    """Like ``generate``, but returns ``num_samples`` texts for "sample" (drawn side by side)
    and one text for the deterministic methods, "greedy" and "beam".

    Every argument is checked first, also those the method does not use (a bad
    ``temperature`` is an error with "greedy" too); ``rng`` may be given with any method.
    """
    _check_vocab(vocab, model)
    _check_length(length)
    checks.choice("method", method, METHODS)
    checks.positive_int("num_samples", num_samples)
    checks.optional(checks.rng, "rng", rng)
    _check_sampling(temperature, top_k)
    checks.positive_int("beam_width", beam_width)
    if method == "sample" and rng is None:
        raise ValueError(
            "rng is needed by method='sample': give a numpy.random.Generator"
        )
    prompt_ids = encode_prompt(vocab, prompt)
    if method == "greedy":
        ids = greedy(model, prompt_ids, length)[None]
    elif method == "sample":
        ids = sample(
            model,
            prompt_ids,
            length,
            rng=rng,
            temperature=temperature,
            top_k=top_k,
            num_samples=num_samples,
        )
    else:  # "beam"
        beams = beam_search(model, prompt_ids, length, beam_width=beam_width)
        ids = beams[0].ids[None]
    return [vocab.decode(row) for row in ids]


# ---------------------------------------------------------------------------------------------
# Measuring generated text
# ---------------------------------------------------------------------------------------------


def _check_text(name: str, text: Any, n: Any) -> None:
    """A string with at least one n-gram (n >= 1)."""
    n = checks.positive_int("n", n)
    text = checks.string(name, text, empty=True)
    if len(text) < n:
        raise ValueError(
            f"{name} must have at least n = {n} characters, but a text of {len(text)} "
            f"characters has no {n}-grams"
        )


def _check_texts(texts: Any, n: Any) -> None:
    """One text or a non-empty list or tuple of texts, each with an n-gram."""
    if isinstance(texts, str):
        _check_text("texts", texts, n)
        return
    for k, text in enumerate(checks.sequence("texts", texts)):
        _check_text(f"texts[{k}]", text, n)


def _ngrams(text: str, n: int) -> list[str]:
    return [text[k : k + n] for k in range(len(text) - n + 1)]


def distinct_n(texts: str | Sequence[str], n: int) -> float:
    """Diversity: distinct character n-grams / all n-grams.

    ``texts``: one text or several, whose n-grams are pooled (so several
    identical samples score low). 1.0: no n-gram occurs twice; near 0:
    the same few n-grams over and over.
    """
    _check_texts(texts, n)
    texts = [texts] if isinstance(texts, str) else list(texts)
    grams = [g for text in texts for g in _ngrams(text, n)]
    return len(set(grams)) / len(grams)


def repeated_ngram_rate(text: str, n: int) -> float:
    """Repetition: the fraction of the n-grams of ``text`` that already
    occurred earlier in it. With a long n (say 10 characters) it counts
    copied phrases and loops, which ordinary prose rarely has.
    """
    _check_text("text", text, n)
    seen: set[str] = set()
    repeats = 0
    grams = _ngrams(text, n)
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams)


def mean_log_prob(
    model: StepModel, prompt_ids: IntArray, ids: IntArray
) -> float:
    """The model's average log-probability (nats per character) of ``ids`` after the prompt.

    ids: (N,) or (S, N) int: S continuations of N ids each, of the same prompt,
    scored side by side.
    A method that picks likely characters scores high (near 0); random text scores low.
    """
    _check_prompt(model, prompt_ids)
    ids = checks.ids("ids", ids, model.vocab_size, ndim=(1, 2))
    ids2 = ids[None] if ids.ndim == 1 else ids  # (S, N)
    log_probs, state = prime(model, prompt_ids, ids2.shape[0])
    rows = np.arange(ids2.shape[0])
    total = np.zeros(ids2.shape[0])
    for t in range(ids2.shape[1]):
        total += log_probs[rows, ids2[:, t]]
        if t + 1 < ids2.shape[1]:
            log_probs, state = model.step(ids2[:, t], state)
    return float(total.mean() / ids2.shape[1])


@dataclass
class TextStats:
    """Measurements of a set of continuations (see ``text_stats``)."""

    bits_per_char: float  # the model's mean surprise at them, per character
    distinct: float  # distinct_n of each text, the mean over the texts
    repeated: float  # repeated_ngram_rate, the mean over the texts
    texts: list[str]

    def __post_init__(self) -> None:
        checks.number(
            "bits_per_char", self.bits_per_char, minimum=0.0, finite=False
        )
        checks.fraction("distinct", self.distinct)
        checks.fraction("repeated", self.repeated)
        for k, text in enumerate(checks.sequence("texts", self.texts)):
            checks.string(f"texts[{k}]", text)


def text_stats(
    model: StepModel,
    vocab: Any,
    prompts: Sequence[str],
    continuations: Sequence[Sequence[str]],
    *,
    distinct_order: int = 4,
    repeat_order: int = 10,
) -> TextStats:
    """Measure continuations: ``continuations[k]`` is a list of texts that follow
    ``prompts[k]`` (all of one length per prompt).

    Returns their bits per character under the model (``-mean_log_prob / ln 2``, averaged
    over prompts), and the means over the texts of ``distinct_n`` of order
    ``distinct_order`` and of ``repeated_ngram_rate`` of order ``repeat_order``. Each text
    is measured on its own, so that sets of different sizes compare fairly (pooling more
    texts would lower distinct_n by itself).
    """
    _check_stats_arguments(
        model, vocab, prompts, continuations, distinct_order, repeat_order
    )
    nats, texts = [], []
    for prompt, conts in zip(prompts, continuations, strict=True):
        ids = np.stack([vocab.encode(text) for text in conts])  # (S, N)
        nats.append(-mean_log_prob(model, encode_prompt(vocab, prompt), ids))
        texts += list(conts)
    return TextStats(
        bits_per_char=float(np.mean(nats) / np.log(2)),
        distinct=float(np.mean([distinct_n(t, distinct_order) for t in texts])),
        repeated=float(
            np.mean([repeated_ngram_rate(t, repeat_order) for t in texts])
        ),
        texts=texts,
    )


def _check_stats_arguments(
    model: Any,
    vocab: Any,
    prompts: Any,
    continuations: Any,
    distinct_order: Any,
    repeat_order: Any,
) -> None:
    _check_vocab(vocab, model)
    shortest = max(
        checks.positive_int("distinct_order", distinct_order),
        checks.positive_int("repeat_order", repeat_order),
    )
    prompts = checks.sequence("prompts", prompts)
    continuations = checks.sequence("continuations", continuations)
    if len(prompts) != len(continuations):
        raise ValueError(
            "prompts and continuations must have the same length (give one non-empty list of "
            f"continuations per prompt), got {len(prompts)} prompts and {len(continuations)} "
            "lists of continuations"
        )
    pairs = zip(prompts, continuations, strict=True)
    for k, (prompt, conts) in enumerate(pairs):
        _check_chars(f"prompts[{k}]", prompt, vocab)
        conts = checks.sequence(f"continuations[{k}]", conts)
        for j, text in enumerate(conts):
            where = f"continuations[{k}][{j}]"
            _check_chars(where, text, vocab)
            if len(text) != len(conts[0]):
                raise ValueError(
                    f"{where} must have the length of continuations[{k}][0], {len(conts[0])} "
                    f"characters (all continuations of one prompt are scored side by side), "
                    f"got {len(text)}"
                )
            if len(text) < shortest:
                raise ValueError(
                    f"{where} must have at least {shortest} characters (distinct_order="
                    f"{distinct_order}, repeat_order={repeat_order}), got {len(text)}"
                )


def text_windows(
    text: str,
    count: int,
    prompt_length: int,
    length: int,
    rng: np.random.Generator,
) -> tuple[list[str], list[list[str]]]:
    """``count`` random windows of a real text, as (prompts, continuations) for
    ``text_stats``: each prompt is ``prompt_length`` characters, followed by its
    continuation of ``length`` characters."""
    text = checks.string("text", text)
    count = checks.positive_int("count", count)
    prompt_length = checks.positive_int("prompt_length", prompt_length)
    length = checks.positive_int("length", length)
    checks.rng("rng", rng)
    span = prompt_length + length
    if len(text) < span:
        raise ValueError(
            f"text has {len(text)} characters, fewer than one window (prompt_length + length "
            f"= {span})"
        )
    if count > len(text) - span + 1:
        raise ValueError(
            f"count must be at most {len(text) - span + 1}, the number of distinct windows of "
            f"{span} characters in the text, got {count}"
        )
    starts = rng.choice(len(text) - span + 1, size=count, replace=False)
    prompts = [text[s : s + prompt_length] for s in starts]
    continuations = [[text[s + prompt_length : s + span]] for s in starts]
    return prompts, continuations
