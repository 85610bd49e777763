"""A corpus of puppy stories: the book's example, grown into a memory test.

Every story has the shape of "John gave Mary a puppy. It barks very loudly. They named it
Luna.", with a controllable number of unrelated *filler* words wedged between a word that
carries a fact and the word that needs it::

    John gave Mary a puppy . They named it Luna .
    It small curious happy barks .           <- 3 filler words between "It" and "barks"
    The puppy is called Luna .               <- the name must be recalled

    Anna gave Tom two kittens . They named them Coco and Max .
    They shy warm purr .                     <- plural subject, plural verb
    The kittens are called Coco and Max .

Two facts are probed in every story:

- **agreement**: the verb after the fillers must agree with the subject pronoun before them
  (*It barks*, *They bark*). The filler words carry no grammatical number, so only a memory
  of the subject tells the two verb forms apart.
- **recall**: the name given to the animal(s) must be repeated after *is called* / *are
  called*. Names are drawn uniformly at random, independently of everything else, so at
  that position no word of the story except the earlier name says which one it is.

The *distance* of a story is its number of filler words. Each filler word is used at most
once per story (drawn without replacement), so the filler list bounds the distance.

Checks: every public function and class checks its arguments with :mod:`lstm_tutorial.checks`
before any work: the dataclasses their fields when they are built (``Animal``,
``StoryVocab``, ``Probe``, ``Story``), the generators their counts, distances, seed and
vocabulary, the measurements their lists of stories and their score arrays. The functions a
chapter shows (``generate_story``, ``bigram_scores``, ``Probe``) do it in one line that calls
a private helper.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from lstm_tutorial import checks


@dataclass(frozen=True)
class Animal:
    """An animal of the stories: its noun and its verb, each in the singular and plural."""

    singular: str
    plural: str
    verb_singular: str
    verb_plural: str

    def __post_init__(self) -> None:
        for name in ("singular", "plural", "verb_singular", "verb_plural"):
            checks.string(f"Animal.{name}", getattr(self, name))

    def words(self) -> tuple[str, str, str, str]:
        return (self.singular, self.plural, self.verb_singular, self.verb_plural)


#: People who give and receive the animals.
PEOPLE = ("John", "Mary", "Anna", "Tom", "Lisa", "Paul")
#: Names given to the animals: the words a model must recall.
PET_NAMES = ("Luna", "Max", "Bella", "Rex", "Coco", "Milo", "Daisy", "Leo")
#: The animals, each with its own verb: "a puppy ... It barks", "two puppies ... They bark".
ANIMALS = (
    Animal("puppy", "puppies", "barks", "bark"),
    Animal("kitten", "kittens", "purrs", "purr"),
    Animal("duckling", "ducklings", "quacks", "quack"),
    Animal("hamster", "hamsters", "squeaks", "squeak"),
)
#: Unrelated words that carry neither a number nor a name: 30 of them, so up to 30 fillers.
FILLERS = (
    "small", "brown", "tiny", "happy", "sleepy", "fluffy", "soft", "warm", "young", "little",
    "clever", "curious", "gentle", "playful", "quiet", "busy", "lively", "shy", "calm", "funny",
    "sweet", "bright", "cheerful", "friendly", "hungry", "noisy", "proud", "silly", "spotted",
    "striped",
)  # fmt: skip

#: The fixed words of the story templates.
TEMPLATE_WORDS = (
    ".", "gave", "a", "two", "They", "named", "it", "one", "It", "The", "One", "is", "called",
)  # fmt: skip


@dataclass(frozen=True)
class StoryVocab:
    """The word lists a corpus is drawn from. Every list must be non-empty, and no word may
    belong to two lists (a filler that is also a name would give the name away)."""

    people: tuple[str, ...] = PEOPLE
    pet_names: tuple[str, ...] = PET_NAMES
    animals: tuple[Animal, ...] = ANIMALS
    fillers: tuple[str, ...] = FILLERS

    def __post_init__(self) -> None:
        for role in ("people", "pet_names", "animals", "fillers"):
            words = checks.sequence(role, getattr(self, role))
            object.__setattr__(self, role, tuple(words))  # lists become tuples
        for k, animal in enumerate(self.animals):
            checks.instance(
                f"animals[{k}]", animal, Animal, "an Animal(singular, plural, verb, verbs)"
            )
        if len(self.people) < 2:
            raise ValueError(
                f"people needs at least 2 names (giver != receiver), got {self.people}"
            )
        if len(self.pet_names) < 2:
            raise ValueError(
                f"pet_names needs at least 2 names (two animals get two), got {self.pet_names}"
            )
        roles = {
            "people": self.people,
            "pet_names": self.pet_names,
            "animals": tuple(w for a in self.animals for w in a.words()),
            "fillers": self.fillers,
            "template": TEMPLATE_WORDS,
        }
        owner: dict[str, str] = {}
        for role, words in roles.items():
            for k, word in enumerate(words):
                if role != "template" and not checks.string(f"{role}[{k}]", word).isalpha():
                    raise ValueError(f"{role} words must be letters only, got {word!r}")
                if word in owner:
                    raise ValueError(
                        f"the word {word!r} appears in both {owner[word]} and {role}: "
                        "each word may have one role only"
                    )
                owner[word] = role

    @property
    def max_distance(self) -> int:
        """The largest distance a story can have: each filler word is used at most once."""
        return len(self.fillers)

    def words(self) -> list[str]:
        """Every word a story can contain, in a fixed order: template words, people, animals
        (noun and verb forms), pet names, fillers."""
        animal_words = [w for a in self.animals for w in a.words()]
        return [*TEMPLATE_WORDS, *self.people, *animal_words, *self.pet_names, *self.fillers]


DEFAULT_VOCAB = StoryVocab()


def _check_probe(probe: Probe) -> None:
    """The fields of a :class:`Probe` (its ``__post_init__``): an antecedent before the
    position, a correct word and at least one wrong word (a tuple; a list becomes one)."""
    checks.integer("Probe.antecedent", probe.antecedent, minimum=0)
    checks.integer("Probe.position", probe.position, minimum=probe.antecedent + 1)
    checks.string("Probe.correct", probe.correct)
    wrong = checks.sequence("Probe.wrong", probe.wrong)
    for k, word in enumerate(wrong):
        checks.string(f"Probe.wrong[{k}]", word)
    if probe.correct in wrong:
        raise ValueError(f"Probe.wrong must not contain the correct word {probe.correct!r}")
    object.__setattr__(probe, "wrong", tuple(wrong))


@dataclass(frozen=True)
class Probe:
    """One position of a story at which a model is tested.

    ``tokens[position] == correct``, and the model, having read ``tokens[:position]``, should
    prefer ``correct`` to every word in ``wrong``. ``antecedent`` is the index of the earlier
    word that carries the fact needed there.
    """

    position: int
    antecedent: int
    correct: str
    wrong: tuple[str, ...]

    __post_init__ = _check_probe  # checks the fields when a Probe is built

    @property
    def gap(self) -> int:
        """Tokens the fact must be carried: ``position - antecedent``."""
        return self.position - self.antecedent


@dataclass(frozen=True)
class Story:
    """A generated story: its tokens, its distance and the two positions to score."""

    tokens: tuple[str, ...]
    distance: int
    plural: bool
    name: str
    agreement: Probe
    recall: Probe
    fillers: tuple[str, ...] = field(repr=False, default=())

    def __post_init__(self) -> None:
        for name in ("tokens", "fillers"):
            words = checks.sequence(f"Story.{name}", getattr(self, name), empty=name == "fillers")
            for k, word in enumerate(words):
                checks.string(f"Story.{name}[{k}]", word)
            object.__setattr__(self, name, tuple(words))  # lists become tuples
        checks.count("Story.distance", self.distance)
        checks.boolean("Story.plural", self.plural)
        checks.string("Story.name", self.name)
        for kind in ("agreement", "recall"):
            probe = checks.instance(f"Story.{kind}", getattr(self, kind), Probe, "a Probe")
            if probe.position >= len(self.tokens):
                raise ValueError(
                    f"Story.{kind}.position must index a token (the story has "
                    f"{len(self.tokens)}), got {probe.position}"
                )
        if self.recall.correct != self.name:
            raise ValueError(
                f"Story.recall.correct must be the pet's name {self.name!r}, "
                f"got {self.recall.correct!r}"
            )
        if self.fillers and len(self.fillers) != self.distance:
            raise ValueError(
                f"Story.distance must be the number of filler words ({len(self.fillers)}), "
                f"got {self.distance}"
            )

    @property
    def text(self) -> str:
        """The tokens joined by spaces, full stops attached to the word before them."""
        return " ".join(self.tokens).replace(" .", ".")


def _check_distance(name: str, distance: object, vocab: StoryVocab) -> int:
    checks.integer(name, distance)
    if not 0 <= distance <= vocab.max_distance:
        raise ValueError(
            f"{name} must be between 0 and {vocab.max_distance} (the number of filler "
            f"words, each used at most once per story), got {distance}"
        )
    return int(distance)


def _check_story_args(rng: object, distance: object, plural: object, vocab: object) -> int:
    """The arguments of :func:`generate_story`; returns the distance as an int."""
    checks.rng("rng", rng)
    checks.optional(checks.boolean, "plural", plural)
    checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
    return _check_distance("distance", distance, vocab)


def _check_stories(**lists: object) -> None:
    """Each keyword argument a non-empty list or tuple of :class:`Story` objects."""
    for name, stories in lists.items():
        checks.sequence(name, stories, empty=True)
        if not stories:
            raise ValueError(
                f"{name} must hold at least one Story (generate_stories(...)), got {stories!r}"
            )
        for k, story in enumerate(stories):
            checks.instance(f"{name}[{k}]", story, Story, "a Story (from generate_stories)")


def generate_story(
    rng: np.random.Generator,
    distance: int,
    *,
    plural: bool | None = None,
    vocab: StoryVocab = DEFAULT_VOCAB,
) -> Story:
    """Draw one story with ``distance`` filler words, using ``rng`` for every choice.

    ``plural=None`` draws singular or plural with equal probability. Raises ValueError for a
    distance outside ``0..vocab.max_distance``.
    """
    distance = _check_story_args(rng, distance, plural, vocab)
    if plural is None:
        plural = bool(rng.integers(2))
    giver, receiver = (vocab.people[k] for k in rng.choice(len(vocab.people), 2, replace=False))
    animal = vocab.animals[rng.integers(len(vocab.animals))]
    name = vocab.pet_names[rng.integers(len(vocab.pet_names))]
    fillers = tuple(vocab.fillers[k] for k in rng.choice(len(vocab.fillers), distance, False))

    if plural:  # two puppies ... They named one Luna ... They bark ... One puppy is called
        article, noun, named, subject, verb, wrong_verb, cue = (
            "two", animal.plural, "one", "They",
            animal.verb_plural, animal.verb_singular, "One",
        )  # fmt: skip
    else:  # a puppy ... They named it Luna ... It barks ... The puppy is called
        article, noun, named, subject, verb, wrong_verb, cue = (
            "a", animal.singular, "it", "It",
            animal.verb_singular, animal.verb_plural, "The",
        )  # fmt: skip

    tokens = [giver, "gave", receiver, article, noun, "."]  # John gave Mary a puppy .
    tokens += ["They", "named", named]  # They named it
    name_at = len(tokens)
    tokens += [name, "."]  # Luna .
    subject_at = len(tokens)
    tokens += [subject, *fillers]  # It small curious ...
    verb_at = len(tokens)
    tokens += [verb, ".", cue, animal.singular, "is", "called"]  # barks . The puppy is called
    recall_at = len(tokens)
    tokens += [name, "."]  # Luna .

    return Story(
        tokens=tuple(tokens),
        distance=distance,
        plural=plural,
        name=name,
        agreement=Probe(verb_at, subject_at, verb, (wrong_verb,)),
        recall=Probe(recall_at, name_at, name, tuple(n for n in vocab.pet_names if n != name)),
        fillers=fillers,
    )


def generate_stories(
    n: int,
    distances: int | Iterable[int],
    *,
    seed: int | np.random.Generator = 0,
    vocab: StoryVocab = DEFAULT_VOCAB,
) -> list[Story]:
    """Draw ``n`` stories; each distance drawn uniformly from ``distances``.

    ``distances`` is one integer (every story has that many fillers) or a collection such as
    ``range(0, 25)``. ``seed`` is an integer or a ``numpy.random.Generator``; the same seed
    gives the same stories. Raises ValueError for ``n < 1``, an empty ``distances``, or a
    distance outside ``0..vocab.max_distance``.
    """
    n = checks.positive_int("n", n)
    checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
    if isinstance(distances, numbers.Integral):
        choices = [_check_distance("distances", distances, vocab)]
    elif isinstance(distances, Iterable) and not isinstance(distances, str | bytes | Mapping):
        choices = list(distances)
        if not choices:
            raise ValueError("distances must hold at least one distance, got an empty collection")
        choices = [_check_distance(f"distances[{k}]", d, vocab) for k, d in enumerate(choices)]
    else:
        raise checks.ArgumentTypeError(
            "distances must be an integer or a collection of integers such as range(0, 25), "
            f"got {checks.describe(distances)}"
        )
    rng = checks.seed_or_rng("seed", seed)
    return [generate_story(rng, choices[rng.integers(len(choices))], vocab=vocab) for _ in range(n)]


def corpus_statistics(stories: Sequence[Story]) -> dict[str, object]:
    """Counts that describe a corpus: stories, tokens, distinct words, plural share, the
    distances and the names used (as ``Counter``s)."""
    _check_stories(stories=stories)
    lengths = np.array([len(s.tokens) for s in stories])
    return {
        "stories": len(stories),
        "tokens": int(lengths.sum()),
        "distinct words": len({w for s in stories for w in s.tokens}),
        "shortest story": int(lengths.min()),
        "longest story": int(lengths.max()),
        "plural share": float(np.mean([s.plural for s in stories])),
        "distances": Counter(s.distance for s in stories),
        "recalled names": Counter(s.recall.correct for s in stories),
    }


def bigram_scores(train: Sequence[Story], test: Sequence[Story]) -> dict[str, np.ndarray]:
    """The probes answered by a model that sees only the previous word.

    It counts in ``train`` how often each word follows each other word; at a probe of a
    ``test`` story it picks the candidate seen most often after the word just before the
    probe, and is right only if the correct word was seen strictly more often than every
    wrong one. Returns arrays of shape (N,) like :func:`lstm_tutorial.word_lm.score_probes`:
    ``"distance"``, and booleans ``"agreement"`` and ``"recall"``.
    """
    _check_stories(train=train, test=test)
    follows = Counter(pair for s in train for pair in pairwise(s.tokens))
    result = {"distance": np.array([s.distance for s in test])}
    for kind in ("agreement", "recall"):
        wins = []
        for story in test:
            probe = getattr(story, kind)
            previous = story.tokens[probe.position - 1]
            right = follows[previous, probe.correct]
            wins.append(all(right > follows[previous, w] for w in probe.wrong))
        result[kind] = np.array(wins)
    return result


def accuracy_by_distance(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Group probe results (``{"distance", "agreement", "recall"}``, arrays of shape (N,))
    by distance: ``{"distance", "count", "agreement", "recall"}``, one entry per distance,
    sorted; the accuracies are the fractions of stories answered correctly."""
    distance, outcomes = _check_scores(scores)
    values = np.unique(distance)
    out = {"distance": values, "count": np.array([(distance == d).sum() for d in values])}
    for kind, outcome in outcomes.items():
        out[kind] = np.array([outcome[distance == d].mean() for d in values])
    return out


