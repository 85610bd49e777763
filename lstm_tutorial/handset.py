"""A tiny LSTM whose weights are set by hand, not trained, to remember facts of the story.

It reads "John gave Mary a puppy. It barks very loudly. They named it Luna." one word at a
time (a one-hot vector over a small vocabulary) and keeps three facts in its cell state,
one unit each:

- ``number``: the grammatical number of the current subject, +1 singular, -1 plural.
  Written at a subject (*John*, *It*, *They*), kept unchanged over every other word, shown
  through the output gate from the subject until its verb has been read. A verb in the
  present tense agrees with it (*It barks*, *They bark*); one in the past tense has the
  same form after every subject (*John gave*, *They named*). The cell cannot know the
  tense of a verb before it reads it, so it shows the number after every subject, but in
  this story only *barks* depends on it: the one number agreement of the story.
- ``verb due``: 1 from a subject until its verb has been read, 0 otherwise. Its hidden value
  reaches the number unit's output gate through the recurrent weights ``U_o``: the memory
  decides when the memory is shown.
- ``puppy``: 1 once *puppy* has been read, kept to the end of the story and shown where the
  next word is about the puppy: after *named* comes *it* (the puppy), after *it* comes
  *Luna* (its name). The unit stores only that a puppy was mentioned, not which name it
  will get.

Who *They* are (*John and Mary*) is not stored: no unit tracks what a pronoun refers to.

The weights are a PyTorch-compatible state dict (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, gates stacked in the order i, f, g, o), run by
:class:`lstm_tutorial.numpy_lstm.LSTM`; ``torch.nn.LSTM`` loaded with the same dict gives the
same numbers. Every weight is a multiple of two constants, :data:`OPEN` and :data:`WRITE`.

Checks. Every public function, :class:`GateTrace` and its methods check their arguments
before any work (with :mod:`lstm_tutorial.checks`; the error names the argument): tokens are
a non-empty list or tuple of words of the vocabulary, a vocabulary a list of distinct
words, ``forget_bias`` a finite number, a state dict the four arrays of
``handset_state_dict`` with its shapes (checked by ``LSTM.load_state_dict``), positions
integers inside the trace. ``handset_weights`` and ``trace_gates``, which the book shows,
check in their first line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.numpy_lstm import (
    GATE_ORDER,
    LSTM,
    candidate,
    gate,
    new_cell_state,
    new_hidden_state,
)
from lstm_tutorial.story import STORY, tokenize

#: The cell's units, in the order of the rows of every gate: H = 3.
UNITS = ("number", "verb due", "puppy")
#: Words and marks that are not in the story, used to pad a sentence with unrelated words.
FILLER = (",", "small", "and", "loud")
#: The subjects of the story and their grammatical number: +1 singular, -1 plural.
SUBJECT_NUMBER = {"John": 1.0, "It": 1.0, "They": -1.0}
#: The verb that follows each subject: reading it closes the "verb due" flag. Only
#: *barks* (present tense) agrees with its subject's number; *gave* and *named* (past
#: tense) have one form for every subject.
VERBS = ("gave", "barks", "named")
#: The verbs of :data:`VERBS` whose form depends on the subject's number.
AGREEING_VERBS = ("barks",)
#: The word whose fact the ``puppy`` unit stores, and the words after which the next word
#: is about the puppy (*it*, then its name).
PUPPY = "puppy"
PUPPY_NEEDED_AFTER = ("named", "it")
#: A gate pre-activation this large makes the gate fully open: sigmoid(8) = 0.99966,
#: and its negative closes it: sigmoid(-8) = 0.00034.
OPEN = 8.0
#: A candidate pre-activation this large writes a full +-1: tanh(4) = 0.99933.
WRITE = 4.0

#: A PyTorch-style state dict: parameter name -> array.
StateDict = dict[str, np.ndarray]
#: Weights gate by gate: {"W": {gate: W}, "U": {gate: U}, "b": {gate: b}}.
Weights = dict[str, dict[str, np.ndarray]]

#: A filler sentence: the subject *It* and its verb *barks* with six unrelated tokens between.
FILLER_SENTENCE = "It , small and very loud , barks ."


def vocabulary() -> list[str]:
    """The model's vocabulary: the story's tokens in order of first use, then :data:`FILLER`."""
    words: list[str] = []
    for token in [*tokenize(STORY), *FILLER]:
        if token not in words:
            words.append(token)
    return words


def one_hot(
    tokens: Sequence[str], vocab: Sequence[str] | None = None
) -> np.ndarray:
    """Encode ``tokens`` as one-hot rows: float32 array of shape (T, V), V = ``len(vocab)``.

    Raises ValueError naming the first word that is not in the vocabulary, and the vocabulary.
    """
    where = "the hand-set model's vocabulary" if vocab is None else "vocab"
    vocab = vocabulary() if vocab is None else _check_vocab(vocab)
    _check_words("tokens", tokens)
    x = np.zeros((len(tokens), len(vocab)), dtype=np.float32)  # (T, V)
    for t, word in enumerate(tokens):
        if word not in vocab:
            raise ValueError(
                f"tokens[{t}] = {word!r} is not in {where} {vocab}"
            )
        x[t, vocab.index(word)] = 1.0
    return x


def row(gate_name: str, unit: str) -> int:
    """Row of ``weight_ih_l0`` / ``weight_hh_l0`` / the biases that holds (gate, unit)."""
    checks.choice(
        "gate_name", checks.string("gate_name", gate_name), GATE_ORDER
    )
    checks.choice("unit", checks.string("unit", unit), UNITS)
    return GATE_ORDER.index(gate_name) * len(UNITS) + UNITS.index(unit)


def handset_weights(*, forget_bias: float = OPEN) -> Weights:
    """The hand-set weights gate by gate: {"W": W, "U": U, "b": b}.

    Each is a dict over the gates "i", "f", "g", "o" of float32 arrays:
    W[gate] (H, V), U[gate] (H, H), b[gate] (H,), with H = 3 units (UNITS)
    and V = len(vocabulary()). forget_bias is the forget gate's
    pre-activation at a word that does not close it (default OPEN).
    """
    checks.number("forget_bias", forget_bias)
    checks.fits_dtype("forget_bias", forget_bias, np.float32)
    col = vocabulary().index  # word -> its column in W
    H, V = len(UNITS), len(vocabulary())
    W = {k: np.zeros((H, V), np.float32) for k in GATE_ORDER}
    U = {k: np.zeros((H, H), np.float32) for k in GATE_ORDER}
    b = {k: np.zeros(H, np.float32) for k in GATE_ORDER}
    num, due, pup = 0, 1, 2  # the rows of the units number, verb due, puppy

    # At rest: keep everything, write nothing, show nothing.
    b["f"][:], b["i"][:], b["o"][:] = forget_bias, -OPEN, -OPEN
    # A subject overwrites number and flag (2 * OPEN flips a gate) and
    # shows the number: a present-tense verb may come next (It barks).
    for word, number in SUBJECT_NUMBER.items():
        W["f"][[num, due], col(word)] = -2 * OPEN  # forget the old values
        W["i"][[num, due], col(word)] = 2 * OPEN  # write the candidates
        W["g"][[num, due], col(word)] = WRITE * number, WRITE
        W["o"][num, col(word)] = 2 * OPEN  # the verb is next: show
    # A verb clears the flag (writes g = 0) and hides the number.
    for word in VERBS:
        W["f"][due, col(word)] = -2 * OPEN
        W["i"][due, col(word)] = 2 * OPEN
        W["o"][num, col(word)] = -4 * OPEN
    # The flag is always shown, h = tanh(1) = 0.76, and while it is set
    # it holds the number's output gate open: 0.76 * 3 * OPEN > 2 * OPEN.
    b["o"][due] = OPEN
    U["o"][num, due] = 3 * OPEN
    # The puppy: written once, shown where the next word is about it.
    W["i"][pup, col(PUPPY)] = 2 * OPEN
    W["g"][pup, col(PUPPY)] = WRITE
    for word in PUPPY_NEEDED_AFTER:
        W["o"][pup, col(word)] = 2 * OPEN
    return {"W": W, "U": U, "b": b}


def handset_state_dict(*, forget_bias: float = OPEN) -> StateDict:
    """The hand-set weights as a ``torch.nn.LSTM(V, 3)`` state dict of float32 arrays.

    Shapes: ``weight_ih_l0`` (4H, V), ``weight_hh_l0`` (4H, H), ``bias_ih_l0`` and
    ``bias_hh_l0`` (4H,); rows in gate order i, f, g, o. All biases are in ``bias_ih_l0``
    and ``bias_hh_l0`` is zero. ``forget_bias`` as in :func:`handset_weights`.
    """
    w = handset_weights(forget_bias=forget_bias)

    def stack(per_gate: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([per_gate[k] for k in GATE_ORDER])

    return {
        "weight_ih_l0": stack(w["W"]),  # [W_i; W_f; W_g; W_o], (4H, V)
        "weight_hh_l0": stack(w["U"]),  # [U_i; U_f; U_g; U_o], (4H, H)
        "bias_ih_l0": stack(w["b"]),  # (4H,)
        "bias_hh_l0": np.zeros(4 * len(UNITS), np.float32),
    }


def handset_lstm(state_dict: StateDict | None = None) -> LSTM:
    """A :class:`~lstm_tutorial.numpy_lstm.LSTM` (V inputs, 3 units) loaded with the weights:
    ``state_dict`` (keys and shapes of :func:`handset_state_dict`; NumPy arrays or tensors),
    or the hand-set ones if None."""
    checks.optional(checks.mapping, "state_dict", state_dict)
    model = LSTM(len(vocabulary()), len(UNITS), seed=0)
    model.load_state_dict(
        handset_state_dict() if state_dict is None else state_dict
    )
    return model


@dataclass(frozen=True)
class GateTrace:
    """Every value of the cell at every word: arrays of shape (T, H), except ``x`` (T, V).

    ``c_prev[t]`` and ``h_prev[t]`` are the states the cell read at word ``t`` (zeros at the
    first word); ``c[t]`` and ``h[t]`` the states it wrote.
    """

    tokens: list[str]
    x: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray
    c_prev: np.ndarray
    h_prev: np.ndarray

    def __post_init__(self) -> None:
        _check_words("tokens", self.tokens)
        T = len(self.tokens)
        H = None
        for name in ("x", "i", "f", "g", "o", "c", "h", "c_prev", "h_prev"):
            value = checks.array(
                name, getattr(self, name), kind="float", ndim=2
            )
            if value.shape[0] != T or (
                name != "x" and H is not None and value.shape[1] != H
            ):
                raise ValueError(
                    f"{name} must have shape (T, H) (x: (T, V)) with T = {T} tokens and one H, "
                    f"got {value.shape}"
                )
            H = value.shape[1] if name != "x" and H is None else H

    def step(self, t: int) -> dict[str, np.ndarray]:
        """The values at word ``t`` (negative: from the end) as a dict: x, h_prev, c_prev, i,
        f, g, o, c, h."""
        checks.integer("t", t)
        if not -len(self.tokens) <= t < len(self.tokens):
            raise ValueError(
                f"t must index one of the {len(self.tokens)} words, got {t}"
            )
        names = ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h")
        return {name: getattr(self, name)[t] for name in names}

    def index(self, word: str, occurrence: int = 0) -> int:
        """Position of the ``occurrence``-th ``word`` among the tokens (0: the first)."""
        checks.string("word", word)
        checks.count("occurrence", occurrence)
        positions = [t for t, token in enumerate(self.tokens) if token == word]
        if len(positions) <= occurrence:
            raise ValueError(
                f"no occurrence {occurrence} of word {word!r} in {self.tokens} "
                "(occurrence counts from 0)"
            )
        return positions[occurrence]


def trace_gates(
    tokens: Sequence[str],
    state_dict: StateDict | None = None,
) -> GateTrace:
    """Run the hand-set cell over tokens one word at a time, keeping every
    gate's value.

    The loop calls the teaching functions of numpy_lstm one equation at a
    time; its h equals the output of handset_lstm() on the same words.
    state_dict: weights of handset_state_dict()'s shapes, or None for those.
    """
    sd = _checked_state_dict(tokens, state_dict)
    x = one_hot(tokens)  # (T, V)
    W_i, W_f, W_g, W_o = np.split(sd["weight_ih_l0"], 4)  # each (H, V)
    U_i, U_f, U_g, U_o = np.split(sd["weight_hh_l0"], 4)  # each (H, H)
    b = sd["bias_ih_l0"] + sd["bias_hh_l0"]
    b_i, b_f, b_g, b_o = np.split(b, 4)  # each (H,)
    h = np.zeros(W_i.shape[0], dtype=np.float32)  # h_0
    c = np.zeros(W_i.shape[0], dtype=np.float32)  # c_0
    names = ("c_prev", "h_prev", "i", "f", "g", "o", "c", "h")
    kept = {name: [] for name in names}
    for x_t in x:
        kept["c_prev"].append(c)
        kept["h_prev"].append(h)
        i = gate(x_t, h, W_i, U_i, b_i)
        f = gate(x_t, h, W_f, U_f, b_f)
        g = candidate(x_t, h, W_g, U_g, b_g)
        o = gate(x_t, h, W_o, U_o, b_o)
        c = new_cell_state(c, f, i, g)
        h = new_hidden_state(o, c)
        for name, value in zip("ifgoch", (i, f, g, o, c, h), strict=True):
            kept[name].append(value)
    arrays = {name: np.stack(v) for name, v in kept.items()}  # each (T, H)
    return GateTrace(tokens=list(tokens), x=x, **arrays)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _check_vocab(vocab: Any) -> list[str]:
    """A vocabulary: a non-empty list or tuple of distinct non-empty words."""
    checks.sequence("vocab", vocab)
    for k, word in enumerate(vocab):
        checks.string(f"vocab[{k}]", word)
    repeated = sorted(word for word, n in Counter(vocab).items() if n > 1)
    if repeated:
        raise ValueError(
            f"vocab must hold each word once, but it repeats {repeated}"
        )
    return list(vocab)


def _check_words(name: str, tokens: Any) -> None:
    """A non-empty list or tuple of words (strings)."""
    if isinstance(tokens, str):
        raise checks.ArgumentTypeError(
            f"{name} must be a non-empty list or tuple of words (story.tokenize(text) splits a "
            f"text), got the string {tokens[:40]!r}"
        )
    checks.sequence(name, tokens)
    for t, word in enumerate(tokens):
        checks.string(f"{name}[{t}]", word)


def _checked_state_dict(tokens: Any, state_dict: Any) -> dict[str, np.ndarray]:
    """The hand-set state dict, or ``state_dict`` checked by loading it into the model (keys,
    shapes, finite floats), as float32 NumPy arrays. ``tokens`` are checked first."""
    _check_words("tokens", tokens)
    if state_dict is None:
        return handset_state_dict()
    return handset_lstm(state_dict).state_dict()
