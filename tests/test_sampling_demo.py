"""The helpers of the chapter "Sampling from your model" (lstm_tutorial.sampling_demo):
each compared with Part II's implementation where one exists (decoding.text_stats,
mean_log_prob, greedy, sample, beam_search), and bad input refused naming the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from badinput import (
    Call,
    cases,
    check_case,
    check_valid,
    ids,
    public_api,
    valid_calls,
)

from lstm_tutorial import decoding, sampling_demo
from lstm_tutorial.chardata import CharVocab
from lstm_tutorial.lm import StepAdapter
from lstm_tutorial.sampling_demo import (
    FIRST_SYMBOL,
    MAX_SYMBOLS,
    SampleStats,
    check_top_p,
    continue_ids,
    sample_stats,
    symbols,
    token_log_probs,
    top_p_log_probs,
    windows,
)
from lstm_tutorial.text import Vocab, char_tokens
from lstm_tutorial.textlm import TextLM

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXT = "the cat sat on the mat; the dog sat on the log."
VOCAB = Vocab.build(char_tokens(TEXT), unk=None)
V = VOCAB.size


def tiny_model(seed=0, layers=1):
    torch.manual_seed(seed)
    return TextLM(
        V, num_layers=layers, embed_size=4, hidden_size=5, cell="lstm"
    ).eval()


MODEL = tiny_model()
PROMPT = VOCAB.encode(char_tokens("the ")).numpy()
ROWS = np.array([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]], dtype=np.int64)

# ------------------------------------------------------------------------ symbols


def test_symbols_writes_one_distinct_character_per_id():
    text = symbols(np.array([0, 5, 0, MAX_SYMBOLS - 1]))
    assert len(text) == 4
    assert text[0] == text[2] == chr(FIRST_SYMBOL)
    assert text[3] == chr(0x10FFFF)
    assert symbols([]) == ""


def test_symbols_make_the_ngram_measures_count_tokens():
    words = "the cat and the cat and a dog".split()
    vocab = Vocab.build(words, unk=None)
    text = symbols(vocab.encode(words).numpy())
    bigrams = list(zip(words, words[1:], strict=False))
    assert decoding.distinct_n(text, 2) == len(set(bigrams)) / len(bigrams)
    repeats = sum(g in bigrams[:k] for k, g in enumerate(bigrams))
    assert decoding.repeated_ngram_rate(text, 2) == repeats / len(bigrams)


# ------------------------------------------------------------------- continue_ids


def test_continue_ids_runs_part_two_decoders_unchanged():
    adapter = StepAdapter(MODEL)
    got = continue_ids(adapter, PROMPT, 7, "greedy")
    np.testing.assert_array_equal(got[0], decoding.greedy(adapter, PROMPT, 7))
    assert got.shape == (1, 7)
    beam = continue_ids(adapter, PROMPT, 5, "beam", beam_width=3)
    best = decoding.beam_search(adapter, PROMPT, 5, beam_width=3)[0]
    np.testing.assert_array_equal(beam[0], best.ids)
    drawn = continue_ids(
        adapter,
        PROMPT,
        6,
        rng=np.random.default_rng(4),
        num_samples=3,
        temperature=0.7,
        top_k=4,
    )
    want = decoding.sample(
        adapter,
        PROMPT,
        6,
        rng=np.random.default_rng(4),
        temperature=0.7,
        top_k=4,
        num_samples=3,
    )
    np.testing.assert_array_equal(drawn, want)
    assert drawn.dtype == np.int64 and drawn.shape == (3, 6)


def test_continue_ids_needs_an_rng_to_sample():
    with pytest.raises(ValueError, match="rng"):
        continue_ids(StepAdapter(MODEL), PROMPT, 3, "sample")


# ---------------------------------------------------------------- token_log_probs


@pytest.mark.parametrize("layers", [1, 2])
def test_token_log_probs_match_stepping_through_the_adapter(layers):
    model = tiny_model(1, layers)
    got = token_log_probs(model, PROMPT, ROWS)
    assert got.shape == ROWS.shape and got.dtype == np.float64
    adapter = StepAdapter(model)
    for row, logp in zip(ROWS, got, strict=True):
        want = decoding.mean_log_prob(adapter, PROMPT, row)
        assert math.isclose(logp.mean(), want, rel_tol=0, abs_tol=1e-6)
    # and position by position, against torch's own cross-entropy
    text = torch.cat(
        [torch.as_tensor(PROMPT).expand(2, -1), torch.as_tensor(ROWS)], 1
    )
    with torch.no_grad():
        logits = model(text[:, :-1]).logits[:, len(PROMPT) - 1 :]
    ce = torch.nn.functional.cross_entropy(
        logits.transpose(1, 2), torch.as_tensor(ROWS), reduction="none"
    )
    np.testing.assert_allclose(-got, ce.numpy(), atol=1e-5)


def test_token_log_probs_puts_the_model_in_eval_mode():
    model = tiny_model().train()
    token_log_probs(model, PROMPT, ROWS)
    assert not model.training


# ------------------------------------------------------------------- sample_stats


def test_sample_stats_agree_with_part_two_text_stats_at_character_level():
    adapter = StepAdapter(MODEL)
    char_vocab = CharVocab(tuple(VOCAB.tokens))  # the same ids, as a CharVocab
    prompts = ["the ", "on t"]
    prompt_ids = [VOCAB.encode(char_tokens(p)).numpy() for p in prompts]
    rng = np.random.default_rng(0)
    samples = [
        continue_ids(adapter, q, 24, rng=rng, num_samples=3) for q in prompt_ids
    ]
    got = sample_stats(
        MODEL, prompt_ids, samples, distinct_order=3, repeat_order=5
    )
    texts = [[char_vocab.decode(row) for row in rows] for rows in samples]
    want = decoding.text_stats(
        adapter, char_vocab, prompts, texts, distinct_order=3, repeat_order=5
    )
    assert math.isclose(got.bits_per_token, want.bits_per_char, abs_tol=1e-6)
    assert math.isclose(got.distinct, want.distinct)
    assert math.isclose(got.repeated, want.repeated)
    assert got.texts == 6


def test_sample_stats_refuses_rows_too_short_for_the_ngrams():
    with pytest.raises(ValueError, match=r"samples\[0\]"):
        sample_stats(MODEL, [PROMPT], [ROWS], repeat_order=7)


def test_sample_stats_needs_one_array_per_prompt():
    with pytest.raises(ValueError, match="same length"):
        sample_stats(MODEL, [PROMPT, PROMPT], [ROWS])


# ------------------------------------------------------------------------ windows


def test_windows_are_distinct_contiguous_pieces_of_the_stream():
    stream = np.arange(50)
    prompts, samples = windows(stream, 6, 3, 4, np.random.default_rng(2))
    assert len(prompts) == len(samples) == 6
    starts = [int(q[0]) for q in prompts]
    assert len(set(starts)) == 6
    for q, s in zip(prompts, samples, strict=True):
        assert s.shape == (1, 4)
        np.testing.assert_array_equal(np.r_[q, s[0]], np.arange(q[0], q[0] + 7))
    tensor_prompts, _ = windows(
        torch.arange(50), 6, 3, 4, np.random.default_rng(2)
    )
    assert [int(q[0]) for q in tensor_prompts] == starts


def test_windows_refuses_more_windows_than_the_stream_holds():
    with pytest.raises(ValueError, match="count"):
        windows(np.arange(10), 5, 3, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="fewer than one window"):
        windows(np.arange(5), 1, 3, 4, np.random.default_rng(0))


# ---------------------------------------------------------------- top_p_log_probs


def test_top_p_keeps_the_smallest_set_that_reaches_p():
    logp = np.log(np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]))
    p = np.exp(top_p_log_probs(logp, 0.5))
    np.testing.assert_allclose(p, [[0, 1, 0], [0, 0, 1]])
    p = np.exp(top_p_log_probs(logp, 0.6))
    np.testing.assert_allclose(p, [[0, 0.625, 0.375], [0, 0, 1]])
    p = np.exp(top_p_log_probs(logp, 0.85))  # ties at 0.1: the smaller id wins
    np.testing.assert_allclose(p, [[0.2, 0.5, 0.3], [1 / 9, 0, 8 / 9]])


def test_top_p_of_one_keeps_everything_and_normalises():
    scores = np.array([1.0, 2.0, 3.0])  # not normalised
    got = top_p_log_probs(scores, 1.0)
    np.testing.assert_allclose(
        np.exp(got), torch.softmax(torch.tensor(scores), 0)
    )
    assert np.isfinite(got).all()


def test_top_p_works_on_any_leading_shape():
    rng = np.random.default_rng(3)
    logp = np.log(rng.dirichlet(np.ones(6), size=(2, 3)))
    got = top_p_log_probs(logp, 0.7)
    assert got.shape == (2, 3, 6)
    np.testing.assert_allclose(np.exp(got).sum(-1), 1.0)
    for row, out in zip(logp.reshape(-1, 6), got.reshape(-1, 6), strict=True):
        kept = np.sort(np.exp(row)[np.isfinite(out)])[::-1]
        assert kept.sum() >= 0.7  # reaches p ...
        assert kept[:-1].sum() < 0.7  # ... and no smaller set does


# -------------------------------------------------------------------- check_top_p


def my_top_p(log_probs, p):
    """A student's nucleus filter, written as the exercise asks."""
    order = np.argsort(-log_probs, axis=-1, kind="stable")
    sorted_p = np.take_along_axis(np.exp(log_probs), order, axis=-1)
    keep_sorted = np.cumsum(sorted_p, axis=-1) - sorted_p < p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return decoding.adjust_log_probs(np.where(keep, log_probs, -np.inf))


