"""Checks for the write-code exercises of the gates chapters (Part I).

Each check runs a student's function on fixed inputs, compares it with the package's own,
prints one message a student can act on: passed; or which output differs first, where and
by how much; or which shape was expected. They return None.

- :func:`check_cell_step`: a cell step written from the equations, against
  :func:`lstm_tutorial.numpy_lstm.lstm_cell_step`.
- :func:`check_run`: the loop that runs the hand-set cell over a sentence, against
  :func:`lstm_tutorial.handset.trace_gates`.

Checks: both take a callable (:func:`lstm_tutorial.checks.function`) and refuse anything
else before running it. What the student's function returns is checked too (a tuple of
the right length, arrays of the right shapes), with a message instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.grading import note_stand_in
from lstm_tutorial.handset import (
    FILLER_SENTENCE,
    OPEN,
    UNITS,
    handset_state_dict,
    handset_weights,
    one_hot,
    trace_gates,
)
from lstm_tutorial.numpy_lstm import lstm_cell_step
from lstm_tutorial.story import STORY, tokenize

#: What to look at when one output of a cell step differs, upstream first.
_STEP_HINTS = {
    "gates": "the order is i, f, g, o; g takes tanh, the others sigmoid",
    "c_t": "c_t = f * c_{t-1} + i * g",
    "h_t": "h_t = o * tanh(c_t), with the new c_t",
}


def check_cell_step(step: Callable[..., Any]) -> None:
    """Compare ``step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)`` with
    ``lstm_cell_step`` on fixed random inputs: a batch B = 2, D = 4, H = 3, float64.

    ``step`` must return ``(h_t, c_t, gates)`` like ``lstm_cell_step``. The gates are
    compared first, then c_t, then h_t (a wrong gate makes both states wrong); the first
    that differs by more than 1e-12, or has the wrong shape, is named with a hint.
    """
    checks.function("step", step)
    note_stand_in(step)
    rng = np.random.default_rng(7)
    B, D, H = 2, 4, 3
    shapes = [
        (B, D),
        (B, H),
        (B, H),
        (4 * H, D),
        (4 * H, H),
        (4 * H,),
        (4 * H,),
    ]
    args = [rng.standard_normal(shape) for shape in shapes]
    h_t, c_t, gates = lstm_cell_step(*args)
    got = step(*[a.copy() for a in args])
    if not isinstance(got, tuple) or len(got) != 3:
        print("return a tuple of three arrays: (h_t, c_t, gates)")
        return
    for name, mine, want in (
        ("gates", got[2], gates),
        ("c_t", got[1], c_t),
        ("h_t", got[0], h_t),
    ):
        mine = np.asarray(mine, dtype=np.float64)
        if mine.shape != want.shape:
            print(f"{name}: expected shape {want.shape}, got {mine.shape}")
            return
        gap = float(np.abs(mine - want).max())
        if not gap <= 1e-12:  # NaN fails too
            print(f"{name} differs from lstm_cell_step by up to {gap:.1e}")
            print("hint:", _STEP_HINTS[name])
            return
    print("passed: h_t, c_t and the gates equal lstm_cell_step's")


def check_run(run: Callable[..., Any]) -> None:
    """Compare ``run(x, w)`` with ``trace_gates``, word by word.

    ``run`` reads one-hot words ``x`` (T, V) with the per-gate weights ``w`` of
    ``handset_weights()``, starts from zero states and returns ``(c, h)``: the cell and
    hidden states at every word, two (T, H) arrays. It is run on the story and on the
    filler sentence, with the hand-set weights and with a leaky forget gate
    (``forget_bias=2``, so that a loop that ignores ``w`` fails); the first word where
    c_t or h_t differs by more than 1e-5 is named, with both values.
    """
    checks.function("run", run)
    note_stand_in(run)
    sentences = {
        "the story": tokenize(STORY),
        "the filler sentence": tokenize(FILLER_SENTENCE),
    }
    for bias in (OPEN, 2.0):
        w = handset_weights(forget_bias=bias)
        state_dict = handset_state_dict(forget_bias=bias)
        for where, words in sentences.items():
            want = trace_gates(words, state_dict)
            got = run(one_hot(words), w)
            if not isinstance(got, tuple) or len(got) != 2:
                print("return a tuple of two (T, H) arrays: (c, h)")
                return
            for name, mine, ref in zip(
                "ch", got, (want.c, want.h), strict=True
            ):
                mine = np.asarray(mine, dtype=np.float64)
                if mine.shape != ref.shape:
                    print(
                        f"{name}: expected shape {ref.shape} (T words, "
                        f"H = {len(UNITS)} units), got {mine.shape}"
                    )
                    return
                wrong = ~(np.abs(mine - ref).max(axis=1) <= 1e-5)
                if wrong.any():
                    t = int(wrong.argmax())
                    print(
                        f"{name}_t differs first at word {t} ({words[t]!r}) of "
                        f"{where}, forget bias {bias:g}:"
                    )
                    with np.printoptions(precision=4, suppress=True):
                        print(f"  yours    {mine[t]}")
                        print(f"  expected {ref[t]}")
                    return
    print("passed: c_t and h_t equal trace_gates at every word")
