"""The hand-set LSTM keeps the facts it was built to keep, and it is a real LSTM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_tutorial.handset import (
    AGREEING_VERBS,
    FILLER,
    FILLER_SENTENCE,
    OPEN,
    SUBJECT_NUMBER,
    UNITS,
    VERBS,
    handset_lstm,
    handset_state_dict,
    handset_weights,
    one_hot,
    row,
    trace_gates,
    vocabulary,
)
from lstm_tutorial.story import STORY, tokenize

NUMBER, DUE, PUPPY = (UNITS.index(u) for u in ("number", "verb due", "puppy"))


@pytest.fixture(scope="module")
def story():
    return trace_gates(tokenize(STORY))


def test_vocabulary_holds_the_story_and_the_filler_once_each():
    vocab = vocabulary()
    assert len(vocab) == len(set(vocab))
    assert set(vocab) == set(tokenize(STORY)) | set(FILLER)
    assert vocab[:3] == ["John", "gave", "Mary"]


def test_one_hot_has_a_single_one_per_word():
    x = one_hot(["It", "barks"])
    assert x.shape == (2, len(vocabulary())) and x.dtype == np.float32
    np.testing.assert_array_equal(x.sum(axis=1), 1.0)
    assert x[0, vocabulary().index("It")] == 1.0


def test_unknown_word_raises_naming_the_word_and_the_vocabulary():
    with pytest.raises(
        ValueError, match=r"'dog'.*vocabulary \['John', 'gave', 'Mary'"
    ):
        one_hot(["It", "dog"])
    with pytest.raises(ValueError, match=r"'cat'"):
        trace_gates(tokenize("It cat ."))


def test_one_hot_rejects_a_bare_string_or_no_words():
    with pytest.raises(ValueError, match="non-empty list"):
        one_hot("It barks")
    with pytest.raises(ValueError, match="non-empty list"):
        one_hot([])


def test_state_dict_has_torch_shapes_and_gate_order():
    sd = handset_state_dict()
    V, H = len(vocabulary()), len(UNITS)
    reference = torch.nn.LSTM(V, H).state_dict()
    assert list(sd) == list(reference)
    assert all(sd[k].shape == tuple(reference[k].shape) for k in sd)
    assert all(v.dtype == np.float32 for v in sd.values())
    assert (
        row("i", "number") == 0
        and row("f", "number") == H
        and row("o", "puppy") == 4 * H - 1
    )
    assert sd["bias_ih_l0"][row("f", "puppy")] == OPEN


def test_state_dict_stacks_the_per_gate_weights_in_torch_order():
    w, sd = handset_weights(), handset_state_dict()
    H = len(UNITS)
    for k, name in enumerate(("i", "f", "g", "o")):
        rows = slice(k * H, (k + 1) * H)
        np.testing.assert_array_equal(sd["weight_ih_l0"][rows], w["W"][name])
        np.testing.assert_array_equal(sd["weight_hh_l0"][rows], w["U"][name])
        np.testing.assert_array_equal(sd["bias_ih_l0"][rows], w["b"][name])
    np.testing.assert_array_equal(sd["bias_hh_l0"], 0.0)


def test_row_rejects_unknown_gate_or_unit():
    with pytest.raises(ValueError, match="gate_name"):
        row("z", "number")
    with pytest.raises(ValueError, match="unit"):
        row("i", "colour")


def test_number_unit_is_singular_from_it_through_very_loudly_and_plural_after_they(
    story,
):
    c = story.c[:, NUMBER]
    for word in ("It", "barks", "very", "loudly"):
        assert c[story.index(word)] > 0.9, word
    for word in ("They", "named", "it", "Luna"):
        assert c[story.index(word)] < -0.9, word
    assert c[story.index("John")] > 0.9


def test_number_is_written_only_at_subjects(story):
    i = story.i[:, NUMBER]
    subjects = [story.index(w) for w in ("John", "It", "They")]
    assert np.all(i[subjects] > 0.99)
    assert np.all(np.delete(i, subjects) < 1e-3)
    assert np.all(
        story.f[subjects, NUMBER] < 1e-3
    )  # the old number is forgotten
    assert np.all(np.delete(story.f[:, NUMBER], subjects) > 0.999)


def test_number_is_shown_only_while_the_verb_is_due(story):
    o = story.o[:, NUMBER]
    shown = [story.index(w) for w in ("John", "It", "They")]
    assert np.all(o[shown] > 0.99)
    assert np.all(np.delete(o, shown) < 1e-3)
    assert story.h[story.index("It"), NUMBER] > 0.75
    assert story.h[story.index("They"), NUMBER] < -0.75


def test_the_shown_number_points_to_the_form_of_the_agreeing_verb(story):
    # only a present-tense verb agrees in number; the story has one, 'barks'
    assert AGREEING_VERBS == ("barks",) and set(AGREEING_VERBS) <= set(VERBS)
    for verb in AGREEING_VERBS:
        t = story.index(verb)
        subject = story.tokens[t - 1]
        shown = story.h[t - 1, NUMBER]
        assert np.sign(shown) == SUBJECT_NUMBER[subject] and abs(shown) > 0.75
    # at 'They' the unit stores and shows the plural; 'named' needs neither
    assert story.c[story.index("They"), NUMBER] < -0.99
    assert story.tokens[story.index("They") + 1] not in AGREEING_VERBS


def test_the_number_is_shown_before_a_distant_agreeing_verb():
    trace = trace_gates(tokenize(FILLER_SENTENCE))
    barks = trace.index("barks")
    assert trace.h[barks - 1, NUMBER] > 0.75  # after six filler tokens


def test_puppy_unit_keeps_its_fact_from_puppy_to_the_end(story):
    c = story.c[:, PUPPY]
    start = story.index("puppy")
    assert np.all(c[:start] < 1e-3)
    assert np.all(c[start:] > 0.99)
    for word in ("named", "it"):  # shown where the next word needs the puppy
        assert story.h[story.index(word), PUPPY] > 0.75
    assert abs(story.h[story.index("Luna"), PUPPY]) < 1e-3


def test_number_survives_unrelated_filler_words():
    trace = trace_gates(tokenize(FILLER_SENTENCE))
    barks = trace.index("barks")
    assert np.all(trace.c[: barks + 1, NUMBER] > 0.99)
    assert np.all(
        trace.h[:barks, NUMBER] > 0.75
    )  # shown until the verb is read
    assert abs(trace.h[barks, NUMBER]) < 1e-3
    assert np.all(trace.c[:barks, DUE] > 0.99) and trace.c[barks, DUE] < 1e-3


def test_a_lower_forget_bias_makes_the_number_fade():
    trace = trace_gates(tokenize(STORY), handset_state_dict(forget_bias=2.0))
    c = trace.c[:, NUMBER]
    it, loudly = trace.index("It"), trace.index("loudly")
    assert c[it] > 0.99
    f = 1 / (1 + np.exp(-2.0))
    assert c[loudly] == pytest.approx(c[it] * f ** (loudly - it), rel=1e-4)


def test_trace_equals_the_numpy_lstm_and_torch_lstm():
    tokens = tokenize(STORY) + tokenize(FILLER_SENTENCE)
    trace = trace_gates(tokens)
    x = one_hot(tokens)
    output, (h_n, c_n) = handset_lstm()(x)
    np.testing.assert_allclose(output, trace.h, atol=1e-6)
    np.testing.assert_allclose(c_n[0], trace.c[-1], atol=1e-6)

    reference = torch.nn.LSTM(x.shape[1], len(UNITS))
    reference.load_state_dict(
        {k: torch.from_numpy(v) for k, v in handset_state_dict().items()}
    )
    with torch.no_grad():
        expected, (h_t, c_t) = reference(torch.from_numpy(x))
    np.testing.assert_allclose(trace.h, expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(trace.c[-1], c_t[0].numpy(), atol=1e-6)


def test_trace_keeps_the_states_each_step_read(story):
    np.testing.assert_array_equal(story.c_prev[0], 0.0)
    np.testing.assert_array_equal(story.c_prev[1:], story.c[:-1])
    np.testing.assert_array_equal(story.h_prev[1:], story.h[:-1])
    np.testing.assert_allclose(
        story.c, story.f * story.c_prev + story.i * story.g, atol=1e-7
    )
    step = story.step(story.index("Luna"))
    assert set(step) == {"x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h"}
    with pytest.raises(ValueError, match="index one of the 16 words"):
        story.step(16)
    with pytest.raises(ValueError, match="no occurrence 1"):
        story.index("Luna", 1)


# Bad input: what the bad-input harness (test_bad_input_numpy.py) cannot express


def test_trace_gates_accepts_a_torch_state_dict_and_gives_the_same_trace():
    tokens = tokenize(FILLER_SENTENCE)
    tensors = {k: torch.from_numpy(v) for k, v in handset_state_dict().items()}
    np.testing.assert_array_equal(
        trace_gates(tokens, tensors).h, trace_gates(tokens).h
    )


def test_trace_gates_refuses_a_state_dict_with_nan_or_the_wrong_size_before_tracing():
    state = handset_state_dict()
    with pytest.raises(
        ValueError, match=r"state_dict\['bias_ih_l0'\] must hold finite"
    ):
        trace_gates(
            ["It"], state | {"bias_ih_l0": np.full(12, np.nan, np.float32)}
        )
    with pytest.raises(
        ValueError, match=r"state_dict\['weight_hh_l0'\] has shape \(16, 4\)"
    ):
        trace_gates(
            ["It"], state | {"weight_hh_l0": np.zeros((16, 4), np.float32)}
        )


def test_one_hot_refuses_a_vocabulary_with_a_repeated_or_non_string_word():
    with pytest.raises(
        ValueError, match=r"vocab must hold each word once.*\['It'\]"
    ):
        one_hot(["It"], ["It", "barks", "It"])
    with pytest.raises(TypeError, match=r"vocab\[1\] must be a string"):
        one_hot(["It"], ["It", 3])


def test_one_hot_names_the_position_of_a_word_that_is_not_a_string():
    with pytest.raises(
        TypeError, match=r"tokens\[1\] must be a string, got None"
    ):
        one_hot(["It", None])


def test_gate_trace_refuses_arrays_of_another_length_than_its_tokens(story):
    fields = {name: getattr(story, name) for name in story.__dataclass_fields__}
    with pytest.raises(ValueError, match=r"c must have shape \(T, H\).*T = 16"):
        type(story)(**(fields | {"c": story.c[1:]}))
    with pytest.raises(ValueError, match=r"h must have shape \(T, H\)"):
        type(story)(**(fields | {"h": story.h[:, :2]}))


def test_step_refuses_a_position_that_is_not_an_integer(story):
    with pytest.raises(TypeError, match=r"t must be an integer, got 1.0"):
        story.step(1.0)
    assert (
        story.step(-1)["h"] is not None
    )  # negative positions count from the end