def test_the_check_passes_a_right_nucleus(capsys):
    assert check_top_p(my_top_p)
    out = capsys.readouterr().out
    assert "All correct." in out and "stand-in" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_the_check_says_when_it_checks_the_stand_in(capsys):
    assert check_top_p(top_p_log_probs)
    assert "stand-in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, says",
    [
        (lambda lp, p: my_top_p(lp, p / 2), "keeps ids"),  # too few
        (
            lambda lp, p: np.where(np.isfinite(my_top_p(lp, p)), lp, -np.inf),
            "renormalise",
        ),
        (lambda lp, p: my_top_p(lp, p).tolist(), "a NumPy array"),
        (lambda lp, p: my_top_p(lp, p)[:1], "shape"),
        (lambda lp, p: decoding.adjust_log_probs(lp, top_k=2), "ties"),
    ],
)
def test_the_check_says_what_is_wrong(wrong, says, capsys):
    assert not check_top_p(wrong)
    out = capsys.readouterr().out
    assert says in out and "Not yet" in out
    assert max(len(line) for line in out.splitlines()) <= 80


# ---------------------------------------------------------------------- bad input


def prompt_ids(valid):
    return ids(V)(valid)


def row_ids(valid):
    return ids(V)(valid) + [
        ("1-D", valid[0]),
        ("tensor", torch.from_numpy(valid)),
    ]


