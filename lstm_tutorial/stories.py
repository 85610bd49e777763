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

The *distance* of a story is its number of words between the subject and the verb. Each
filler word is used at most once per story (drawn without replacement), so the filler list
bounds the distance.

Two options make the probes harder to pass by a shortcut (:func:`shortcut_scores` measures
the shortcuts, :func:`best_perplexity` the best a model can do):

- ``distractor=True`` introduces a second animal, of another species and with another name,
  right after the first (``Anna gave Tom a kitten . They named it Coco .``), and the rest of
  the story is about one of the two, drawn at random. Without it, recall is passed by "copy
  the only name" and agreement by a bag of words (*a* or *two* anywhere in the story); with
  it, a model must bind each name to its animal and keep track of which one is talked about.
- ``attractors=k`` turns ``k`` of the words between subject and verb into animal nouns of the
  *opposite* number (``It kittens small barks``), after the agreement attractors of Linzen,
  Dupoux and Goldberg (2016): a model that agrees with the nearest noun gets them wrong. The
  fillers are drawn as without attractors and the ``k`` slots (uniform, without replacement)
  then replaced, so for a given seed only those slots change.

The new draws come after all those of a plain story, so ``distractor=False, attractors=0``
gives exactly the stories of before. Every draw is uniform, and the mapping from draws to
tokens is one-to-one (the replaced fillers are not seen, and the visible ones are an ordered
draw without replacement all the same), so ``Story.log_prob`` is the exact log-probability
of the story's tokens given its distance.

