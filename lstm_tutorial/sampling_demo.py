"""Measuring what a PyTorch language model writes, at any level: the helpers of the chapter
"Sampling from your model" (Part V).

Part II measured generated text with :func:`lstm_tutorial.decoding.text_stats`, which reads
texts through a ``CharVocab``. A :class:`lstm_tutorial.textlm.TextLM` may read characters or
words through a :class:`lstm_tutorial.text.Vocab`, so the helpers here work on token ids:

- :func:`continue_ids` runs one of Part II's decoders (greedy, sampling, beam search) on a
  model with the step interface (such as :class:`lstm_tutorial.lm.StepAdapter`) and returns
  the ids it wrote, one row per continuation;
- :func:`token_log_probs` scores continuations under the model in one call of the model on
  the whole text (teacher forcing), much faster than a step at a time;
- :func:`symbols` writes each token id as one character, so that Part II's
  :func:`~lstm_tutorial.decoding.distinct_n` and
  :func:`~lstm_tutorial.decoding.repeated_ngram_rate`, which count character n-grams, count
  token n-grams: word n-grams for a word-level model;
- :func:`sample_stats` gives the three numbers of Part II (bits per token under the model,
  distinct-n, repeated n-grams) for a set of continuations, and :func:`windows` cuts the
  real text to compare with into prompts and continuations;
- :func:`top_p_log_probs` is nucleus (top-p) filtering, the reference for the chapter's
  exercise, and :func:`check_top_p` judges a student's version against it.

Every public function checks its arguments before any work and raises a TypeError or
ValueError that names the argument.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lstm_tutorial import checks, decoding
from lstm_tutorial.grading import note_stand_in, verdict
from lstm_tutorial.textlm import TextLM
from lstm_tutorial.training import model_device

#: The character that stands for token id 0 in :func:`symbols`: the start of Unicode's
#: private-use area, above the surrogates, so that every id up to :data:`MAX_SYMBOLS` - 1
#: maps to a valid character.
FIRST_SYMBOL = 0xE000
#: How many token ids :func:`symbols` can write.
MAX_SYMBOLS = 0x110000 - FIRST_SYMBOL


def symbols(ids) -> str:
    """One character per token id (a 1-D integer array or list), so that the
    character n-gram measures of Part II count token n-grams."""
    ids = checks.ids("ids", ids, MAX_SYMBOLS, ndim=1, nonempty=False)
    return "".join(chr(FIRST_SYMBOL + int(i)) for i in ids)


def continue_ids(
    model: Any,
    prompt_ids,
    length: int,
    method: str = "sample",
    *,
    rng: np.random.Generator | None = None,
    num_samples: int = 1,
    temperature: float = 1.0,
    top_k: int | None = None,
    beam_width: int = 5,
) -> np.ndarray:
    """The ``length`` ids a decoder writes after the prompt, (S, length) int64.

    ``method``: "greedy", "sample" (``num_samples`` rows, drawn with ``rng``,
    ``temperature`` and ``top_k``) or "beam" (the best of ``beam_search``);
    the deterministic methods return one row. ``model`` has the step
    interface of :mod:`lstm_tutorial.decoding`.
    """
    decoding._check_prompt(model, prompt_ids)
    length = checks.positive_int("length", length)
    checks.choice("method", method, decoding.METHODS)
    checks.optional(checks.rng, "rng", rng)
    checks.positive_int("num_samples", num_samples)
    decoding._check_sampling(temperature, top_k)
    checks.positive_int("beam_width", beam_width)
    if method == "sample" and rng is None:
        raise ValueError(
            "rng is needed by method='sample': give a numpy.random.Generator"
        )
    prompt_ids = np.asarray(prompt_ids)
    if method == "greedy":
        return decoding.greedy(model, prompt_ids, length)[None]
    if method == "beam":
        beams = decoding.beam_search(
            model, prompt_ids, length, beam_width=beam_width
        )
        return beams[0].ids[None]
    ids = decoding.sample(
        model,
        prompt_ids,
        length,
        rng=rng,
        temperature=temperature,
        top_k=top_k,
        num_samples=num_samples,
    )
    return ids


def _check_scoring(model: Any, prompt_ids: Any, ids: Any) -> int:
    checks.instance("model", model, TextLM, "a TextLM")
    V = model.embedding.num_embeddings
    checks.ids("prompt_ids", prompt_ids, V, ndim=1)
    checks.ids("ids", ids, V, ndim=2)
    return V


@torch.no_grad()
def token_log_probs(model: TextLM, prompt_ids, ids) -> np.ndarray:
    """log p(token) under ``model`` (put in eval mode) of every id of
    ``ids`` (S, N), each row read after the prompt (P,): (S, N) nats,
    from one call of the model on prompt + row (teacher forcing)."""
    _check_scoring(model, prompt_ids, ids)
    model.eval()
    P, S = len(prompt_ids), len(ids)
    prompt = torch.as_tensor(np.asarray(prompt_ids), dtype=torch.int64)
    rows = torch.as_tensor(np.asarray(ids), dtype=torch.int64)
    text = torch.cat([prompt.expand(S, P), rows], dim=1)  # (S, P + N)
    logits = model(text[:, :-1].to(model_device(model))).logits
    logp = torch.log_softmax(logits[:, P - 1 :].double(), dim=-1)
    picked = logp.gather(-1, rows.to(logp.device)[..., None])
    return picked[..., 0].cpu().numpy()  # (S, N)


@dataclass(frozen=True)
class SampleStats:
    """The three numbers of a set of continuations (see :func:`sample_stats`)."""

    bits_per_token: float  # the model's mean surprise at them
    distinct: float  # distinct_n of each continuation, the mean
    repeated: float  # repeated_ngram_rate of each, the mean
    texts: int  # how many continuations were measured

    def __post_init__(self) -> None:
        checks.number(
            "bits_per_token", self.bits_per_token, minimum=0.0, finite=False
        )
        checks.fraction("distinct", self.distinct)
        checks.fraction("repeated", self.repeated)
        checks.positive_int("texts", self.texts)


def sample_stats(
    model: TextLM,
    prompts: Sequence[Any],
    samples: Sequence[Any],
    *,
    distinct_order: int = 4,
    repeat_order: int = 10,
) -> SampleStats:
    """Measure continuations: ``samples[k]``, (S_k, N_k) ids, follow
    ``prompts[k]``.

    Returns the means over all continuations of their bits per token
    under ``model``, of ``distinct_n`` of order ``distinct_order`` and of
    ``repeated_ngram_rate`` of order ``repeat_order``, each continuation
    measured on its own (as ``decoding.text_stats`` does), its n-grams
    counted in tokens.
    """
    _check_stats(model, prompts, samples, distinct_order, repeat_order)
    nats, distinct, repeated = [], [], []
    for prompt, rows in zip(prompts, samples, strict=True):
        nats += list(-token_log_probs(model, prompt, rows).mean(axis=1))
        for row in rows:
            text = symbols(row)
            distinct.append(decoding.distinct_n(text, distinct_order))
            repeated.append(decoding.repeated_ngram_rate(text, repeat_order))
    return SampleStats(
        bits_per_token=float(np.mean(nats) / np.log(2)),
        distinct=float(np.mean(distinct)),
        repeated=float(np.mean(repeated)),
        texts=len(nats),
    )


def _check_stats(model, prompts, samples, distinct_order, repeat_order):
    checks.instance("model", model, TextLM, "a TextLM")
    V = model.embedding.num_embeddings
    shortest = max(
        checks.positive_int("distinct_order", distinct_order),
        checks.positive_int("repeat_order", repeat_order),
    )
    prompts = checks.sequence("prompts", prompts)
    samples = checks.sequence("samples", samples)
    if len(prompts) != len(samples):
        raise ValueError(
            "prompts and samples must have the same length (one (S, N) array of "
            f"continuations per prompt), got {len(prompts)} prompts and "
            f"{len(samples)} arrays of samples"
        )
    for k, (prompt, rows) in enumerate(zip(prompts, samples, strict=True)):
        checks.ids(f"prompts[{k}]", prompt, V, ndim=1)
        rows = checks.ids(f"samples[{k}]", rows, V, ndim=2)
        if rows.shape[1] < shortest:
            raise ValueError(
                f"samples[{k}] must have at least {shortest} tokens per row "
                f"(distinct_order={distinct_order}, repeat_order={repeat_order}), "
                f"got {rows.shape[1]}"
            )


def windows(
    ids,
    count: int,
    prompt_length: int,
    length: int,
    rng: np.random.Generator,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``count`` distinct random windows of a real id stream (1-D), as (prompts, samples) for
    :func:`sample_stats`: each prompt is ``prompt_length`` ids, followed by one continuation
    of ``length`` ids, a (1, length) array."""
    if isinstance(ids, torch.Tensor):
        checks.tensor("ids", ids, ndim=1, dtype=torch.int64)
        ids = ids.cpu().numpy()
    ids = checks.array("ids", ids, kind="int", ndim=1)
    count = checks.positive_int("count", count)
    prompt_length = checks.positive_int("prompt_length", prompt_length)
    length = checks.positive_int("length", length)
    checks.rng("rng", rng)
    span = prompt_length + length
    if len(ids) < span:
        raise ValueError(
            f"ids has {len(ids)} tokens, fewer than one window (prompt_length + "
            f"length = {span})"
        )
    if count > len(ids) - span + 1:
        raise ValueError(
            f"count must be at most {len(ids) - span + 1}, the number of windows of "
            f"{span} tokens in ids, got {count}"
        )
    starts = rng.choice(len(ids) - span + 1, size=count, replace=False)
    prompts = [ids[s : s + prompt_length] for s in starts]
    samples = [ids[None, s + prompt_length : s + span] for s in starts]
    return prompts, samples