def text_lm(valid):
    return [("nn.LSTM", torch.nn.LSTM(2, 2)), ("None", None), ("str", "model")]


def step_model(valid):
    return [("TextLM, not adapted", MODEL), ("None", None), ("str", "model")]


def method(valid):
    return [("unknown", "nucleus"), ("None", None), ("int", 1)]


def prompt_list(valid):
    return [
        ("array", np.stack(valid)),
        ("None", None),
        ("empty", []),
        ("bad ids", [valid[0] * 0 - 1]),
    ]


def sample_list(valid):
    return [
        ("None", None),
        ("empty", []),
        ("1-D rows", [valid[0][0]]),
        ("id == V", [valid[0] * 0 + V]),
        ("one more", valid * 2),
    ]


def stream(valid):
    return [
        ("list", valid.tolist()),
        ("float", valid.astype(np.float64)),
        ("2-D", valid[None]),
        ("int32 tensor", torch.from_numpy(valid).to(torch.int32)),
        ("None", None),
    ]


def log_probs(valid):
    nan = valid.copy()
    nan[0, 0] = np.nan
    return [
        ("list", valid.tolist()),
        ("int", valid.astype(np.int64)),
        ("nan", nan),
        ("None", None),
    ]


def stats_kwargs():
    return dict(bits_per_token=1.5, distinct=0.5, repeated=0.1, texts=3)


CALLS = [
    Call(
        symbols,
        lambda: dict(ids=np.array([0, 3, 2])),
        {"ids": ids(MAX_SYMBOLS)},
        skip=("ids:empty",),  # valid: the empty string
    ),
    Call(
        continue_ids,
        lambda: dict(
            model=StepAdapter(MODEL),
            prompt_ids=PROMPT.copy(),
            length=3,
            method="sample",
            rng=np.random.default_rng(0),
            num_samples=2,
            temperature=0.8,
            top_k=3,
            beam_width=2,
        ),
        {
            "model": step_model,
            "prompt_ids": prompt_ids,
            "length": "positive_int",
            "method": method,
            "rng": "optional_rng",
            "num_samples": "positive_int",
            "temperature": "positive",
            "top_k": "optional_positive_int",
            "beam_width": "positive_int",
        },
    ),
    Call(
        token_log_probs,
        lambda: dict(model=MODEL, prompt_ids=PROMPT.copy(), ids=ROWS.copy()),
        {"model": text_lm, "prompt_ids": prompt_ids, "ids": row_ids},
    ),
    Call(
        sample_stats,
        lambda: dict(
            model=MODEL,
            prompts=[PROMPT.copy()],
            samples=[ROWS.copy()],
            distinct_order=2,
            repeat_order=3,
        ),
        {
            "model": text_lm,
            "prompts": prompt_list,
            "samples": sample_list,
            "distinct_order": "positive_int",
            "repeat_order": "positive_int",
        },
        names={"prompts": "prompts", "samples": "samples"},
        # "one more" sample array: the lengths no longer match, which names both
    ),
    Call(
        windows,
        lambda: dict(
            ids=np.arange(30),
            count=3,
            prompt_length=2,
            length=4,
            rng=np.random.default_rng(0),
        ),
        {
            "ids": stream,
            "count": "positive_int",
            "prompt_length": "positive_int",
            "length": "positive_int",
            "rng": "rng",
        },
    ),
    Call(
        top_p_log_probs,
        lambda: dict(log_probs=np.log(np.full((2, 4), 0.25)), p=0.9),
        {"log_probs": log_probs, "p": "open_fraction"},
    ),
    Call(check_top_p, lambda: dict(fn=my_top_p), {"fn": "callable"}),
    Call(
        SampleStats,
        stats_kwargs,
        {
            "bits_per_token": lambda v: [("str", "1.5"), ("negative", -1.0)],
            "distinct": "fraction",
            "repeated": "fraction",
            "texts": "positive_int",
        },
    ),
]


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call, capsys):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)


def test_every_public_function_and_class_has_a_call():
    missing = set(public_api(sampling_demo)) - {call.id for call in CALLS}
    assert not missing, f"no Call in this file for {sorted(missing)}"
