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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

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
        table = np.asarray(self.log_probs, dtype=np.float64)
        if table.ndim != 2 or table.shape[0] != table.shape[1]:
            raise ValueError(f"log_probs must be a square (V, V) table, got {table.shape}")
        if not np.allclose(np.exp(table).sum(axis=1), 1.0):
            raise ValueError("each row of log_probs must be a distribution (exp sums to 1)")
        self.log_probs = table

    @property
    def vocab_size(self) -> int:
        return self.log_probs.shape[0]

    def start_state(self, batch_size: int) -> NDArray[np.int64]:
        return np.zeros(batch_size, dtype=np.int64)

    def step(self, ids: IntArray, state: NDArray[np.int64]) -> tuple[LogProbs, NDArray[np.int64]]:
        return self.log_probs[np.asarray(ids)], state + 1

    def select_state(self, state: NDArray[np.int64], rows: IntArray) -> NDArray[np.int64]:
        return state[rows]


# ---------------------------------------------------------------------------------------------
# Checking arguments, and reading the prompt
# ---------------------------------------------------------------------------------------------


def _check_prompt(prompt_ids: Any, vocab_size: int) -> IntArray:
    ids = np.asarray(prompt_ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"prompt_ids must be a 1-D integer array, got {ids.dtype} {ids.shape}")
    if ids.size == 0:
        raise ValueError("the prompt must contain at least one character (id); got an empty one")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(
            f"prompt ids must lie in [0, {vocab_size}), got [{ids.min()}, {ids.max()}]"
        )
    return ids


def _check_length(length: Any) -> int:
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    return int(length)


def prime(
    model: StepModel,
    prompt_ids: IntArray,
    batch_size: int = 1,
) -> tuple[LogProbs, Any]:
    """Feed the prompt, one id at a time, to ``batch_size`` copies of the
    model. Returns the log-probabilities of the character after the
    prompt, (batch_size, V), and the state after it.
    """
    ids = _check_prompt(prompt_ids, model.vocab_size)
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
    _check_sampling(temperature, top_k)
    scaled = log_probs / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        # a stable sort ranks equal scores by id: ties are repeatable
        order = np.argsort(-scaled, axis=-1, kind="stable")
        scaled = scaled.copy()
        np.put_along_axis(scaled, order[..., top_k:], -np.inf, axis=-1)
    shifted = scaled - scaled.max(axis=-1, keepdims=True)
    log_total = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted - log_total


def _check_rng(rng: Any) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def _check_sampling(temperature: Any, top_k: Any) -> None:
    if not (
        isinstance(temperature, int | float)
        and not isinstance(temperature, bool)
        and np.isfinite(temperature)
        and temperature > 0
    ):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1
    ):
        raise ValueError(f"top_k must be an integer >= 1 (or None), got {top_k!r}")


def draw(log_probs: LogProbs, rng: np.random.Generator) -> IntArray:
    """One id per row of ``log_probs`` (B, V), drawn with those
    probabilities, by inverting the cumulative distribution. Returns (B,).
    """
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
    _check_rng(rng)
    _check_sampling(temperature, top_k)
    B = 1 if num_samples is None else _check_length(num_samples)
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

    def score(self, length_normalize: bool) -> float:
        return self.log_prob / len(self.ids) if length_normalize else self.log_prob


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
    _check_beam(model, beam_width, end_id)
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


def _check_beam(model: StepModel, beam_width: Any, end_id: Any) -> None:
    if (
        isinstance(beam_width, bool)
        or not isinstance(beam_width, int | np.integer)
        or beam_width < 1
    ):
        raise ValueError(f"beam_width must be an integer >= 1, got {beam_width!r}")
    if end_id is not None and not 0 <= end_id < model.vocab_size:
        raise ValueError(f"end_id must be an id in [0, {model.vocab_size}) or None, got {end_id}")


# ---------------------------------------------------------------------------------------------
# Text in, text out
# ---------------------------------------------------------------------------------------------


