"""The running example of the book: "John gave Mary a puppy." and how it goes on.

The story is data, not code: the sentences, a tokenizer, and the dependencies a language
model must track to continue it. Later chapters generate many stories of this shape.

Checks: :func:`tokenize`, :func:`story_dependencies` and :class:`Dependency` check their
arguments with :mod:`lstm_tutorial.checks` before any work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lstm_tutorial import checks

PROMPT = "John gave Mary a puppy."
CONTINUATION = "It barks very loudly. They named it Luna."
STORY = f"{PROMPT} {CONTINUATION}"

_TOKEN = re.compile(r"[A-Za-z]+|[.,!?;:]")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words and punctuation marks.

    ``"a puppy."`` -> ``["a", "puppy", "."]``. Raises ValueError for an empty
    text or characters the book's vocabulary has no token for (digits,
    quotes, ...), rather than silently dropping them.
    """
    checks.string("text", text, empty=True)
    if not text.strip():
        raise ValueError(
            "text must contain at least one word, got an empty string"
        )
    leftover = _TOKEN.sub(" ", text).strip()
    if leftover:
        raise ValueError(
            "text may contain only letters, spaces and . , ! ? ; : — "
            f"found {leftover[:20]!r}"
        )
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Dependency:
    """Token ``dependent`` can only be predicted by remembering token ``antecedent``."""

    dependent: int
    antecedent: int
    reason: str

    def __post_init__(self) -> None:
        checks.count("Dependency.dependent", self.dependent)
        checks.count("Dependency.antecedent", self.antecedent)
        checks.string("Dependency.reason", self.reason, empty=True)
        if self.antecedent >= self.dependent:
            raise ValueError(
                f"Dependency.antecedent must come before Dependency.dependent, got "
                f"{self.antecedent} and {self.dependent}"
            )

    @property
    def distance(self) -> int:
        """How many tokens the fact must be carried: ``dependent - antecedent``."""
        return self.dependent - self.antecedent


def story_dependencies(tokens: list[str] | None = None) -> list[Dependency]:
    """The dependencies of :data:`STORY`, as token indices into ``tokenize(STORY)``.

    Each is checked against the tokens, so an edit to the story that moves a word cannot
    leave a dependency pointing at the wrong one.
    """
    if tokens is None:
        tokens = tokenize(STORY)
    for k, token in enumerate(checks.sequence("tokens", tokens)):
        checks.string(f"tokens[{k}]", token)
    spec = [
        # (dependent word, its occurrence, antecedent word, its occurrence, why)
        ("barks", 0, "It", 0, "agreement: singular subject, singular verb"),
        ("It", 0, "puppy", 0, "pronoun refers to the puppy"),
        ("They", 0, "John", 0, "plural pronoun refers to John and Mary"),
        ("They", 0, "Mary", 0, "plural pronoun refers to John and Mary"),
        ("named", 0, "They", 0, "subject of the verb (past: no agreement)"),
        ("it", 0, "puppy", 0, "what was named is the puppy"),
        ("Luna", 0, "puppy", 0, "the name belongs to the puppy"),
    ]

    def index(word: str, occurrence: int) -> int:
        positions = [k for k, tok in enumerate(tokens) if tok == word]
        if len(positions) <= occurrence:
            raise ValueError(
                f"tokens has no occurrence {occurrence} of {word!r}: {tokens}"
            )
        return positions[occurrence]

    return [
        Dependency(index(d, dn), index(a, an), why)
        for d, dn, a, an, why in spec
    ]