Checks: every public function and class checks its arguments with :mod:`lstm_tutorial.checks`
before any work: the dataclasses their fields when they are built (``Animal``,
``StoryVocab``, ``Probe``, ``Story``), the generators their counts, distances, seed,
vocabulary and options (``distractor`` True or False and needing two animals, ``attractors``
a count no larger than any distance), the measurements their lists of stories, distances and
score arrays. The functions a chapter shows (``generate_story``, ``bigram_scores``,
``Probe``) do it in one line that calls a private helper.
"""

from __future__ import annotations

import math
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
        return (
            self.singular,
            self.plural,
            self.verb_singular,
            self.verb_plural,
        )


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
                f"animals[{k}]",
                animal,
                Animal,
                "an Animal(singular, plural, verb, verbs)",
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
                if (
                    role != "template"
                    and not checks.string(f"{role}[{k}]", word).isalpha()
                ):
                    raise ValueError(
                        f"{role} words must be letters only, got {word!r}"
                    )
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
        return [
            *TEMPLATE_WORDS,
            *self.people,
            *animal_words,
            *self.pet_names,
            *self.fillers,
        ]


DEFAULT_VOCAB = StoryVocab()


def _check_probe(probe: Probe) -> None:
    """The fields of a :class:`Probe` (its ``__post_init__``): an antecedent before the
    position, a correct word and at least one wrong word (a tuple; a list becomes one)."""
    checks.integer("Probe.antecedent", probe.antecedent, minimum=0)
    checks.integer(
        "Probe.position", probe.position, minimum=probe.antecedent + 1
    )
    checks.string("Probe.correct", probe.correct)
    wrong = checks.sequence("Probe.wrong", probe.wrong)
    for k, word in enumerate(wrong):
        checks.string(f"Probe.wrong[{k}]", word)
    if probe.correct in wrong:
        raise ValueError(
            f"Probe.wrong must not contain the correct word {probe.correct!r}"
        )
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
    """A generated story: its tokens, its distance and the two positions to score.

    ``distance`` counts the words between the subject and the verb: the ``fillers`` plus
    the attractor nouns (token indices ``attractors``). ``names`` are the pet names in order
    of appearance, ``target`` which of the animals the story goes on about (0 without a
    distractor), and ``log_prob`` the natural-log probability of the story given its
    distance under the generator (None for a story not drawn by :func:`generate_story`).
    """

    tokens: tuple[str, ...]
    distance: int
    plural: bool
    name: str
    agreement: Probe
    recall: Probe
    fillers: tuple[str, ...] = field(repr=False, default=())
    names: tuple[str, ...] = field(repr=False, default=())
    attractors: tuple[int, ...] = field(repr=False, default=())
    target: int = field(repr=False, default=0)
    log_prob: float | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        for name in ("tokens", "fillers", "names"):
            words = checks.sequence(
                f"Story.{name}", getattr(self, name), empty=name != "tokens"
            )
            for k, word in enumerate(words):
                checks.string(f"Story.{name}[{k}]", word)
            object.__setattr__(self, name, tuple(words))  # lists become tuples
        checks.count("Story.distance", self.distance)
        checks.boolean("Story.plural", self.plural)
        checks.string("Story.name", self.name)
        for kind in ("agreement", "recall"):
            probe = checks.instance(
                f"Story.{kind}", getattr(self, kind), Probe, "a Probe"
            )
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
        attractors = checks.sequence(
            "Story.attractors", self.attractors, empty=True
        )
        last = len(self.tokens) - 1
        for k, at in enumerate(attractors):
            checks.integer(
                f"Story.attractors[{k}]", at, minimum=0, maximum=last
            )
        object.__setattr__(
            self, "attractors", tuple(int(at) for at in attractors)
        )
        words = len(self.fillers) + len(self.attractors)
        if words and words != self.distance:
            raise ValueError(
                f"Story.distance must be the number of filler words plus attractor nouns "
                f"({len(self.fillers)} + {len(self.attractors)}), got {self.distance}"
            )
        checks.integer("Story.target", self.target, minimum=0, maximum=1)
        if self.names and (
            self.target >= len(self.names)
            or self.names[self.target] != self.name
        ):
            raise ValueError(
                f"Story.names[Story.target] must be the name the story asks for {self.name!r}, "
                f"got names={self.names} and target={self.target}"
            )
        checks.optional(
            checks.number, "Story.log_prob", self.log_prob, maximum=0.0
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


def _check_distances(distances: object, vocab: StoryVocab) -> list[int]:
    """``distances`` as :func:`generate_stories` takes it (one integer or a non-empty
    collection of them), as a list of the allowed distances (repeats kept)."""
    if isinstance(distances, numbers.Integral):
        return [_check_distance("distances", distances, vocab)]
    if isinstance(distances, Iterable) and not isinstance(
        distances, str | bytes | Mapping
    ):
        choices = list(distances)
        if not choices:
            raise ValueError(
                "distances must hold at least one distance, got an empty collection"
            )
        return [
            _check_distance(f"distances[{k}]", d, vocab)
            for k, d in enumerate(choices)
        ]
    raise checks.ArgumentTypeError(
        "distances must be an integer or a collection of integers such as range(0, 25), "
        f"got {checks.describe(distances)}"
    )


def _check_options(
    distractor: object, attractors: object, vocab: StoryVocab
) -> int:
    """``distractor`` True or False (True needs two animals), ``attractors`` a count."""
    checks.boolean("distractor", distractor)
    if distractor and len(vocab.animals) < 2:
        raise ValueError(
            "distractor=True needs a vocab with at least 2 animals (the second animal is "
            f"of another species), got {len(vocab.animals)}"
        )
    return checks.count("attractors", attractors)


def _checked(
    rng: object,
    distance: object,
    plural: object,
    vocab: object,
    distractor: object = False,
    attractors: object = 0,
) -> int:
    """The arguments of :func:`generate_story`; returns the distance as an int."""
    checks.rng("rng", rng)
    checks.optional(checks.boolean, "plural", plural)
    checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
    attractors = _check_options(distractor, attractors, vocab)
    distance = _check_distance("distance", distance, vocab)
    if attractors > distance:
        raise ValueError(
            f"attractors must be at most the distance {distance} (each attractor takes the "
            f"place of a filler word), got {attractors}"
        )
    return distance


def _check_stories(**lists: object) -> None:
    """Each keyword argument a non-empty list or tuple of :class:`Story` objects."""
    for name, stories in lists.items():
        checks.sequence(name, stories, empty=True)
        if not stories:
            raise ValueError(
                f"{name} must hold at least one Story (generate_stories(...)), got {stories!r}"
            )
        for k, story in enumerate(stories):
            checks.instance(
                f"{name}[{k}]", story, Story, "a Story (from generate_stories)"
            )


@dataclass(frozen=True)
class _Pet:
    """One animal of a story: who gave it to whom, its species, number and name."""

    giver: str
    receiver: str
    animal: Animal
    plural: bool
    name: str

    @property
    def words(self) -> tuple[str, str, str, str, str, str, str]:
        """article, noun, named, subject, verb, wrong verb, question cue."""
        a = self.animal
        if self.plural:  # two puppies ... named one ... They bark ... One puppy
            return (
                "two",
                a.plural,
                "one",
                "They",
                a.verb_plural,
                a.verb_singular,
                "One",
            )
        return (
            "a",
            a.singular,
            "it",
            "It",
            a.verb_singular,
            a.verb_plural,
            "The",
        )


def _draw_pet(rng, vocab, plural, animals, names) -> _Pet:
    """Draw a number (unless given), two distinct people, an animal and a name."""
    if plural is None:
        plural = bool(rng.integers(2))
    people = rng.choice(len(vocab.people), 2, replace=False)
    giver, receiver = (vocab.people[k] for k in people)
    animal = animals[rng.integers(len(animals))]
    name = names[rng.integers(len(names))]
    return _Pet(giver, receiver, animal, plural, name)


def _log_prob(
    vocab: StoryVocab,
    distance: int,
    plural_drawn: bool,
    distractor: bool,
    attractors: int,
) -> float:
    """The natural-log probability of one story's draws given its distance. Every draw is
    uniform, so it is the same for every story drawn with these settings."""
    people, animals = len(vocab.people), len(vocab.animals)
    names, fillers = len(vocab.pet_names), len(vocab.fillers)
    log_p = -math.log(2) if plural_drawn else 0.0
    log_p -= (
        math.log(people * (people - 1)) + math.log(animals) + math.log(names)
    )
    log_p -= sum(math.log(fillers - j) for j in range(distance - attractors))
    if (
        distractor
    ):  # its number, two people, another animal, another name; the target
        log_p -= math.log(2) + math.log(people * (people - 1))
        log_p -= math.log(animals - 1) + math.log(names - 1) + math.log(2)
    log_p -= math.log(math.comb(distance, attractors)) + attractors * math.log(
        animals
    )
    return log_p


def generate_story(
    rng: np.random.Generator,
    distance: int,
    *,
    plural: bool | None = None,
    vocab: StoryVocab = DEFAULT_VOCAB,
    distractor: bool = False,
    attractors: int = 0,
) -> Story:
    """Draw one story with ``distance`` words between subject and verb, using ``rng`` for
    every choice.

    ``plural=None`` draws singular or plural with equal probability (``plural`` fixes the
    number of the first animal). ``distractor=True`` introduces a second animal and asks
    about one of the two, drawn at random. ``attractors=k`` turns ``k`` of the ``distance``
    words into animal nouns of the opposite number. Raises ValueError for a distance outside
    ``0..vocab.max_distance`` or fewer than ``attractors``.
    """
    distance = _checked(rng, distance, plural, vocab, distractor, attractors)
    logp = _log_prob(vocab, distance, plural is None, distractor, attractors)
    pets = [_draw_pet(rng, vocab, plural, vocab.animals, vocab.pet_names)]
    draw = rng.choice(len(vocab.fillers), distance, replace=False)
    between = [vocab.fillers[k] for k in draw]  # It small curious ... barks
    if distractor:  # a second animal, of another species, with another name
        first = pets[0]
        animals = [a for a in vocab.animals if a != first.animal]
        names = [n for n in vocab.pet_names if n != first.name]
        pets.append(_draw_pet(rng, vocab, None, animals, names))
    target = int(rng.integers(2)) if distractor else 0
    pet = pets[target]  # the animal the rest of the story is about
    slots = []  # where the attractors go, if anywhere
    if attractors:
        slots = sorted(rng.choice(distance, attractors, replace=False))
    for slot in slots:  # It kittens ... barks: a noun of the other number
        other = vocab.animals[rng.integers(len(vocab.animals))]
        between[slot] = other.singular if pet.plural else other.plural

    tokens, name_at = [], []
    for each in pets:  # John gave Mary a puppy . They named it Luna .
        article, noun, named, *_ = each.words
        tokens += [each.giver, "gave", each.receiver, article, noun, "."]
        tokens += ["They", "named", named]
        name_at.append(len(tokens))
        tokens += [each.name, "."]
    _, _, _, subject, verb, wrong_verb, cue = pet.words
    subject_at = len(tokens)
    tokens += [subject, *between]  # It small curious ...
    verb_at = len(tokens)
    # barks . The puppy is called
    tokens += [verb, ".", cue, pet.animal.singular, "is", "called"]
    recall_at = len(tokens)
    tokens += [pet.name, "."]  # Luna .

    others = tuple(n for n in vocab.pet_names if n != pet.name)
    return Story(
        tokens=tuple(tokens),
        distance=distance,
        plural=pet.plural,
        name=pet.name,
        agreement=Probe(verb_at, subject_at, verb, (wrong_verb,)),
        recall=Probe(recall_at, name_at[target], pet.name, others),
        fillers=tuple(w for k, w in enumerate(between) if k not in slots),
        names=tuple(each.name for each in pets),
        attractors=tuple(subject_at + 1 + int(k) for k in slots),
        target=target,
        log_prob=logp,
    )


def generate_stories(
    n: int,
    distances: int | Iterable[int],
    *,
    seed: int | np.random.Generator = 0,
    vocab: StoryVocab = DEFAULT_VOCAB,
    distractor: bool = False,
    attractors: int = 0,
) -> list[Story]:
    """Draw ``n`` stories; each distance drawn uniformly from ``distances``.

    ``distances`` is one integer (every story has that many words between subject and verb)
    or a collection such as ``range(0, 25)``. ``seed`` is an integer or a
    ``numpy.random.Generator``; the same seed gives the same stories. ``distractor`` and
    ``attractors`` are passed on to :func:`generate_story`. Raises ValueError for ``n < 1``,
    an empty ``distances``, a distance outside ``0..vocab.max_distance`` or one smaller than
    ``attractors``.
    """
    n = checks.positive_int("n", n)
    checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
    choices = _check_distances(distances, vocab)
    attractors = _check_options(distractor, attractors, vocab)
    if attractors > min(choices):
        raise ValueError(
            f"attractors must be at most every allowed distance (each attractor takes the "
            f"place of a filler word), got attractors={attractors} and distances down to "
            f"{min(choices)}"
        )
    rng = checks.seed_or_rng("seed", seed)
    options = {
        "vocab": vocab,
        "distractor": distractor,
        "attractors": attractors,
    }
    return [
        generate_story(rng, choices[rng.integers(len(choices))], **options)
        for _ in range(n)
    ]


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


def bigram_scores(
    train: Sequence[Story], test: Sequence[Story]
) -> dict[str, np.ndarray]:
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


def best_perplexity(
    stories: Sequence[Story],
    distances: int | Iterable[int],
    *,
    vocab: StoryVocab = DEFAULT_VOCAB,
    remember_names: bool = True,
) -> float:
    """The perplexity per predicted word of the ideal model, the one that knows the
    generator: the floor no word language model trained on these stories can beat.

    The language model predicts every token after the first plus an end-of-story token, so a
    story counts ``len(story.tokens)`` predicted words; the ideal model pays
    ``-(story.log_prob + log P(distance))`` for the whole story, less the ``log P`` of its
    first word (the giver, one of ``len(vocab.people)``, which is not predicted). ``distances``
    is what the stories were drawn with (as in :func:`generate_stories`). With
    ``remember_names=False`` the ideal model forgets the names at the recall probe and spreads
    its probability evenly over the pet names there. Returns ``exp(total NLL / words)``.
    """
    choices = _check_perplexity_args(stories, distances, vocab, remember_names)
    multiplicity = Counter(choices)
    forgot = 0.0 if remember_names else math.log(len(vocab.pet_names))
    nll = 0.0
    for story in stories:
        log_p_distance = math.log(multiplicity[story.distance] / len(choices))
        nll -= story.log_prob + log_p_distance + math.log(len(vocab.people))
        nll += forgot
    return math.exp(nll / sum(len(story.tokens) for story in stories))


def _check_perplexity_args(
    stories, distances, vocab, remember_names
) -> list[int]:
    """The arguments of :func:`best_perplexity`; returns the allowed distances."""
    _check_stories(stories=stories)
    checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
    choices = _check_distances(distances, vocab)
    checks.boolean("remember_names", remember_names)
    for k, story in enumerate(stories):
        if story.log_prob is None:
            raise ValueError(
                f"stories[{k}].log_prob must be a number (a story from generate_story), got None"
            )
        if story.distance not in choices:
            raise ValueError(
                f"stories[{k}].distance {story.distance} is not among the distances "
                f"{sorted(set(choices))}"
            )
    return choices


def _number_words(vocab: StoryVocab) -> dict[str, bool]:
    """The words that carry a grammatical number, mapped to ``plural``."""
    words = {"It": False, "They": True}
    for animal in vocab.animals:
        words[animal.singular], words[animal.plural] = False, True
    return words


def _naive_bayes(prefixes, labels, test_prefixes) -> list[object]:
    """A naive Bayes classifier on word presence with add-one smoothing: trained on the sets
    of words ``prefixes`` with classes ``labels``, it returns the most probable class of
    each of ``test_prefixes``, or None where two classes tie."""
    words = sorted({w for prefix in prefixes for w in prefix})
    index = {w: k for k, w in enumerate(words)}

    def presence(sets):
        x = np.zeros((len(sets), len(words)))
        for row, prefix in enumerate(sets):
            x[row, [index[w] for w in prefix if w in index]] = 1.0
        return x

    x, y = presence(prefixes), np.array(labels, dtype=object)
    classes = sorted(set(labels), key=str)
    scores = []
    for c in classes:
        rows = x[y == c]
        p = (rows.sum(axis=0) + 1) / (
            len(rows) + 2
        )  # add-one: P(word present | class)
        present, absent = np.log(p), np.log1p(-p)
        prior = np.log(len(rows) / len(x))
        scores.append(
            prior + absent.sum() + presence(test_prefixes) @ (present - absent)
        )
    scores = np.array(scores)  # (classes, N)
    best = scores.max(axis=0)
    tied = (scores == best).sum(axis=0) > 1
    return [
        None if t else classes[k]
        for k, t in zip(scores.argmax(axis=0), tied, strict=True)
    ]


def shortcut_scores(
    train: Sequence[Story],
    test: Sequence[Story],
    *,
    vocab: StoryVocab = DEFAULT_VOCAB,
) -> dict[str, dict[str, np.ndarray | None]]:
    """The probes answered by shortcuts that need no memory of who is who.

    Returns ``{method: {"agreement": bool array (N,) or None, "recall": ... or None}}`` for
    the ``test`` stories, None where the method does not answer that probe. The pet names
    are the candidates of each story's recall probe; ``vocab`` gives the animal nouns.

    - ``"bigram"``: the previous word only, as :func:`bigram_scores`.
    - ``"majority"``: the number, and the name, that are the answer most often in ``train``.
    - ``"first name"``: recall the first pet name of the story ("copy the only name").
    - ``"last name"``: recall the last pet name before the probe.
    - ``"last number word"``: agree with the nearest It, They or animal noun before the verb.
    - ``"bag of words"``: naive Bayes on the set of words before the probe (order ignored),
      trained on ``train`` with add-one smoothing; a tie counts as wrong.
    """
    _check_stories(train=train, test=test)
    checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
    bigram = bigram_scores(train, test)
    plural = np.array([s.plural for s in test])
    name = np.array([s.name for s in test], dtype=object)

    majority_plural = 2 * sum(s.plural for s in train) > len(
        train
    )  # a tie: singular
    majority_name = Counter(s.name for s in train).most_common(1)[0][
        0
    ]  # a tie: seen first

    def names_before(story):
        candidates = {story.recall.correct, *story.recall.wrong}
        return [
            w for w in story.tokens[: story.recall.position] if w in candidates
        ]

    number_of = _number_words(vocab)

    def last_number(story):
        before = story.tokens[: story.agreement.position]
        return next(
            (number_of[w] for w in reversed(before) if w in number_of), None
        )

    def bag(kind, label):
        prefixes = [set(s.tokens[: getattr(s, kind).position]) for s in train]
        tests = [set(s.tokens[: getattr(s, kind).position]) for s in test]
        return _naive_bayes(prefixes, [label(s) for s in train], tests)

    def right(predicted, truth):
        return np.array(
            [
                p is not None and p == t
                for p, t in zip(predicted, truth, strict=True)
            ]
        )

    return {
        "bigram": {
            "agreement": bigram["agreement"],
            "recall": bigram["recall"],
        },
        "majority": {
            "agreement": plural == majority_plural,
            "recall": name == majority_name,
        },
        "first name": {
            "agreement": None,
            "recall": right(
                [(names_before(s) or [None])[0] for s in test], name
            ),
        },
        "last name": {
            "agreement": None,
            "recall": right(
                [(names_before(s) or [None])[-1] for s in test], name
            ),
        },
        "last number word": {
            "agreement": right([last_number(s) for s in test], plural),
            "recall": None,
        },
        "bag of words": {
            "agreement": right(bag("agreement", lambda s: s.plural), plural),
            "recall": right(bag("recall", lambda s: s.name), name),
        },
    }


def accuracy_by_distance(
    scores: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Group probe results (``{"distance", "agreement", "recall"}``, arrays of shape (N,))
    by distance: ``{"distance", "count", "agreement", "recall"}``, one entry per distance,
    sorted; the accuracies are the fractions of stories answered correctly."""
    distance, outcomes = _check_scores(scores)
    values = np.unique(distance)
    out = {
        "distance": values,
        "count": np.array([(distance == d).sum() for d in values]),
    }
    for kind, outcome in outcomes.items():
        out[kind] = np.array([outcome[distance == d].mean() for d in values])
    return out