def encode_prompt(vocab: Any, prompt: str) -> IntArray:
    """The prompt's ids under ``vocab`` (a ``chardata.CharVocab``), with clear errors."""
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"the prompt must be a non-empty string, got {prompt!r}")
    unknown = sorted(set(prompt) - set(vocab.chars))
    if unknown:
        raise ValueError(
            f"the prompt contains characters the model has never seen: {unknown}; "
            f"expected only characters of its vocabulary of {vocab.size}"
        )
    return vocab.encode(prompt)


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
    and one text for the deterministic methods, "greedy" and "beam"."""
    prompt_ids = encode_prompt(vocab, prompt)
    if method == "greedy":
        ids = greedy(model, prompt_ids, length)[None]
    elif method == "sample":
        if rng is None:
            raise ValueError("method='sample' needs rng, a numpy.random.Generator")
        ids = sample(
            model,
            prompt_ids,
            length,
            rng=rng,
            temperature=temperature,
            top_k=top_k,
            num_samples=num_samples,
        )
    elif method == "beam":
        ids = beam_search(model, prompt_ids, length, beam_width=beam_width)[0].ids[None]
    else:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return [vocab.decode(row) for row in ids]


# ---------------------------------------------------------------------------------------------
# Measuring generated text
# ---------------------------------------------------------------------------------------------


def _ngrams(text: str, n: int) -> list[str]:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if len(text) < n:
        raise ValueError(f"a text of {len(text)} characters has no {n}-grams")
    return [text[k : k + n] for k in range(len(text) - n + 1)]


def distinct_n(texts: str | Sequence[str], n: int) -> float:
    """Diversity: distinct character n-grams / all n-grams.

    ``texts``: one text or several, whose n-grams are pooled (so several
    identical samples score low). 1.0: no n-gram occurs twice; near 0:
    the same few n-grams over and over.
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    grams = [g for text in texts for g in _ngrams(text, n)]
    return len(set(grams)) / len(grams)


def repeated_ngram_rate(text: str, n: int) -> float:
    """Repetition: the fraction of the n-grams of ``text`` that already
    occurred earlier in it. With a long n (say 10 characters) it counts
    copied phrases and loops, which ordinary prose rarely has.
    """
    seen: set[str] = set()
    repeats = 0
    grams = _ngrams(text, n)
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams)


def mean_log_prob(model: StepModel, prompt_ids: IntArray, ids: IntArray) -> float:
    """The model's average log-probability (nats per character) of ``ids`` after the prompt.

    ids: (L,) or (S, L) int, S continuations of the same prompt, scored side by side.
    A method that picks likely characters scores high (near 0); random text scores low.
    """
    ids = np.asarray(ids)
    ids2 = ids[None] if ids.ndim == 1 else ids  # (S, L)
    if ids2.ndim != 2 or ids2.shape[1] == 0 or not np.issubdtype(ids2.dtype, np.integer):
        raise ValueError(f"ids must be a non-empty (L,) or (S, L) integer array, got {ids.shape}")
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

    bits_per_char: float  # the model's average surprise at them, bits per character
    distinct: float  # distinct_n of each text, the mean over the texts
    repeated: float  # repeated_ngram_rate, the mean over the texts
    texts: list[str]


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
    if len(prompts) != len(continuations) or not prompts:
        raise ValueError("give one non-empty list of continuations per prompt")
    nats, texts = [], []
    for prompt, conts in zip(prompts, continuations, strict=True):
        ids = np.stack([vocab.encode(text) for text in conts])  # (S, L)
        nats.append(-mean_log_prob(model, encode_prompt(vocab, prompt), ids))
        texts += list(conts)
    return TextStats(
        bits_per_char=float(np.mean(nats) / np.log(2)),
        distinct=float(np.mean([distinct_n(t, distinct_order) for t in texts])),
        repeated=float(np.mean([repeated_ngram_rate(t, repeat_order) for t in texts])),
        texts=texts,
    )


def text_windows(
    text: str, count: int, prompt_length: int, length: int, rng: np.random.Generator
) -> tuple[list[str], list[list[str]]]:
    """``count`` random windows of a real text, as (prompts, continuations) for
    ``text_stats``: each prompt is ``prompt_length`` characters, followed by its
    continuation of ``length`` characters."""
    span = prompt_length + length
    if len(text) < span:
        raise ValueError(f"the text has {len(text)} characters, fewer than one window ({span})")
    starts = rng.choice(len(text) - span + 1, size=count, replace=False)
    prompts = [text[s : s + prompt_length] for s in starts]
    continuations = [[text[s + prompt_length : s + span]] for s in starts]
    return prompts, continuations
