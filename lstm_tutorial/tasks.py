"""The classic long-time-lag tasks of the LSTM literature, as data generators and scorers.

Three tasks, each small enough to train on a laptop and each impossible without a memory:

- :func:`adding_problem`, experiment 4 of Hochreiter & Schmidhuber (1997): read a long
  sequence of numbers, two of which are marked, and output (a scaled) sum of the two marked
  ones at the end. Implemented as in the paper, with sequences of random length T to
  T + T//10 and both marks in the first half.
- :func:`embedded_reber`, experiment 1 of the same paper: strings of the embedded Reber
  grammar, with the set of legal next symbols after every prefix, for scoring next-symbol
  prediction. :func:`is_embedded_reber` validates a string.
- :func:`copy_memory`, the copy-memory task of Arjovsky, Shah & Bengio (2016): remember a
  short sequence of symbols across T blank steps and reproduce it after a delimiter.

Every generator draws all its randomness from the ``numpy.random.Generator`` it is given, so
the same generator state gives the same data. Arrays are NumPy: float32 for real values,
int64 for indices and lengths, bool for masks.

Checks: every public function checks its arguments with :mod:`lstm_tutorial.checks` before
any work: the generators their counts, lengths and ``rng`` (a ``numpy.random.Generator``,
not a seed), the scorers their arrays (NumPy arrays, not lists; dtype, shape, and shapes
that match each other) and the Reber functions their strings; ``is_embedded_reber`` is a
predicate, False for anything that is not such a string, never an error. The generators the
chapter shows (``adding_problem``, ``embedded_reber``) check in one line that calls a private
helper. The NamedTuples are return values, not checked.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import numpy as np

from lstm_tutorial import checks

# ------------------------------------------------------------------------------ checks


def _check_adding(n: object, T: object, rng: object) -> None:
    checks.positive_int("n", n)
    checks.integer("T", T, minimum=4)
    checks.rng("rng", rng)


def _check_reber(n: object, rng: object) -> None:
    checks.positive_int("n", n)
    checks.rng("rng", rng)


# ------------------------------------------------------------------------ adding problem

#: A sequence of the adding problem counts as processed correctly below this absolute error.
ADDING_TOLERANCE = 0.04


class AddingBatch(NamedTuple):
    """Sequences of the adding problem.

    - ``x``: float32 (n, L, 2) with L = T + T // 10, the longest possible sequence. Column 0
      holds the values, column 1 the markers (1.0 marked, -1.0 first and last step, else 0).
      Steps after a sequence's end are zero (padding).
    - ``lengths``: int64 (n,), each in T..T + T // 10; a model reads its answer at step
      ``lengths - 1``.
    - ``target``: float32 (n,), 0.5 + (X1 + X2) / 4, in [0, 1].
    """

    x: np.ndarray
    lengths: np.ndarray
    target: np.ndarray


def adding_problem(n: int, T: int, rng: np.random.Generator) -> AddingBatch:
    """Draw ``n`` sequences of the adding problem (Hochreiter & Schmidhuber 1997, exp. 4).

    As in the paper: each step is a pair (value, marker); values are uniform in [-1, 1]; the
    length is an integer drawn uniformly from T..T + T // 10; one of the first ten steps is
    marked (its value is X1), then one of the other steps of the first half T // 2 is marked
    (X2); the first and the last step carry the marker -1 unless marked; a marked first step
    has its value set to 0. The target, read at the end, is 0.5 + (X1 + X2) / 4.
    For T < 20 the first mark is drawn from the first min(10, T // 2) steps, so that both
    marks stay in the first half. Requires T >= 4. See :class:`AddingBatch` for the arrays.
    """
    _check_adding(n, T, rng)
    L = T + T // 10
    half = T // 2
    lengths = rng.integers(T, L + 1, size=n)  # (n,), both ends included
    values = rng.uniform(-1.0, 1.0, size=(n, L))  # (n, L)
    first = rng.integers(0, min(10, half), size=n)  # (n,): X1's step
    # X2: one of the other half - 1 steps of the first half, drawn uniformly.
    second = rng.integers(0, half - 1, size=n)
    second = second + (second >= first)  # skip X1's step
    rows = np.arange(n)
    markers = np.zeros((n, L))
    markers[:, 0] = -1.0
    markers[rows, lengths - 1] = -1.0
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    values[(markers[:, 0] == 1.0), 0] = 0.0  # a marked first step counts as 0
    values[np.arange(L)[None, :] >= lengths[:, None]] = (
        0.0  # padding after the end
    )
    target = 0.5 + (values[rows, first] + values[rows, second]) / 4.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)  # (n, L, 2)
    return AddingBatch(x, lengths.astype(np.int64), target.astype(np.float32))


def adding_correct(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Which sequences are processed correctly: |prediction - target| < 0.04, bool (n,)."""
    checks.array("prediction", prediction, kind="float", ndim=1)
    checks.array("target", target, kind="float", ndim=1, finite=True)
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction and target must both have shape (n,), got {prediction.shape} "
            f"and {target.shape}"
        )
    return np.abs(prediction - target) < ADDING_TOLERANCE