def top_p_log_probs(log_probs, p: float) -> np.ndarray:
    """Nucleus (top-p) filtering of log_probs (..., V): the smallest set of
    most probable ids whose total probability reaches p keeps its
    probability, renormalised; every other id gets -inf. An id is kept
    when the ids ranked above it hold less than p; p = 1 keeps them all.
    """
    checks.fraction("p", p, open_low=True)
    logp = decoding.adjust_log_probs(log_probs)  # normalised
    if p == 1.0:
        return logp
    order = np.argsort(-logp, axis=-1, kind="stable")  # ties: by id
    sorted_p = np.exp(np.take_along_axis(logp, order, axis=-1))
    above = np.cumsum(sorted_p, axis=-1) - sorted_p  # held by ids above
    keep = np.zeros(logp.shape, dtype=bool)
    np.put_along_axis(keep, order, above < p, axis=-1)
    return decoding.adjust_log_probs(np.where(keep, logp, -np.inf))


def _top_p_cases() -> list[tuple[str, np.ndarray, float]]:
    """The fixed inputs of :func:`check_top_p`: (what, log_probs, p)."""
    rng = np.random.default_rng(1)
    logp = np.log(rng.dirichlet(np.ones(10), size=3))  # (3, 10)
    ties = np.log(np.array([[0.1, 0.1, 0.8], [0.25, 0.25, 0.5]]))
    sure = np.log(np.array([[0.97, 0.01, 0.01, 0.01]]))
    return [
        ("random rows, p = 0.5", logp, 0.5),
        ("random rows, p = 0.9", logp, 0.9),
        ("random rows, p = 1", logp, 1.0),
        ("a sure row, p = 0.9", sure, 0.9),
        ("tied ids, p = 0.85", ties, 0.85),
        ("tiny p = 0.01", logp, 0.01),
    ]


