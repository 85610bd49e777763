"""A tiny LSTM whose weights are set by hand, not trained, to remember facts of the story.

It reads "John gave Mary a puppy. It barks very loudly. They named it Luna." one word at a
time (a one-hot vector over a small vocabulary) and keeps three facts in its cell state,
one unit each:

- ``number``: the grammatical number of the current subject, +1 singular, -1 plural.
  Written at a subject (*John*, *It*, *They*), kept unchanged over every other word, shown
  through the output gate while its verb is due.
- ``verb due``: 1 from a subject until its verb has been read, 0 otherwise. Its hidden value
  reaches the number unit's output gate through the recurrent weights ``U_o``: the memory
  decides when the memory is shown.
- ``puppy``: 1 once *puppy* has been read, kept to the end of the story and shown where the
  next word needs it (after *named* comes *it*, after *it* comes *Luna*).

The weights are a PyTorch-compatible state dict (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, gates stacked in the order i, f, g, o), run by
:class:`lstm_tutorial.numpy_lstm.LSTM`; ``torch.nn.LSTM`` loaded with the same dict gives the
same numbers. Every weight is a multiple of two constants, :data:`OPEN` and :data:`WRITE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
#: The verb that follows each subject: reading it closes the "verb due" flag.
VERBS = ("gave", "barks", "named")
#: The word whose fact the ``puppy`` unit stores, and the words after which it is needed.
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


def one_hot(tokens: Sequence[str], vocab: Sequence[str] | None = None) -> np.ndarray:
    """Encode ``tokens`` as one-hot rows: float32 array of shape (T, V), V = ``len(vocab)``.

    Raises ValueError naming the first word that is not in the vocabulary, and the vocabulary.
    """
    vocab = list(vocabulary() if vocab is None else vocab)
    if isinstance(tokens, str) or len(tokens) == 0:
        raise ValueError(f"tokens must be a non-empty list of words, got {tokens!r}")
    x = np.zeros((len(tokens), len(vocab)), dtype=np.float32)  # (T, V)
    for t, word in enumerate(tokens):
        if word not in vocab:
            raise ValueError(f"word {word!r} is not in the hand-set model's vocabulary {vocab}")
        x[t, vocab.index(word)] = 1.0
    return x


def row(gate_name: str, unit: str) -> int:
    """Row of ``weight_ih_l0`` / ``weight_hh_l0`` / the biases that holds (gate, unit)."""
    if gate_name not in GATE_ORDER:
        raise ValueError(f"gate_name must be one of {GATE_ORDER}, got {gate_name!r}")
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    return GATE_ORDER.index(gate_name) * len(UNITS) + UNITS.index(unit)


def handset_weights(*, forget_bias: float = OPEN) -> Weights:
    """The hand-set weights gate by gate: ``{"W": W, "U": U, "b": b}``, each a dict over the
    gates "i", "f", "g", "o" of float32 arrays W[gate] (H, V), U[gate] (H, H), b[gate] (H,).

    H = 3 units (:data:`UNITS`), V = ``len(vocabulary())``. ``forget_bias`` is the forget
    gate's pre-activation at a word that does not close it (default :data:`OPEN`).
    """
    col = vocabulary().index  # word -> its column in W
    H, V = len(UNITS), len(vocabulary())
    W = {k: np.zeros((H, V), np.float32) for k in GATE_ORDER}
    U = {k: np.zeros((H, H), np.float32) for k in GATE_ORDER}
    b = {k: np.zeros(H, np.float32) for k in GATE_ORDER}
    num, due, pup = 0, 1, 2  # the rows of the units number, verb due, puppy

    # At rest: keep everything, write nothing, show nothing.
    b["f"][:], b["i"][:], b["o"][:] = forget_bias, -OPEN, -OPEN
    # A subject overwrites number and flag (2 * OPEN flips a gate).
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
    # The puppy: written once, shown where the next word needs it.
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
    """A :class:`~lstm_tutorial.numpy_lstm.LSTM` (V inputs, 3 units) loaded with the weights."""
    model = LSTM(len(vocabulary()), len(UNITS), seed=0)
    model.load_state_dict(handset_state_dict() if state_dict is None else state_dict)
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

    def step(self, t: int) -> dict[str, np.ndarray]:
        """The values at word ``t`` as a dict: x, h_prev, c_prev, i, f, g, o, c, h."""
        if not -len(self.tokens) <= t < len(self.tokens):
            raise ValueError(f"t must index one of the {len(self.tokens)} words, got {t}")
        names = ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h")
        return {name: getattr(self, name)[t] for name in names}

    def index(self, word: str, occurrence: int = 0) -> int:
        """Position of the ``occurrence``-th ``word`` among the tokens."""
        positions = [t for t, token in enumerate(self.tokens) if token == word]
        if len(positions) <= occurrence:
            raise ValueError(f"no occurrence {occurrence} of {word!r} in {self.tokens}")
        return positions[occurrence]


def trace_gates(
    tokens: Sequence[str],
    state_dict: StateDict | None = None,
) -> GateTrace:
    """Run the hand-set cell over ``tokens`` one word at a time, keeping every gate's value.

    The loop calls the teaching functions of :mod:`lstm_tutorial.numpy_lstm` one equation at
    a time; its ``h`` equals the output of :func:`handset_lstm` on the same words.
    """
    sd = handset_state_dict() if state_dict is None else state_dict
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