# ------------------------------------------------------------------ embedded Reber grammar

#: The seven symbols of the Reber grammar, in the order of the one-hot code.
REBER_SYMBOLS = "BTPSXVE"
#: The Reber grammar as a finite automaton: state -> {symbol: next state}; -1 is the end.
#: State 0 follows the initial B; every string ends with E.
REBER_GRAPH: dict[int, dict[str, int]] = {
    0: {"T": 1, "P": 2},
    1: {"S": 1, "X": 3},
    2: {"T": 2, "V": 4},
    3: {"X": 2, "S": 5},
    4: {"P": 3, "V": 5},
    5: {"E": -1},
}


def reber_string(rng: np.random.Generator) -> str:
    """One string of the (plain) Reber grammar: B, then a walk through :data:`REBER_GRAPH`
    choosing each of the two edges of a state with probability 1/2, ending with E."""
    checks.rng("rng", rng)
    symbols, state = ["B"], 0
    while state != -1:
        edges = list(REBER_GRAPH[state].items())
        symbol, state = edges[rng.integers(len(edges))]
        symbols.append(symbol)
    return "".join(symbols)


class ReberStrings(NamedTuple):
    """Strings of the embedded Reber grammar and, for scoring, what may follow each prefix.

    - ``strings``: list of n str, each over :data:`REBER_SYMBOLS`, beginning with B and
      ending with E.
    - ``legal_next``: list of n lists; ``legal_next[k][t]`` is the frozenset of symbols that
      may follow ``strings[k][: t + 1]``, for t = 0 .. len(strings[k]) - 2.
    """

    strings: list[str]
    legal_next: list[list[frozenset[str]]]


def embedded_reber(
    n: int, rng: np.random.Generator, exclude: Collection[str] = ()
) -> ReberStrings:
    """Draw ``n`` strings of the embedded Reber grammar (Hochreiter & Schmidhuber 1997, exp. 1).

    A string is B, then T or P (probability 1/2 each), then a Reber string, then the same T
    or P again, then E: for example BTBPVVETE. Predicting the second-to-last symbol needs the
    second symbol, remembered across the whole inner string. See :class:`ReberStrings`.

    ``exclude`` (a collection of strings, e.g. a training set) makes a test set disjoint
    from it: a drawn string that is in ``exclude`` is drawn again, so the strings come from
    the grammar's distribution restricted to the strings not excluded.
    """
    _check_reber(n, rng)
    exclude = _check_exclude(exclude)
    strings: list[str] = []
    while len(strings) < n:
        branch = "TP"[rng.integers(2)]
        string = f"B{branch}{reber_string(rng)}{branch}E"
        if string not in exclude:
            strings.append(string)
    return ReberStrings(strings, [reber_legal_next(s) for s in strings])


def _check_exclude(exclude: object) -> frozenset[str]:
    """A collection of embedded Reber strings (not one string, which would be read as its
    letters)."""
    if isinstance(exclude, str | bytes) or not isinstance(exclude, Collection):
        raise checks.ArgumentTypeError(
            f"exclude must be a collection of strings, got {checks.describe(exclude)}"
        )
    for k, string in enumerate(exclude):
        checks.string(f"exclude[{k}]", string)
    return frozenset(exclude)


