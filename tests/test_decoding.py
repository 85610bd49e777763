"""Decoding: greedy, sampling (temperature, top-k) and beam search on hand-made models whose
answers are known, the text metrics, and clear errors for bad arguments."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from lstm_tutorial import decoding
from lstm_tutorial.chardata import CharVocab
from lstm_tutorial.charlm import CharLM
from lstm_tutorial.decoding import (
    BigramModel,
    adjust_log_probs,
    beam_search,
    distinct_n,
    draw,
    generate,
    generate_many,
    greedy,
    mean_log_prob,
    repeated_ngram_rate,
    sample,
    text_stats,
    text_windows,
)

# Ids: 0 = start, 1 = "a", 2 = "b", 3 = "c", 4 = "d".
# After the start, "a" (0.6) beats "b" (0.4); but after "a" the next id is a coin toss among
# three, while after "b" comes "c" with probability 0.9. Greedy takes "a" and ends with
# 0.6 * 0.4 = 0.24; the best two-id sequence is "b c", with 0.4 * 0.9 = 0.36.
TABLE = np.array(
    [
        [0.0, 0.6, 0.4, 0.0, 0.0],
        [0.0, 0.2, 0.0, 0.4, 0.4],
        [0.0, 0.0, 0.05, 0.9, 0.05],
        [0.2, 0.2, 0.2, 0.2, 0.2],
        [0.2, 0.2, 0.2, 0.2, 0.2],
    ]
)
with np.errstate(divide="ignore"):
    MODEL = BigramModel(np.log(TABLE))
START = np.array([0])


def test_greedy_takes_the_locally_best_id_each_time():
    # ties: the smaller id
    np.testing.assert_array_equal(greedy(MODEL, START, 2), [1, 3])


def test_beam_search_finds_the_sequence_greedy_misses():
    beams = beam_search(MODEL, START, 2, beam_width=2)
    np.testing.assert_array_equal(beams[0].ids, [2, 3])
    assert beams[0].log_prob == pytest.approx(math.log(0.36))
    assert beams[0].log_prob > math.log(0.6 * 0.4)  # greedy's sequence
    assert [b.log_prob for b in beams] == sorted(
        (b.log_prob for b in beams), reverse=True
    )


def test_beam_width_one_is_greedy():
    beams = beam_search(MODEL, START, 4, beam_width=1)
    np.testing.assert_array_equal(beams[0].ids, greedy(MODEL, START, 4))


def test_length_normalisation_changes_the_winner():
    # id 4 ends a sequence. Ending at once has probability 0.55 (log: -0.60); "a b c end"
    # has 0.45 * 0.95 * 0.95 = 0.41 (log: -0.90) but only -0.23 per id.
    table = np.array(
        [
            [0.0, 0.45, 0.0, 0.0, 0.55],  # start: "a" 0.45 or end at once 0.55
            [0.0, 0.0, 0.95, 0.0, 0.05],  # a -> b 0.95
            [0.0, 0.0, 0.0, 0.95, 0.05],  # b -> c 0.95
            [0.0, 0.0, 0.0, 0.0, 1.0],  # c -> end
            [0.2, 0.2, 0.2, 0.2, 0.2],
        ]
    )
    with np.errstate(divide="ignore"):
        model = BigramModel(np.log(table))
    plain = beam_search(model, START, 5, beam_width=2, end_id=4)
    normalised = beam_search(
        model, START, 5, beam_width=2, end_id=4, length_normalize=True
    )
    np.testing.assert_array_equal(plain[0].ids, [4])
    assert plain[0].log_prob == pytest.approx(math.log(0.55))
    np.testing.assert_array_equal(normalised[0].ids, [1, 2, 3, 4])


def test_sampling_is_repeatable_and_depends_on_the_seed():
    def run(seed):
        return sample(
            MODEL, START, 30, rng=np.random.default_rng(seed), num_samples=3
        )

    np.testing.assert_array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))
    assert run(0).shape == (3, 30)
    assert sample(MODEL, START, 5, rng=np.random.default_rng(0)).shape == (5,)


def test_draw_follows_the_distribution():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    ids = draw(np.log(np.tile(p, (40_000, 1))), np.random.default_rng(0))
    np.testing.assert_allclose(
        np.bincount(ids, minlength=4) / ids.size, p, atol=0.01
    )


def test_low_temperature_and_top_1_sampling_are_greedy():
    rng = np.random.default_rng(5)
    model = BigramModel(np.log(rng.dirichlet(np.ones(6), size=6)))  # no ties
    for kwargs in ({"temperature": 1e-3}, {"top_k": 1}):
        ids = sample(model, START, 20, rng=np.random.default_rng(0), **kwargs)
        np.testing.assert_array_equal(ids, greedy(model, START, 20))


def test_adjust_log_probs_scales_and_cuts():
    log_p = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    np.testing.assert_allclose(adjust_log_probs(log_p), log_p)
    hot = np.exp(adjust_log_probs(log_p, temperature=2.0))
    np.testing.assert_allclose(
        hot[0],
        np.sqrt([0.5, 0.3, 0.15, 0.05]) / np.sqrt([0.5, 0.3, 0.15, 0.05]).sum(),
    )
    top2 = np.exp(adjust_log_probs(log_p, top_k=2))
    np.testing.assert_allclose(top2, [[0.5 / 0.8, 0.3 / 0.8, 0.0, 0.0]])
    # exactly k survive
    ties = np.exp(adjust_log_probs(np.zeros((1, 4)), top_k=2))
    np.testing.assert_allclose(ties, [[0.5, 0.5, 0.0, 0.0]])


def test_bad_arguments_name_what_was_expected():
    rng = np.random.default_rng(0)
    with pytest.raises(
        ValueError, match="temperature must be a finite number >= 1e-06"
    ):
        sample(MODEL, START, 5, rng=rng, temperature=0.0)
    with pytest.raises(
        ValueError, match="temperature must be a finite number >= 1e-06"
    ):
        sample(MODEL, START, 5, rng=rng, temperature=-1.0)
    with pytest.raises(ValueError, match="top_k must be an integer >= 1"):
        sample(MODEL, START, 5, rng=rng, top_k=0)
    with pytest.raises(ValueError, match="beam_width must be an integer >= 1"):
        beam_search(MODEL, START, 5, beam_width=0)
    with pytest.raises(ValueError, match="at least one character"):
        greedy(MODEL, np.array([], dtype=np.int64), 5)
    with pytest.raises(ValueError, match="length must be an integer >= 1"):
        greedy(MODEL, START, 0)
    with pytest.raises(
        ValueError, match="rng must be a numpy.random.Generator"
    ):
        sample(MODEL, START, 5, rng=0)
    vocab = CharVocab(tuple("abcde"))
    with pytest.raises(ValueError, match="non-empty string"):
        generate(MODEL, vocab, "", 5, "greedy")
    with pytest.raises(ValueError, match=r"never seen: \['z'\]"):
        generate(MODEL, vocab, "az", 5, "greedy")
    with pytest.raises(ValueError, match="method must be one of"):
        generate(MODEL, vocab, "a", 5, "nucleus")


def test_generate_works_with_the_char_lm():
    vocab = CharVocab(tuple("abcdefg"))
    model = CharLM(vocab.size, 4, 8, seed=0)
    for method in ("greedy", "sample", "beam"):
        text = generate(
            model,
            vocab,
            "abc",
            12,
            method,
            rng=np.random.default_rng(0),
            top_k=3,
        )
        assert len(text) == 12 and set(text) <= set(vocab.chars)
    beams = beam_search(model, vocab.encode("ab"), 6, beam_width=3)
    assert (
        beams[0].log_prob
        >= mean_log_prob(
            model, vocab.encode("ab"), greedy(model, vocab.encode("ab"), 6)
        )
        * 6
        - 1e-9
    )


def test_text_metrics():
    assert distinct_n("abcd", 2) == 1.0
    assert distinct_n("aaaa", 2) == pytest.approx(1 / 3)
    # pooled over samples
    assert distinct_n(["abc", "abc"], 2) == pytest.approx(2 / 4)
    # only the last "abc"
    assert repeated_ngram_rate("abcabc", 3) == pytest.approx(1 / 4)
    assert repeated_ngram_rate("abcdef", 2) == 0.0
    with pytest.raises(ValueError, match="no 5-grams"):
        distinct_n("abc", 5)


def test_mean_log_prob_is_the_average_log_probability():
    expected = (math.log(0.4) + math.log(0.9)) / 2
    assert mean_log_prob(MODEL, START, np.array([2, 3])) == pytest.approx(
        expected
    )
    both = mean_log_prob(MODEL, START, np.array([[2, 3], [1, 3]]))
    assert both == pytest.approx(
        (expected + (math.log(0.6) + math.log(0.4)) / 2) / 2
    )


def test_generate_many_and_text_stats_on_the_bigram_model():
    vocab = CharVocab(tuple("sabcd"))  # id 0 = "s", the start
    rng = np.random.default_rng(0)
    samples = generate_many(
        MODEL, vocab, "s", 6, "sample", num_samples=3, rng=rng
    )
    assert len(samples) == 3 and all(len(t) == 6 for t in samples)
    assert generate_many(MODEL, vocab, "s", 2, "beam", beam_width=2) == ["bc"]
    stats = text_stats(
        MODEL, vocab, ["s"], [["bc"]], distinct_order=1, repeat_order=1
    )
    assert stats.bits_per_char == pytest.approx(-math.log2(0.36) / 2)
    assert (
        stats.distinct == 1.0
        and stats.repeated == 0.0
        and stats.texts == ["bc"]
    )
    with pytest.raises(
        ValueError, match="one non-empty list of continuations per prompt"
    ):
        text_stats(MODEL, vocab, ["s", "a"], [["bc"]])


def test_text_windows_cut_prompts_and_their_continuations():
    text = "abcdefghijklmnopqrstuvwxyz"
    prompts, conts = text_windows(text, 5, 3, 4, np.random.default_rng(0))
    assert len(prompts) == len(conts) == 5
    for prompt, (cont,) in zip(prompts, conts, strict=True):
        assert len(prompt) == 3 and len(cont) == 4 and prompt + cont in text
    with pytest.raises(ValueError, match="fewer than one window"):
        text_windows("abc", 1, 3, 4, np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------
# Bad input that the harness of test_bad_input_text.py cannot express
# ---------------------------------------------------------------------------------------------


class CountingModel(BigramModel):
    """The bigram model, counting its steps: to show that a check came before any work."""

    steps = 0

    def step(self, ids, state):
        CountingModel.steps += 1
        return super().step(ids, state)


def test_prompt_ids_outside_the_vocabulary_are_refused_not_wrapped():
    for model in (MODEL, CharLM(5, 4, 8)):
        with pytest.raises(
            ValueError, match=r"prompt_ids must hold ids in \[0, 5\).*got -1"
        ):
            greedy(model, np.array([0, -1]), 3)  # -1 would read the last row
        with pytest.raises(
            ValueError, match=r"prompt_ids must hold ids in \[0, 5\).*got 5"
        ):
            sample(model, [0, 5], 3, rng=np.random.default_rng(0))


def test_a_vocabulary_of_another_size_than_the_model_is_refused():
    model = CharLM(7, 4, 8)
    # smaller: ids too large; larger: never emitted
    for chars in ("abcdef", "abcdefgh"):
        with pytest.raises(
            ValueError, match=r"vocab must be the model's vocabulary.*is 7"
        ):
            generate(model, CharVocab(tuple(chars)), "abc", 5, "greedy")
    with pytest.raises(
        ValueError, match="vocab must be the model's vocabulary"
    ):
        text_stats(model, CharVocab(tuple("abc")), ["a"], [["bc"]])


def test_a_legacy_random_state_or_a_seed_is_not_a_generator():
    for rng in (np.random.RandomState(0), 0, None):
        with pytest.raises(
            TypeError, match="rng must be a numpy.random.Generator"
        ):
            sample(MODEL, START, 5, rng=rng)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"temperature": True}, "temperature"),
        ({"temperature": np.inf}, "temperature"),
        ({"top_k": 2.0}, "top_k"),
        ({"top_k": True}, "top_k"),
        ({"num_samples": 0}, "num_samples"),
        ({"num_samples": 2.0}, "num_samples"),
    ],
)
def test_sampling_options_name_themselves(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=f"{name} must be"):
        sample(MODEL, START, 5, rng=np.random.default_rng(0), **kwargs)


def test_generate_checks_options_the_method_does_not_use_before_any_step():
    vocab = CharVocab(tuple("sabcd"))
    CountingModel.steps = 0
    model = CountingModel(MODEL.log_probs)
    with pytest.raises(ValueError, match="temperature must be"):
        generate(model, vocab, "s", 5, "greedy", temperature=-1.0)
    with pytest.raises(ValueError, match="beam_width must be"):
        generate(
            model,
            vocab,
            "s",
            5,
            "sample",
            rng=np.random.default_rng(0),
            beam_width=0,
        )
    with pytest.raises(ValueError, match="rng is needed by method='sample'"):
        generate(model, vocab, "s", 5, "sample")
    assert CountingModel.steps == 0


def test_beam_search_end_id_must_be_an_id_of_the_vocabulary():
    for end_id, error in (
        (5, ValueError),
        (-1, ValueError),
        (True, TypeError),
        (2.0, TypeError),
    ):
        with pytest.raises(
            error, match=r"end_id must be an integer in \[0, 4\]"
        ):
            beam_search(MODEL, START, 3, end_id=end_id)


def test_a_model_without_the_step_interface_is_named():
    class NoSteps:
        vocab_size = 5

        def start_state(self, batch_size):
            return None

    with pytest.raises(
        TypeError, match=r"model must have .* lacks \['step', 'select_state'\]"
    ):
        greedy(NoSteps(), START, 3)
    with pytest.raises(
        TypeError, match=r"model must have the step interface.*'vocab_size'"
    ):
        greedy(MODEL.log_probs, START, 3)  # the table instead of the model


def test_the_bigram_model_refuses_ids_and_rows_outside_its_table():
    state = MODEL.start_state(2)
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 5\)"):
        MODEL.step(np.array([0, -1]), state)
    with pytest.raises(ValueError, match=r"state must have shape \(1,\)"):
        MODEL.step(np.array([0]), state)
    with pytest.raises(
        ValueError, match=r"rows must hold sequence numbers in \[0, 2\)"
    ):
        MODEL.select_state(state, np.array([-1]))
    with pytest.raises(
        ValueError, match="log_probs must hold log-probabilities"
    ):
        BigramModel(np.full((2, 2), np.nan))


def test_log_probs_with_nan_or_a_row_without_any_probability_are_refused():
    with pytest.raises(
        ValueError, match="log_probs must hold log-probabilities.*NaN"
    ):
        adjust_log_probs(np.array([[0.0, np.nan]]))
    with pytest.raises(
        ValueError, match="log_probs must give some id a probability"
    ):
        draw(
            np.array([[0.0, 0.0], [-np.inf, -np.inf]]), np.random.default_rng(0)
        )
    with pytest.raises(ValueError, match=r"log_probs must have 2 dimensions"):
        draw(np.zeros(3), np.random.default_rng(0))
    one_row = np.log([0.5, 0.5])  # (V,)
    np.testing.assert_allclose(adjust_log_probs(one_row), one_row)


def test_text_metrics_refuse_empty_and_non_string_input():
    with pytest.raises(
        ValueError, match="texts must be a non-empty list or tuple"
    ):
        distinct_n([], 2)  # was a ZeroDivisionError
    with pytest.raises(TypeError, match=r"texts\[1\] must be a string"):
        distinct_n(["abc", 3], 2)
    with pytest.raises(
        ValueError, match=r"texts\[1\] must have at least n = 3"
    ):
        distinct_n(["abcd", "ab"], 3)
    with pytest.raises(TypeError, match="text must be a string"):
        repeated_ngram_rate(list("abcabc"), 3)
    with pytest.raises(TypeError, match="n must be an integer"):
        repeated_ngram_rate("abcabc", 2.0)


def test_text_stats_checks_every_continuation_before_scoring_any():
    vocab = CharVocab(tuple("sabcd"))
    CountingModel.steps = 0
    model = CountingModel(MODEL.log_probs)
    bad_inputs = [
        # a str, not a list
        (["s"], ["bc"], r"continuations\[0\] must be a list or tuple"),
        (
            ["s", "a"],
            [["bc"], []],
            r"continuations\[1\] must be a non-empty list",
        ),
        (
            ["s", "a"],
            [["bc"], ["bcd", "bc"]],
            r"continuations\[1\]\[1\] must have the length",
        ),
        (
            ["s", "a"],
            [["bc"], ["bz"]],
            r"continuations\[1\]\[0\] contains characters",
        ),
        ([], [], "prompts must be a non-empty list or tuple"),
        (["s", "z"], [["bc"], ["bc"]], r"prompts\[1\] contains characters"),
    ]
    for prompts, conts, message in bad_inputs:
        with pytest.raises((TypeError, ValueError), match=message):
            text_stats(
                model, vocab, prompts, conts, distinct_order=1, repeat_order=1
            )
    with pytest.raises(
        ValueError, match=r"at least 10 characters \(distinct_order=4, repeat"
    ):
        # the default repeat_order=10
        text_stats(model, vocab, ["s", "a"], [["bcdabcdabcd"], ["bc"]])
    assert CountingModel.steps == 0


def test_mean_log_prob_refuses_ids_outside_the_model_and_empty_continuations():
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 5\)"):
        mean_log_prob(MODEL, START, np.array([2, 5]))
    with pytest.raises(ValueError, match="ids must not be empty"):
        mean_log_prob(MODEL, START, np.zeros((2, 0), dtype=np.int64))


def test_text_windows_refuses_more_windows_than_the_text_holds():
    with pytest.raises(ValueError, match="count must be at most 3"):
        text_windows("abcdefghi", 4, 3, 4, np.random.default_rng(0))
    with pytest.raises(TypeError, match="prompt_length must be an integer"):
        text_windows("abcdefghi", 1, 3.0, 4, np.random.default_rng(0))


def test_the_functions_the_book_shows_fit_its_code_column():
    """The page shows these with show_source: no line (docstring included) over 80."""
    shown = ("prime", "greedy", "beam_search", "adjust_log_probs", "draw")
    shown += ("distinct_n", "repeated_ngram_rate")
    for name in shown:
        lines = inspect.getsource(getattr(decoding, name)).splitlines()
        wide = [line for line in lines if len(line) > 80]
        assert not wide, f"{name} has lines over 80 columns: {wide}"