def _check_scores(scores: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The probe results :func:`accuracy_by_distance` groups: integer distances >= 0 (N,),
    and for "agreement" and "recall" outcomes (N,) that are booleans or 0/1 numbers."""
    checks.mapping("scores", scores)
    missing = [
        key for key in ("distance", "agreement", "recall") if key not in scores
    ]
    if missing:
        raise ValueError(
            f"scores must have the keys 'distance', 'agreement' and 'recall' (as score_probes "
            f"returns), missing {missing}"
        )
    distance = checks.array(
        "scores['distance']", scores["distance"], kind="int", ndim=1
    )
    if distance.min() < 0:
        raise ValueError(
            f"scores['distance'] must hold distances >= 0, got {distance.min()}"
        )
    outcomes = {}
    for kind in ("agreement", "recall"):
        name = f"scores[{kind!r}]"
        outcome = checks.array(name, scores[kind], ndim=1, nonempty=False)
        if outcome.shape != distance.shape:
            raise ValueError(
                f"{name} has shape {outcome.shape}, expected {distance.shape}"
            )
        if outcome.dtype != bool and not (
            np.issubdtype(outcome.dtype, np.number)
            and np.isin(outcome, (0, 1)).all()
        ):
            raise ValueError(
                f"{name} must hold booleans (or 0 and 1), got dtype {outcome.dtype}"
            )
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
    widths = np.array(
        [len(word) + 1.6 for word in story.tokens]
    )  # in characters
    centres = np.cumsum(widths) - widths / 2
    if ax is None:
        _, ax = plt.subplots(figsize=(0.085 * widths.sum() + 0.4, 2.8))
    colour = dict.fromkeys(
        range(story.agreement.antecedent + 1, story.agreement.position), "0.55"
    )
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
            centres[k],
            0,
            word,
            ha="center",
            va="top",
            color=colour.get(k, "black"),
            weight=weight,
        )
    top = 0.0
    for kind, probe, tone in arcs:
        a, b = centres[probe.antecedent], centres[probe.position]
        height = 1.2 + 0.045 * (b - a)
        ax.add_patch(
            Arc(
                ((a + b) / 2, 0.2),
                b - a,
                height,
                theta1=0,
                theta2=180,
                color=tone,
                lw=2,
            )
        )
        arrow = {"arrowstyle": "-|>", "color": tone, "lw": 1.4}
        ax.annotate("", xy=(a, 0.22), xytext=(a + 0.01, 0.6), arrowprops=arrow)
        label = f"{kind}: gap {probe.gap}"
        ax.text(
            (a + b) / 2,
            0.28 + height / 2,
            label,
            ha="center",
            va="bottom",
            color=tone,
        )
        top = max(top, 0.2 + height / 2 + 0.6)
    ax.set_xlim(0, widths.sum())
    ax.set_ylim(-0.7, top)
    ax.axis("off")
    return ax