def _reber_walk(string: str) -> list[frozenset[str]] | str:
    """Legal next symbols after each prefix of an embedded Reber string, or why it is not one."""
    if not isinstance(string, str):
        return f"expected a str, got {type(string).__name__}"
    legal: list[frozenset[str]] = []
    tp = frozenset("TP")
    if len(string) < 2 or string[0] != "B":
        return "an embedded Reber string starts with B"
    legal.append(tp)  # after "B"
    branch = string[1]
    if branch not in tp:
        return f"the second symbol must be T or P, got {branch!r}"
    legal.append(frozenset("B"))  # after "BT" or "BP"
    if len(string) < 3 or string[2] != "B":
        return "the inner Reber string must start with B (third symbol)"
    state, k = 0, 3
    legal.append(frozenset(REBER_GRAPH[0]))  # after the inner B
    while state != -1:
        if k >= len(string):
            return "the string ends inside the inner Reber string"
        symbol = string[k]
        if symbol not in REBER_GRAPH[state]:
            return f"{symbol!r} at position {k} cannot follow state {state} of the grammar"
        state = REBER_GRAPH[state][symbol]
        k += 1
        legal.append(
            frozenset(REBER_GRAPH[state]) if state != -1 else frozenset(branch)
        )
    if string[k:] != f"{branch}E":
        return f"the string must end with {branch}E after the inner string, got {string[k:]!r}"
    legal.append(frozenset("E"))  # after the repeated branch symbol
    return legal


def reber_legal_next(string: str) -> list[frozenset[str]]:
    """The legal next symbols after each prefix ``string[: t + 1]``, t = 0 .. len - 2.

    Raises ValueError if ``string`` is not an embedded Reber string.
    """
    return _legal_next("string", string)


def _legal_next(name: str, string: object) -> list[frozenset[str]]:
    checks.string(name, string, empty=True)
    legal = _reber_walk(string)
    if isinstance(legal, str):
        raise ValueError(
            f"{name} {string!r} is not an embedded Reber string: {legal}"
        )
    return legal


def is_embedded_reber(string: str) -> bool:
    """True if ``string`` is a complete string of the embedded Reber grammar; False for
    anything else, a value that is not a str included (a predicate, it does not raise)."""
    return not isinstance(_reber_walk(string), str)


class ReberBatch(NamedTuple):
    """Embedded Reber strings encoded for a network, padded to the longest string.

    With L = (longest string's length) - 1 input steps and S = 7 symbols:

    - ``x``: float32 (n, L, S), one-hot code of symbol t of each string (zeros after its end);
    - ``target``: int64 (n, L), index of symbol t + 1, the one to predict (-100 after the end);
    - ``legal``: bool (n, L, S), True for the symbols that may legally follow the prefix;
    - ``lengths``: int64 (n,), the number of predictions in each string (its length - 1).
    """

    x: np.ndarray
    target: np.ndarray
    legal: np.ndarray
    lengths: np.ndarray


def encode_reber(strings: ReberStrings | list[str]) -> ReberBatch:
    """Encode embedded Reber strings (validated) as arrays; see :class:`ReberBatch`."""
    if isinstance(strings, ReberStrings):
        strings = strings.strings
    checks.sequence("strings", strings)
    legal_lists = [
        _legal_next(f"strings[{k}]", s) for k, s in enumerate(strings)
    ]
    n, S = len(strings), len(REBER_SYMBOLS)
    L = max(len(s) for s in strings) - 1
    code = {symbol: k for k, symbol in enumerate(REBER_SYMBOLS)}
    x = np.zeros((n, L, S), dtype=np.float32)
    target = np.full((n, L), -100, dtype=np.int64)
    legal = np.zeros((n, L, S), dtype=bool)
    for k, (string, legal_next) in enumerate(
        zip(strings, legal_lists, strict=True)
    ):
        for t in range(len(string) - 1):
            x[k, t, code[string[t]]] = 1.0
            target[k, t] = code[string[t + 1]]
            legal[k, t, [code[s] for s in legal_next[t]]] = True
    lengths = np.array([len(s) - 1 for s in strings], dtype=np.int64)
    return ReberBatch(x, target, legal, lengths)


