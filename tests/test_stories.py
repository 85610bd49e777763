"""The puppy-story generator: shape, probes, determinism, and clear errors."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
import pytest

from lstm_tutorial.stories import (
    DEFAULT_VOCAB,
    FILLERS,
    Animal,
    StoryVocab,
    accuracy_by_distance,
    best_perplexity,
    bigram_scores,
    corpus_statistics,
    generate_stories,
    generate_story,
    plot_probes,
    shortcut_scores,
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
        forms = {
            (a.verb_plural, a.verb_singular) for a in DEFAULT_VOCAB.animals
        }
        pair = (
            (probe.correct, probe.wrong[0])
            if story.plural
            else (probe.wrong[0], probe.correct)
        )
        assert pair in forms and len(probe.wrong) == 1
        assert (
            story.tokens[probe.antecedent + 1 : probe.position] == story.fillers
        )
        assert probe.gap == story.distance + 1


def test_recall_probe_needs_the_name_from_the_naming_sentence_and_nothing_else():
    for story in generate_stories(200, range(12), seed=4):
        probe = story.recall
        assert (
            story.tokens[probe.antecedent]
            == story.tokens[probe.position]
            == story.name
        )
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


@pytest.mark.parametrize(
    "distance", [-1, DEFAULT_VOCAB.max_distance + 1, 2.5, "3", True]
)
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
    assert np.all(
        np.abs(table["agreement"][1:] - 0.5) < 0.12
    )  # a filler is: a coin toss
    assert np.all(table["recall"] < 0.3)  # "called" says nothing about the name
    with pytest.raises(ValueError, match="at least one"):
        bigram_scores([], test)


def test_accuracy_by_distance_checks_its_input():
    table = accuracy_by_distance(
        {"distance": np.array([2, 0, 2]), "agreement": np.array([1, 0, 0]),
         "recall": np.array([True, True, False])}
    )  # fmt: skip
    assert table["distance"].tolist() == [0, 2] and table["count"].tolist() == [
        1,
        2,
    ]
    assert table["agreement"].tolist() == [0.0, 0.5] and table[
        "recall"
    ].tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="shape"):
        accuracy_by_distance(
            {
                "distance": np.zeros(3, int),
                "agreement": np.zeros(2),
                "recall": np.zeros(3),
            }
        )
    with pytest.raises(ValueError, match="must not be empty"):
        accuracy_by_distance(
            {"distance": np.zeros(0, int), "agreement": [], "recall": []}
        )


def test_plot_probes_draws_every_word_and_both_arcs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    story = generate_story(np.random.default_rng(1), 3)
    ax = plot_probes(story)
    texts = [
        t.get_text() for t in ax.texts if t.get_text()
    ]  # arrows have no text
    assert texts[: len(story.tokens)] == list(story.tokens)
    assert texts[len(story.tokens) :] == ["agreement: gap 4", "recall: gap 12"]
    assert len(ax.patches) == 2
    plt.close(ax.figure)


# ------------------------------------------------------------ distractors and attractors

#: Tokens the generator gave before distractors and attractors existed: they must not change.
PINNED = {
    (
        0,
        3,
    ): "Paul gave Tom two kittens . They named one Luna . They tiny small fluffy purr . "
    "One kitten is called Luna .",
    (0, 0): "Anna gave Tom two ducklings . They named one Milo . They quack . "
    "One duckling is called Milo .",
    (
        1,
        3,
    ): "Anna gave Lisa a puppy . They named it Max . It warm silly friendly barks . "
    "The puppy is called Max .",
    (
        1,
        0,
    ): "Lisa gave Mary a kitten . They named it Milo . It purrs . The kitten is called Milo .",
    (
        2,
        3,
    ): "John gave Mary two kittens . They named one Daisy . They gentle clever tiny purr . "
    "One kitten is called Daisy .",
    (2, 0): "Lisa gave Mary two puppies . They named one Coco . They bark . "
    "One puppy is called Coco .",
}
PINNED_STORIES = [
    "Tom gave Anna a duckling . They named it Milo . It quacks . The duckling is called Milo .",
    "John gave Anna a duckling . They named it Luna . It quacks . The duckling is called Luna .",
    "Tom gave Paul a duckling . They named it Daisy . It clever sleepy quacks . "
    "The duckling is called Daisy .",
]


def test_the_plain_stories_are_exactly_those_of_before():
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        for distance in (3, 0):
            story = generate_story(
                rng, distance, distractor=False, attractors=0
            )
            assert " ".join(story.tokens) == PINNED[seed, distance]
            assert (
                story.names == (story.name,)
                and story.target == 0
                and story.attractors == ()
            )
    stories = generate_stories(
        3, range(5), seed=11, distractor=False, attractors=0
    )
    assert [" ".join(s.tokens) for s in stories] == PINNED_STORIES


def test_the_new_draws_come_after_the_old_ones():
    for seed in range(30):
        plain = generate_story(np.random.default_rng(seed), 6)
        both = generate_story(
            np.random.default_rng(seed), 6, distractor=True, attractors=2
        )
        assert (
            both.tokens[:11] == plain.tokens[:11]
        )  # the first animal is the same
        with_attractors = generate_story(
            np.random.default_rng(seed), 6, attractors=2
        )
        changed = [
            k
            for k, (a, b) in enumerate(
                zip(plain.tokens, with_attractors.tokens, strict=True)
            )
            if a != b
        ]
        assert changed == list(
            with_attractors.attractors
        )  # only the k slots are replaced
        assert set(plain.fillers) >= set(with_attractors.fillers)


def test_a_distractor_introduces_a_second_animal_and_asks_about_one_of_the_two():
    stories = generate_stories(400, range(6), seed=12, distractor=True)
    for story in stories:
        first, second = story.tokens[4], story.tokens[15]
        species = {
            w: a for a in DEFAULT_VOCAB.animals for w in (a.singular, a.plural)
        }
        assert species[first] != species[second]
        assert story.tokens[11:17][1] == "gave" and story.tokens[17:20] == (
            "They",
            "named",
            story.tokens[19],
        )
        assert (
            len(set(story.names)) == 2
            and story.name == story.names[story.target]
        )
        assert story.tokens[story.recall.antecedent] == story.name
        assert story.recall.antecedent == (9, 20)[story.target]
        target = species[(first, second)[story.target]]
        assert story.tokens[story.agreement.position] == (
            target.verb_plural if story.plural else target.verb_singular
        )
        assert story.tokens[story.recall.position - 3] == target.singular
        assert set(story.recall.wrong) == set(DEFAULT_VOCAB.pet_names) - {
            story.name
        }
        assert story.tokens[story.agreement.antecedent] == (
            "They" if story.plural else "It"
        )
    assert 0.4 < np.mean([s.target for s in stories]) < 0.6
    numbers = [(s.tokens[3] == "two", s.tokens[14] == "two") for s in stories]
    assert (
        0.4 < np.mean([a != b for a, b in numbers]) < 0.6
    )  # numbers drawn independently


def test_attractors_are_animal_nouns_of_the_other_number_between_subject_and_verb():
    nouns = {a.singular: False for a in DEFAULT_VOCAB.animals}
    nouns |= {a.plural: True for a in DEFAULT_VOCAB.animals}
    for story in generate_stories(300, range(3, 8), seed=13, attractors=3):
        probe = story.agreement
        assert len(story.attractors) == 3 and list(story.attractors) == sorted(
            story.attractors
        )
        assert all(
            probe.antecedent < k < probe.position for k in story.attractors
        )
        assert all(
            nouns[story.tokens[k]] != story.plural for k in story.attractors
        )
        between = story.tokens[probe.antecedent + 1 : probe.position]
        assert tuple(w for w in between if w not in nouns) == story.fillers
        assert story.distance == len(between) == len(story.fillers) + 3


def test_bad_distractor_and_attractor_options_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(
        ValueError, match="attractors must be at most the distance 2"
    ):
        generate_story(rng, 2, attractors=3)
    with pytest.raises(ValueError, match="attractors"):
        generate_stories(5, [1, 4], attractors=2)
    one_animal = StoryVocab(
        animals=(Animal("lamb", "lambs", "bleats", "bleat"),)
    )
    with pytest.raises(ValueError, match="distractor.*2 animals"):
        generate_story(rng, 2, vocab=one_animal, distractor=True)
    with pytest.raises(TypeError, match="distractor"):
        generate_stories(5, 2, distractor=1)
    with pytest.raises(TypeError, match="attractors"):
        generate_stories(5, 2, attractors=1.0)
    story = generate_story(rng, 3, attractors=1)
    with pytest.raises(
        ValueError, match="Story.distance must be the number of filler words"
    ):
        dataclasses.replace(story, attractors=())
    with pytest.raises(ValueError, match="Story.names"):
        dataclasses.replace(story, names=("Zed",))


# ----------------------------------------------------------------- exact probabilities

TINY = StoryVocab(
    people=("Ada", "Bob"),
    pet_names=("Pip", "Zed"),
    animals=(
        Animal("lamb", "lambs", "bleats", "bleat"),
        Animal("calf", "calves", "moos", "moo"),
    ),
    fillers=("woolly", "white"),
)


@pytest.mark.parametrize(
    "distances, options",
    [
        ([0, 1, 2], {}),
        ([0, 1], {"distractor": True}),
        ([1, 2], {"attractors": 1}),
        ([1, 2], {"distractor": True, "attractors": 1}),
    ],
    ids=["plain", "distractor", "attractors", "both"],
)
def test_log_prob_is_the_probability_of_the_tokens(distances, options):
    n = 40_000
    stories = generate_stories(n, distances, seed=14, vocab=TINY, **options)
    counts = Counter(s.tokens for s in stories)
    prob = {}
    for story in stories:
        p = (
            math.exp(story.log_prob)
            * distances.count(story.distance)
            / len(distances)
        )
        assert (
            prob.setdefault(story.tokens, p) == p
        )  # the same tokens, the same probability
    for tokens, count in counts.items():
        p = prob[tokens]
        assert abs(count / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-4, (
            " ".join(tokens)
        )
    assert sum(prob.values()) == pytest.approx(
        1.0, abs=1e-9
    )  # every outcome was drawn


def test_best_perplexity_is_the_exponential_of_the_entropy_per_word():
    vocab = StoryVocab(
        people=("Ada", "Bob", "Cy"),
        pet_names=("Pip", "Zed"),
        animals=(Animal("lamb", "lambs", "bleats", "bleat"),),
        fillers=("woolly",),
    )
    stories = generate_stories(300, [0, 1], seed=15, vocab=vocab)
    # after the giver: the distance, the number, the receiver (1 of 2), the name: 1 bit each
    entropy = 4 * math.log(2) * len(stories)
    words = sum(
        len(s.tokens) for s in stories
    )  # tokens[1:] and the end of the story
    assert best_perplexity(stories, [0, 1], vocab=vocab) == pytest.approx(
        math.exp(entropy / words)
    )
    forgetting = best_perplexity(
        stories, [0, 1], vocab=vocab, remember_names=False
    )
    assert forgetting == pytest.approx(
        math.exp((entropy + math.log(2) * len(stories)) / words)
    )
    assert best_perplexity(stories, range(2), vocab=vocab) == pytest.approx(
        math.exp(entropy / words)
    )
    plain = generate_stories(200, range(5), seed=16)
    assert best_perplexity(plain, range(5)) < best_perplexity(
        plain, range(5), remember_names=False
    )
    one = next(s for s in stories if s.distance == 1)
    with pytest.raises(
        ValueError, match=r"stories\[0\].distance 1 is not among"
    ):
        best_perplexity([one], 0, vocab=vocab)
    with pytest.raises(ValueError, match="log_prob"):
        best_perplexity(
            [dataclasses.replace(stories[0], log_prob=None)],
            [0, 1],
            vocab=vocab,
        )


# -------------------------------------------------------------------------- shortcuts


def _rates(scores):
    return {
        m: {k: None if v is None else v.mean() for k, v in d.items()}
        for m, d in scores.items()
    }


def test_copying_a_name_recalls_every_plain_story_and_half_of_those_with_a_distractor():
    plain = _rates(shortcut_scores(generate_stories(500, range(6), seed=17),
                                   generate_stories(300, range(6), seed=18)))  # fmt: skip
    assert plain["first name"]["recall"] == plain["last name"]["recall"] == 1.0
    assert (
        plain["first name"]["agreement"] is None
        and plain["last number word"]["recall"] is None
    )
    assert plain["last number word"]["agreement"] == 1.0
    assert 0.4 < plain["majority"]["agreement"] < 0.6
    train = generate_stories(1000, range(6), seed=19, distractor=True)
    test = generate_stories(400, range(6), seed=20, distractor=True)
    scores = shortcut_scores(train, test)
    twisted = _rates(scores)
    for method in ("first name", "last name"):
        assert 0.4 < twisted[method]["recall"] < 0.6
    assert (
        scores["first name"]["recall"]
        == np.array([s.target == 0 for s in test])
    ).all()
    assert 0.38 < twisted["bag of words"]["recall"] < 0.62
    assert (
        twisted["last number word"]["agreement"] == 1.0
    )  # no attractors: the pronoun
    assert 0.4 < twisted["majority"]["agreement"] < 0.6
    bigram = bigram_scores(train, test)
    assert (scores["bigram"]["recall"] == bigram["recall"]).all()
    assert (scores["bigram"]["agreement"] == bigram["agreement"]).all()
    assert all(
        v is None or v.shape == (len(test),)
        for d in scores.values()
        for v in d.values()
    )


def test_an_attractor_before_the_verb_fools_the_last_number_word():
    train = generate_stories(300, range(1, 6), seed=21, attractors=1)
    test = generate_stories(300, range(1, 6), seed=22, attractors=1)
    last = shortcut_scores(train, test)["last number word"]["agreement"]
    before_verb = np.array(
        [s.attractors[-1] == s.agreement.position - 1 for s in test]
    )
    assert before_verb.sum() > 30
    assert not last[before_verb].any()
    assert not last.any()  # the nearest number word is always the attractor
    with pytest.raises(ValueError, match="at least one"):
        shortcut_scores([], test)
