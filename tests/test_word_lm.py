"""The word-level story LM: vocabulary, model, batches, measurements and generation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

from lstm_tutorial import seed_everything
from lstm_tutorial.stories import DEFAULT_VOCAB, generate_stories
from lstm_tutorial.story import PROMPT, tokenize
from lstm_tutorial.word_lm import (
    CELLS,
    EOS,
    IGNORE,
    LR_GRID,
    LR_SEARCH,
    PAD,
    TUNED_LR,
    StoryLMConfig,
    WordLM,
    WordVocab,
    accuracy_by_distance,
    add_keep_bias,
    encode_stories,
    generate,
    lm_loss,
    perplexity,
    probe_choices,
    probe_scores,
    score_probes,
    split_inputs_targets,
    story_batches,
    story_data,
    story_options,
    train_story_lm,
    tune_learning_rate,
)

VOCAB = WordVocab.from_story_vocab()


def test_vocabulary_round_trips_and_refuses_unknown_words():
    words = tokenize(PROMPT)
    ids = VOCAB.encode(words)
    assert ids.dtype == torch.int64 and VOCAB.decode(ids) == words
    assert VOCAB.words[0] == PAD and EOS in VOCAB.index
    assert VOCAB.size == len(DEFAULT_VOCAB.words()) + 2
    with pytest.raises(ValueError, match="dragon"):
        VOCAB.encode(["a", "dragon"])
    with pytest.raises(ValueError, match="tokenize"):
        VOCAB.encode("a puppy")
    with pytest.raises(ValueError, match=r"\[0, "):
        VOCAB.decode([VOCAB.size])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_model_is_embedding_then_torch_recurrent_layer_then_linear(cell):
    seed_everything(0)
    model = WordLM(VOCAB.size, cell=cell, embed_size=6, hidden_size=5)
    assert isinstance(model.recurrent, CELLS[cell])
    ids = torch.randint(1, VOCAB.size, (3, 7))
    logits, _ = model(ids)
    assert logits.shape == (3, 7, VOCAB.size) and logits.dtype == torch.float32
    h, _ = model.recurrent(model.embedding(ids))
    torch.testing.assert_close(logits, model.decoder(h))


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_carrying_the_state_equals_reading_the_whole_sequence(cell):
    seed_everything(1)
    model = WordLM(VOCAB.size, cell=cell, embed_size=6, hidden_size=5)
    ids = torch.randint(1, VOCAB.size, (2, 9))
    whole, _ = model(ids)
    head, state = model(ids[:, :4])
    tail, _ = model(ids[:, 4:], state)
    torch.testing.assert_close(torch.cat([head, tail], dim=1), whole)


def test_keep_bias_opens_the_forget_gate_and_the_gru_update_gate():
    for cell in ("lstm", "gru"):
        seed_everything(2)
        plain = WordLM(VOCAB.size, cell=cell, hidden_size=4)
        seed_everything(2)
        kept = WordLM(VOCAB.size, cell=cell, hidden_size=4, keep_bias=2.0)
        diff = kept.recurrent.bias_ih_l0 - plain.recurrent.bias_ih_l0
        expected = torch.zeros_like(diff)
        expected[4:8] = 2.0  # rows H..2H: f of (i, f, g, o), z of (r, z, n)
        torch.testing.assert_close(diff, expected)
    # with a large keep bias the LSTM's cell state hardly changes after the first word
    lstm = nn.LSTM(3, 4, batch_first=True)
    add_keep_bias(lstm, 20.0)
    with torch.no_grad():
        lstm.bias_ih_l0[:4] -= (
            20.0  # and a closed input gate: nothing new is written
        )
    _, (_, c1) = lstm(torch.randn(1, 1, 3))
    _, (_, c5) = lstm(torch.randn(1, 5, 3), None)
    assert c1.abs().max() < 1e-6 and c5.abs().max() < 1e-6
    with pytest.raises(ValueError, match="gate"):
        add_keep_bias(nn.RNN(3, 4), 1.0)


def test_bad_model_arguments_are_refused():
    with pytest.raises(ValueError, match="cell"):
        WordLM(10, cell="transformer")
    with pytest.raises(ValueError, match="hidden_size"):
        WordLM(10, hidden_size=0)
    with pytest.raises(ValueError, match="int64"):
        WordLM(10)(torch.zeros(2, 3))


def test_stories_are_encoded_with_an_end_mark_and_padding():
    stories = generate_stories(3, [0, 5, 2], seed=0)
    ids = encode_stories(stories, VOCAB)
    longest = max(len(s.tokens) for s in stories)
    assert ids.shape == (3, longest + 1)
    for row, story in zip(ids, stories, strict=True):
        n = len(story.tokens)
        assert VOCAB.decode(row[: n + 1]) == [*story.tokens, EOS]
        assert (row[n + 1 :] == 0).all()
    inputs, targets = split_inputs_targets(ids)
    assert torch.equal(inputs, ids[:, :-1])
    assert ((targets == IGNORE) == (ids[:, 1:] == 0)).all()


def test_batches_cover_every_story_once_and_trim_the_padding():
    stories = generate_stories(50, range(10), seed=1)
    ids = encode_stories(stories, VOCAB)
    torch.manual_seed(0)
    batches = list(story_batches(ids, 8))
    assert sum(len(x) for x, _ in batches) == 50
    words = lambda row: tuple(row[row > 1].tolist())  # noqa: E731 - without PAD (0), EOS (1)
    seen = sorted(words(x[k]) for x, _ in batches for k in range(len(x)))
    assert seen == sorted(words(row) for row in ids)
    for _, targets in batches:  # the longest story of each batch fills it
        assert (targets[:, -1] != IGNORE).any()
    torch.manual_seed(0)
    again = list(story_batches(ids, 8))
    assert all(
        torch.equal(a[0], b[0]) for a, b in zip(batches, again, strict=True)
    )
    ordered = list(story_batches(ids, 8, shuffle=False))
    assert torch.equal(ordered[0][0], ids[:8, : ordered[0][0].shape[1]])


def test_loss_and_perplexity_match_cross_entropy_over_real_words():
    seed_everything(3)
    model = WordLM(VOCAB.size, embed_size=6, hidden_size=5)
    ids = encode_stories(generate_stories(6, range(4), seed=2), VOCAB)
    inputs, targets = split_inputs_targets(ids)
    logits, _ = model(inputs)
    keep = targets != IGNORE
    expected = nn.functional.cross_entropy(logits[keep], targets[keep])
    torch.testing.assert_close(lm_loss(model, (inputs, targets)), expected)
    assert perplexity(model, ids) == pytest.approx(
        math.exp(expected.item()), rel=1e-5
    )
    # a model that knows nothing spreads its probability evenly: perplexity = V
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
    assert perplexity(model, ids) == pytest.approx(VOCAB.size, rel=1e-5)


def test_probes_compare_the_right_words():
    """A model that always prefers singular verbs and the name Luna: agreement is right
    exactly in singular stories, recall exactly in stories about Luna."""
    model = WordLM(VOCAB.size, embed_size=4, hidden_size=4)
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
        for animal in DEFAULT_VOCAB.animals:
            model.decoder.bias[VOCAB.index[animal.verb_singular]] = 1.0
        model.decoder.bias[VOCAB.index["Luna"]] = 1.0
    stories = generate_stories(120, range(6), seed=4)
    scores = score_probes(model, VOCAB, stories, batch_size=50)
    assert (
        scores["agreement"] == np.array([not s.plural for s in stories])
    ).all()
    assert (
        scores["recall"] == np.array([s.name == "Luna" for s in stories])
    ).all()
    assert (scores["distance"] == np.array([s.distance for s in stories])).all()

    assert probe_choices(model, VOCAB, stories, "recall") == ["Luna"] * 120
    singular = {a.verb_singular for a in DEFAULT_VOCAB.animals}
    assert set(probe_choices(model, VOCAB, stories, "agreement")) <= singular
    assert probe_scores(model, VOCAB, stories, "recall").shape == (120, 8)
    with pytest.raises(ValueError, match="kind"):
        probe_scores(model, VOCAB, stories, "gap")

    table = accuracy_by_distance(scores)
    assert (
        table["distance"].tolist() == list(range(6))
        and table["count"].sum() == 120
    )
    for k, d in enumerate(table["distance"]):
        group = [not s.plural for s in stories if s.distance == d]
        assert table["agreement"][k] == pytest.approx(np.mean(group))


def test_generation_continues_the_prompt_and_repeats_with_a_seed():
    seed_everything(5)
    model = WordLM(VOCAB.size, embed_size=6, hidden_size=5)
    greedy = generate(model, VOCAB, PROMPT, max_new_words=6)
    assert greedy.startswith(PROMPT) and greedy == generate(
        model, VOCAB, PROMPT, max_new_words=6
    )
    assert len(tokenize(greedy)) <= len(tokenize(PROMPT)) + 6
    sampled = [
        generate(model, VOCAB, PROMPT, greedy=False, seed=s) for s in (1, 1, 2)
    ]
    assert sampled[0] == sampled[1] != sampled[2]
    assert PAD not in sampled[0] and EOS not in sampled[0]


@pytest.mark.parametrize("prompt, message", [("", "non-empty"), ("   ", "non-empty"),
                                             ("John gave Mary a dragon.", "dragon")])  # fmt: skip
def test_generation_refuses_empty_prompts_and_unknown_words(prompt, message):
    model = WordLM(VOCAB.size, embed_size=4, hidden_size=4)
    with pytest.raises(ValueError, match=message):
        generate(model, VOCAB, prompt)


def test_config_checks_its_fields():
    with pytest.raises(ValueError, match="cell"):
        StoryLMConfig(cell="lstmm")
    with pytest.raises(ValueError, match="max_distance"):
        StoryLMConfig(max_distance=DEFAULT_VOCAB.max_distance + 1)
    with pytest.raises(ValueError, match="cell"):
        StoryLMConfig.tuned("cnn")
    assert StoryLMConfig.tuned("rnn", epochs=1).cell == "rnn"


def test_config_checks_the_new_story_fields_against_each_other():
    config = StoryLMConfig()
    assert (config.min_distance, config.distractor, config.attractors) == (
        0,
        False,
        0,
    )
    with pytest.raises(
        ValueError, match="min_distance must be at most max_distance"
    ):
        StoryLMConfig(min_distance=4, max_distance=3)
    with pytest.raises(
        ValueError, match="attractors must be at most min_distance"
    ):
        StoryLMConfig(min_distance=1, attractors=2)
    assert (
        StoryLMConfig(min_distance=3, max_distance=3, attractors=3).attractors
        == 3
    )


def test_story_options_give_the_configs_stories():
    config = StoryLMConfig(
        min_distance=2, max_distance=4, distractor=True, attractors=1
    )
    options = story_options(config)
    assert options == {
        "distances": range(2, 5),
        "distractor": True,
        "attractors": 1,
    }
    stories = generate_stories(30, seed=0, **options)
    assert {s.distance for s in stories} <= {2, 3, 4}
    assert all(len(s.attractors) == 1 for s in stories)
    assert story_options(StoryLMConfig(max_distance=3))["distances"] == range(
        0, 4
    )


def test_story_data_draws_from_the_configs_options():
    plain = StoryLMConfig(train_stories=8, val_stories=4, max_distance=3)
    hard = dataclasses.replace(
        plain, min_distance=2, distractor=True, attractors=1
    )
    train, val = story_data(hard, VOCAB)
    assert train.shape[0] == 8 and val.shape[0] == 4
    again = story_data(hard, VOCAB)
    assert torch.equal(train, again[0]) and torch.equal(
        val, again[1]
    )  # seeded by data_seed
    plain_train = story_data(plain, VOCAB)[0]
    assert plain_train.shape != train.shape or not torch.equal(
        plain_train, train
    )


def test_a_tiny_story_model_trains_then_loads_from_the_cache(tmp_path):
    config = StoryLMConfig(
        cell="gru", embed_size=8, hidden_size=8, epochs=2, train_stories=64, val_stories=16,
        max_distance=3, batch_size=16,
    )  # fmt: skip
    lines = []
    model, history = train_story_lm(
        config, directory=tmp_path, device="cpu", log=lines.append
    )
    assert history.epochs == 2 and len(history.metrics["val ppl"]) == 2
    assert (
        history.metrics["val ppl"][-1] < VOCAB.size
    )  # better than knowing nothing
    assert lines[0].startswith(" gru  epoch 1/2  train ")
    again, history2 = train_story_lm(
        config, directory=tmp_path, device="cpu", log=lines.append
    )
    assert "loaded" in lines[-1] and history2 == history
    assert all(
        torch.equal(again.state_dict()[k], v)
        for k, v in model.state_dict().items()
    )


def test_tuned_rates_are_the_best_of_the_stored_search():
    for cell, search in LR_SEARCH.items():
        assert tuple(search) == LR_GRID
        assert TUNED_LR[cell] == min(search, key=search.get)
    assert set(TUNED_LR) == set(CELLS)


def test_tune_learning_rate_reports_one_perplexity_per_rate():
    tiny = dict(
        embed_size=4, hidden_size=4, epochs=1, train_stories=32, val_stories=8
    )
    result = tune_learning_rate(
        "rnn", grid=(1e-2, 1e-3), max_distance=2, **tiny
    )
    assert list(result) == [1e-2, 1e-3]
    assert all(1 < ppl < VOCAB.size * 2 for ppl in result.values())


def test_probe_scores_read_only_the_words_before_the_probe():
    seed_everything(6)
    model = WordLM(VOCAB.size, embed_size=6, hidden_size=5)
    story = generate_stories(1, 3, seed=7)[0]
    at = story.recall.position
    other = story.recall.wrong[0]
    changed = dataclasses.replace(
        story, tokens=(*story.tokens[:at], other, ".")
    )
    a, b = (probe_scores(model, VOCAB, [s], "recall") for s in (story, changed))
    torch.testing.assert_close(a, b)
    earlier = dataclasses.replace(
        story, tokens=(*story.tokens[: at - 1], "is", *story.tokens[at:])
    )
    assert not torch.equal(a, probe_scores(model, VOCAB, [earlier], "recall"))