def reber_correct(
    scores: np.ndarray, legal: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Which strings a network predicts completely, bool (n,).

    The criterion of Hochreiter & Schmidhuber (1997): at every step the outputs of the legal
    next symbols must be the most active ones, i.e. the smallest score among the legal
    symbols exceeds the largest among the others. ``scores``: (n, L, S) outputs (logits or
    probabilities); ``legal``: bool (n, L, S); ``lengths``: int64 (n,), steps to check.
    """
    checks.array("scores", scores, kind="float", ndim=3)
    checks.array("legal", legal, dtype=bool, ndim=3)
    if scores.shape != legal.shape:
        raise ValueError(
            f"scores and legal must both have shape (n, L, S), got {scores.shape} and {legal.shape}"
        )
    n, L, _ = scores.shape
    checks.array("lengths", lengths, kind="int", shape=(n,))
    if lengths.min() < 1 or lengths.max() > L:
        raise ValueError(
            f"lengths must hold steps to check in 1..{L} (the scores' L), "
            f"got {lengths.min()}..{lengths.max()}"
        )
    lowest_legal = np.where(legal, scores, np.inf).min(axis=-1)  # (n, L)
    highest_other = np.where(legal, -np.inf, scores).max(axis=-1)  # (n, L)
    step_ok = lowest_legal > highest_other  # (n, L)
    valid = np.arange(scores.shape[1])[None, :] < lengths[:, None]  # (n, L)
    return np.all(step_ok | ~valid, axis=1)


# ---------------------------------------------------------------------------- copy memory


class CopyBatch(NamedTuple):
    """Sequences of the copy-memory task, with N = T + 2 * length steps each.

    Tokens: 0 is blank, 1..n_symbols are the symbols to copy, n_symbols + 1 is the delimiter.

    - ``x``: int64 (n, N): ``length`` symbols, T - 1 blanks, the delimiter, ``length`` blanks;
    - ``y``: int64 (n, N): blanks for the first T + length steps, then the ``length`` symbols.
    """

    x: np.ndarray
    y: np.ndarray


def copy_memory(
    n: int,
    T: int,
    rng: np.random.Generator,
    *,
    n_symbols: int = 8,
    length: int = 10,
) -> CopyBatch:
    """Draw ``n`` sequences of the copy-memory task (Arjovsky, Shah & Bengio 2016).

    The network reads ``length`` symbols drawn uniformly from 1..n_symbols, then waits T - 1
    blank steps, then sees the delimiter, and must output the symbols, in order, during the
    last ``length`` steps. Each symbol is carried T + length steps. The paper's setting is
    n_symbols=8, length=10. Requires T >= 1. See :class:`CopyBatch`.
    """
    checks.positive_int("n", n)
    checks.positive_int("T", T)
    checks.rng("rng", rng)
    checks.positive_int("n_symbols", n_symbols)
    checks.positive_int("length", length)
    N = T + 2 * length
    symbols = rng.integers(1, n_symbols + 1, size=(n, length))  # (n, length)
    x = np.zeros((n, N), dtype=np.int64)
    y = np.zeros((n, N), dtype=np.int64)
    x[:, :length] = symbols
    x[:, T + length - 1] = n_symbols + 1  # the delimiter
    y[:, T + length :] = symbols
    return CopyBatch(x, y)


def copy_correct(
    predicted: np.ndarray, y: np.ndarray, length: int
) -> np.ndarray:
    """Which sequences are copied without a mistake: all of the last ``length`` predicted
    tokens equal the targets. ``predicted``, ``y``: int (n, N). Returns bool (n,)."""
    checks.array("predicted", predicted, kind="int", ndim=2)
    checks.array("y", y, kind="int", ndim=2)
    if predicted.shape != y.shape:
        raise ValueError(
            f"predicted and y must both have shape (n, N), got {predicted.shape} and {y.shape}"
        )
    checks.integer("length", length, minimum=1, maximum=y.shape[1])
    return np.all(predicted[:, -length:] == y[:, -length:], axis=1)