def check_top_p(fn: Callable[..., Any]) -> bool:
    """Check ``fn(log_probs, p)`` against :func:`top_p_log_probs` on fixed
    (B, V) log-probabilities: which ids each row keeps, and their values.
    Prints a line per case; returns True if all agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(textwrap.fill(line, 76, subsequent_indent="  "))

    results = []
    for what, logp, p in _top_p_cases():
        want = top_p_log_probs(logp, p)
        got = fn(logp.copy(), p)  # its errors: its own
        results.append(_judge_top_p(what, got, want, say))
    if "ids" in results:
        say(
            "the nucleus: the most probable ids, each kept while the ids "
            "ranked above it hold less than p (ties: the smaller id first)"
        )
    return verdict(all(r == "right" for r in results), lines)


def _judge_top_p(what: str, got: Any, want: np.ndarray, say) -> str:
    """One case of :func:`check_top_p`: says what is right or wrong; returns
    "right", "ids" (the wrong ids kept) or "wrong"."""
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        shape = got.shape if isinstance(got, np.ndarray) else None
        say(
            f"{what}: expected a NumPy array of shape {want.shape}, got "
            + (f"shape {shape}" if shape else checks.describe(got))
        )
        return "wrong"
    kept = np.isfinite(want)
    if np.isnan(got).any() or (np.isfinite(got) != kept).any():
        row = int(np.flatnonzero((np.isfinite(got) != kept).any(-1))[0])
        say(
            f"{what}: row {row} keeps ids "
            f"{np.flatnonzero(np.isfinite(got[row])).tolist()}, expected "
            f"{np.flatnonzero(kept[row]).tolist()}"
        )
        return "ids"
    err = float(np.abs(got[kept] - want[kept]).max())
    if err > 1e-9:
        say(
            f"{what}: the kept ids are right, their log-probabilities differ "
            f"by up to {err:.2g} (renormalise: their probabilities sum to 1)"
        )
        return "wrong"
    n = int(kept.sum())
    say(f"{what}: right, {n} {'id' if n == 1 else 'ids'} kept in all")
    return "right"
