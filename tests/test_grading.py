"""The shared pieces of the exercise checks: what they say to a student."""

from __future__ import annotations

import numpy as np

from lstm_tutorial.grading import (
    as_array,
    compare,
    is_tuple,
    note_stand_in,
    verdict,
)
from lstm_tutorial.numpy_lstm import gate


def test_the_stand_in_is_named_and_a_students_own_function_is_not(capsys):
    assert note_stand_in(gate)
    assert "lstm_tutorial.numpy_lstm.gate" in capsys.readouterr().out

    def my_gate(*args):
        return gate(*args)

    assert not note_stand_in(my_gate)
    assert capsys.readouterr().out == ""


def test_compare_names_the_worst_entry_and_the_values_there():
    lines: list[str] = []
    want = np.zeros((2, 3))
    got = want.copy()
    got[1, 2] = 0.5
    assert not compare("dW", got, want, lines.append)
    assert (
        "index (1, 2)" in lines[0] and "expected 0 there, got 0.5" in lines[1]
    )
    lines.clear()
    assert compare("dW", want + 1e-12, want, lines.append)
    assert lines == ["dW: right (largest difference 1.0e-12)"]
    lines.clear()
    assert not compare("dW", np.full((2, 3), np.nan), want, lines.append)


def test_wrong_types_and_shapes_are_said_not_raised(capsys):
    lines: list[str] = []
    assert as_array("h", [1.0], (1,), lines.append) is None
    assert as_array("h", np.zeros(2), (3,), lines.append) is None
    assert as_array("h", np.zeros(3, dtype=int), (3,), lines.append) is None
    assert (
        lines[1] == "h: expected shape (3,), got (2,)" and "dtype" in lines[2]
    )
    assert not is_tuple(np.zeros(2), "(loss, grad)", lines.append)
    assert is_tuple((1, 2), "(loss, grad)", lines.append)
    assert not verdict(False, lines)
    assert capsys.readouterr().out.endswith("Not yet: see the lines above.\n")