def _check_scores(scores: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The probe results :func:`accuracy_by_distance` groups: integer distances >= 0 (N,),
    and for "agreement" and "recall" outcomes (N,) that are booleans or 0/1 numbers."""
    checks.mapping("scores", scores)
    missing = [key for key in ("distance", "agreement", "recall") if key not in scores]
    if missing:
        raise ValueError(
            f"scores must have the keys 'distance', 'agreement' and 'recall' (as score_probes "
            f"returns), missing {missing}"
        )
    distance = checks.array("scores['distance']", scores["distance"], kind="int", ndim=1)
    if distance.min() < 0:
        raise ValueError(f"scores['distance'] must hold distances >= 0, got {distance.min()}")
    outcomes = {}
    for kind in ("agreement", "recall"):
        name = f"scores[{kind!r}]"
        outcome = checks.array(name, scores[kind], ndim=1, nonempty=False)
        if outcome.shape != distance.shape:
            raise ValueError(f"{name} has shape {outcome.shape}, expected {distance.shape}")
        if outcome.dtype != bool and not (
            np.issubdtype(outcome.dtype, np.number) and np.isin(outcome, (0, 1)).all()
        ):
            raise ValueError(f"{name} must hold booleans (or 0 and 1), got dtype {outcome.dtype}")
        outcomes[kind] = outcome
    return distance, outcomes


def plot_probes(story: Story, ax=None):
    """Draw a story's words with an arc from each probed word back to its antecedent.

    Filler words are grey; the agreement and recall words are coloured like their arcs.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Arc

    from lstm_tutorial.plotting import COLORS, _check_ax

    checks.instance("story", story, Story, "a Story")
    ax = _check_ax(ax)
    widths = np.array([len(word) + 1.6 for word in story.tokens])  # in characters
    centres = np.cumsum(widths) - widths / 2
    if ax is None:
        _, ax = plt.subplots(figsize=(0.085 * widths.sum() + 0.4, 2.8))
    colour = dict.fromkeys(range(story.agreement.antecedent + 1, story.agreement.position), "0.55")
    arcs = (
        ("agreement", story.agreement, COLORS["forget"]),
        ("recall", story.recall, COLORS["cell"]),
    )
    for _, probe, tone in arcs:
        colour[probe.antecedent] = colour[probe.position] = tone
    for k, word in enumerate(story.tokens):
        bold = k in (story.agreement.position, story.recall.position)
        weight = "bold" if bold else "normal"
        ax.text(
            centres[k], 0, word, ha="center", va="top", color=colour.get(k, "black"), weight=weight
        )
    top = 0.0
    for kind, probe, tone in arcs:
        a, b = centres[probe.antecedent], centres[probe.position]
        height = 1.2 + 0.045 * (b - a)
        ax.add_patch(Arc(((a + b) / 2, 0.2), b - a, height, theta1=0, theta2=180, color=tone, lw=2))
        arrow = {"arrowstyle": "-|>", "color": tone, "lw": 1.4}
        ax.annotate("", xy=(a, 0.22), xytext=(a + 0.01, 0.6), arrowprops=arrow)
        label = f"{kind}: gap {probe.gap}"
        ax.text((a + b) / 2, 0.28 + height / 2, label, ha="center", va="bottom", color=tone)
        top = max(top, 0.2 + height / 2 + 0.6)
    ax.set_xlim(0, widths.sum())
    ax.set_ylim(-0.7, top)
    ax.axis("off")
    return ax
