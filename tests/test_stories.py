"""The puppy-story generator: shape, probes, determinism, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tutorial.stories import (
    DEFAULT_VOCAB,
    FILLERS,
    Animal,
    StoryVocab,
    accuracy_by_distance,
    bigram_scores,
    corpus_statistics,
    generate_stories,
    generate_story,
    plot_probes,
)
from lstm_tutorial.story import PROMPT, STORY, tokenize


def test_same_seed_gives_the_same_stories_and_another_seed_does_not():
    first = generate_stories(50, range(10), seed=7)
    again = generate_stories(50, range(10), seed=7)
    other = generate_stories(50, range(10), seed=8)
    assert first == again
    assert [s.tokens for s in first] != [s.tokens for s in other]


def test_a_generator_can_be_passed_instead_of_a_seed():
    a = generate_stories(5, 3, seed=np.random.default_rng(1))
    b = generate_stories(5, 3, seed=1)
    assert a == b


def test_singular_story_has_the_shape_of_the_seed_example():
    story = generate_story(np.random.default_rng(0), 0, plural=False)
    giver, _, receiver, *_ = story.tokens
    animal = story.tokens[4]
    expected = (
        f"{giver} gave {receiver} a {animal} . They named it {story.name} . "
        f"It {story.agreement.correct} . The {animal} is called {story.name} ."
    )
    assert " ".join(story.tokens) == expected
    assert story.text.endswith(f"is called {story.name}.")


def test_agreement_probe_points_at_the_verb_that_agrees_with_the_subject():
    for story in generate_stories(200, range(12), seed=3):
        probe = story.agreement
        subject = story.tokens[probe.antecedent]
        assert subject == ("They" if story.plural else "It")
        assert story.tokens[probe.position] == probe.correct
        forms = {(a.verb_plural, a.verb_singular) for a in DEFAULT_VOCAB.animals}
        pair = (probe.correct, probe.wrong[0]) if story.plural else (probe.wrong[0], probe.correct)
        assert pair in forms and len(probe.wrong) == 1
        assert story.tokens[probe.antecedent + 1 : probe.position] == story.fillers
        assert probe.gap == story.distance + 1


def test_recall_probe_needs_the_name_from_the_naming_sentence_and_nothing_else():
    for story in generate_stories(200, range(12), seed=4):
        probe = story.recall
        assert story.tokens[probe.antecedent] == story.tokens[probe.position] == story.name
        assert probe.correct == story.name
        assert set(probe.wrong) == set(DEFAULT_VOCAB.pet_names) - {story.name}
        # the name occurs exactly twice: where it is given and where it is recalled
        assert [k for k, w in enumerate(story.tokens) if w == story.name] == [
            probe.antecedent,
            probe.position,
        ]
        assert probe.gap == story.distance + 9


def test_names_are_drawn_independently_of_the_rest_of_the_story():
    stories = generate_stories(4000, range(25), seed=5)
    names = np.array([DEFAULT_VOCAB.pet_names.index(s.name) for s in stories])
    counts = np.bincount(names, minlength=len(DEFAULT_VOCAB.pet_names))
    assert counts.min() > 0.8 * len(stories) / len(counts)
    plural = np.array([s.plural for s in stories])
    # the same spread of names in singular and plural stories
    for group in (plural, ~plural):
        share = np.bincount(names[group], minlength=len(counts)) / group.sum()
        assert np.abs(share - 1 / len(counts)).max() < 0.04


def test_fillers_carry_no_number_and_are_used_at_most_once():
    for story in generate_stories(100, DEFAULT_VOCAB.max_distance, seed=6):
        assert len(story.fillers) == len(set(story.fillers)) == story.distance
        assert set(story.fillers) <= set(FILLERS)
    assert not set(FILLERS) & {"It", "They", "it", "one", "a", "two"}


def test_an_integer_distance_fixes_it_and_a_range_spreads_uniformly():
    assert {s.distance for s in generate_stories(30, 7, seed=0)} == {7}
    stories = generate_stories(2500, range(5), seed=0)
    counts = np.bincount([s.distance for s in stories])
    assert len(counts) == 5 and counts.min() > 400
    assert 0.45 < np.mean([s.plural for s in stories]) < 0.55


def test_plural_can_be_forced():
    rng = np.random.default_rng(0)
    assert generate_story(rng, 2, plural=True).plural
    assert not generate_story(rng, 2, plural=False).plural


@pytest.mark.parametrize("distance", [-1, DEFAULT_VOCAB.max_distance + 1, 2.5, "3", True])
def test_a_distance_the_generator_cannot_produce_is_refused(distance):
    with pytest.raises(ValueError, match="distance"):
        generate_story(np.random.default_rng(0), distance)
    with pytest.raises(ValueError, match="distance"):
        generate_stories(3, [0, distance])


def test_the_largest_distance_is_the_number_of_fillers():
    vocab = StoryVocab(fillers=("small", "brown", "tiny"))
    assert vocab.max_distance == 3
    story = generate_story(np.random.default_rng(0), 3, vocab=vocab)
    assert sorted(story.fillers) == ["brown", "small", "tiny"]
    with pytest.raises(ValueError, match="between 0 and 3"):
        generate_story(np.random.default_rng(0), 4, vocab=vocab)


@pytest.mark.parametrize("role", ["people", "pet_names", "animals", "fillers"])
def test_an_empty_word_list_is_refused(role):
    with pytest.raises(ValueError, match=role):
        StoryVocab(**{role: ()})


def test_a_word_with_two_roles_is_refused():
    with pytest.raises(ValueError, match="'Luna'.*pet_names.*fillers"):
        StoryVocab(fillers=("small", "Luna"))
    with pytest.raises(ValueError, match="letters"):
        StoryVocab(fillers=("small", "two words"))
    with pytest.raises(ValueError, match="at least 2"):
        StoryVocab(pet_names=("Luna",))
    with pytest.raises(ValueError, match="Animal"):
        StoryVocab(animals=("puppy",))


def test_bad_counts_and_generators_are_refused():
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        generate_stories(0, 3)
    with pytest.raises(ValueError, match="empty"):
        generate_stories(3, [])
    with pytest.raises(ValueError, match="Generator"):
        generate_story(np.random.RandomState(0), 3)  # noqa: NPY002 - the legacy API is refused


def test_a_custom_vocabulary_is_used():
    vocab = StoryVocab(
        people=("Ada", "Bob"),
        pet_names=("Pip", "Zed"),
        animals=(Animal("lamb", "lambs", "bleats", "bleat"),),
        fillers=("woolly", "white"),
    )
    stories = generate_stories(20, range(3), seed=0, vocab=vocab)
    assert {w for s in stories for w in s.tokens} <= set(vocab.words())
    assert {s.name for s in stories} == {"Pip", "Zed"}


def test_the_book_prompt_is_made_of_story_words():
    words = set(DEFAULT_VOCAB.words())
    assert set(tokenize(PROMPT)) <= words
    assert {"It", "barks", "They", "named", "it", "Luna"} <= words
    assert len(DEFAULT_VOCAB.words()) == len(set(DEFAULT_VOCAB.words()))
    assert "puppy" in tokenize(STORY)


def test_corpus_statistics_count_what_was_generated():
    stories = generate_stories(40, range(4), seed=2)
    stats = corpus_statistics(stories)
    assert stats["stories"] == 40
    assert stats["tokens"] == sum(len(s.tokens) for s in stories)
    assert sum(stats["distances"].values()) == 40
    assert stats["shortest story"] == 20 + min(s.distance for s in stories)
    assert sum(stats["recalled names"].values()) == 40
    with pytest.raises(ValueError, match="at least one"):
        corpus_statistics([])


def test_a_previous_word_model_agrees_only_without_fillers_and_never_recalls():
    train = generate_stories(2000, range(6), seed=8)
    test = [s for d in range(6) for s in generate_stories(200, d, seed=9 + d)]
    table = accuracy_by_distance(bigram_scores(train, test))
    assert table["distance"].tolist() == list(range(6))
    assert table["agreement"][0] == 1.0  # "It" is the previous word: easy
    assert np.all(np.abs(table["agreement"][1:] - 0.5) < 0.12)  # a filler is: a coin toss
    assert np.all(table["recall"] < 0.3)  # "called" says nothing about the name
    with pytest.raises(ValueError, match="at least one"):
        bigram_scores([], test)


def test_accuracy_by_distance_checks_its_input():
    table = accuracy_by_distance(
        {"distance": np.array([2, 0, 2]), "agreement": np.array([1, 0, 0]),
         "recall": np.array([True, True, False])}
    )  # fmt: skip
    assert table["distance"].tolist() == [0, 2] and table["count"].tolist() == [1, 2]
    assert table["agreement"].tolist() == [0.0, 0.5] and table["recall"].tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="shape"):
        accuracy_by_distance(
            {"distance": np.zeros(3, int), "agreement": np.zeros(2), "recall": np.zeros(3)}
        )
    with pytest.raises(ValueError, match="must not be empty"):
        accuracy_by_distance({"distance": np.zeros(0, int), "agreement": [], "recall": []})


def test_plot_probes_draws_every_word_and_both_arcs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    story = generate_story(np.random.default_rng(1), 3)
    ax = plot_probes(story)
    texts = [t.get_text() for t in ax.texts if t.get_text()]  # arrows have no text
    assert texts[: len(story.tokens)] == list(story.tokens)
    assert texts[len(story.tokens) :] == ["agreement: gap 4", "recall: gap 12"]
    assert len(ax.patches) == 2
    plt.close(ax.figure)
