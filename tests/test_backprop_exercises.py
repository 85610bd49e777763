"""The exercise checks of Part II pass right solutions and say where wrong ones go wrong.

The right solutions here are the ones the chapters' solutions give (written again, as a
student would); each wrong one is a mistake a student makes.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tutorial.backprop_exercises import (
    check_cell_state_backward,
    check_gate_gradients,
    check_rnn_backward,
)


def cell_state_backward(dh, f, o, tanh_c, *, forget_highway=False):
    dc = np.empty_like(dh)
    carried = np.zeros_like(dh[0])  # f_{t+1} * dc_{t+1}; nothing beyond T
    for t in reversed(range(len(dh))):  # row t is step t + 1
        dc[t] = carried + dh[t] * o[t] * (1 - tanh_c[t] ** 2)
        carried = 0 * carried if forget_highway else f[t] * dc[t]
    return dc, carried


def rnn_backward(h, U, grad_last, *, forget_tanh=False):
    T = len(h)
    grads = np.empty((T + 1, len(grad_last)))
    grads[T] = grad_last
    for t in range(T, 0, -1):
        slope = 1 if forget_tanh else 1 - h[t - 1] ** 2  # h[t - 1] is h_t
        grads[t - 1] = U.T @ (grads[t] * slope)
    return grads


def gate_gradients(x, h, W, U, b, R, *, transpose_bug=False):
    s = 1 / (1 + np.exp(-(x @ W.T + h @ U.T + b)))
    dz = R * s * (1 - s)
    dU = h.T @ dz if transpose_bug else dz.T @ h
    return {
        "W": dz.T @ x,
        "U": dU,
        "b": dz.sum(axis=0),
        "x": dz @ W,
        "h": dz @ U,
    }


def test_right_solutions_pass(capsys):
    assert check_cell_state_backward(cell_state_backward)
    assert check_rnn_backward(rnn_backward)
    assert check_gate_gradients(gate_gradients)
    out = capsys.readouterr().out
    assert out.count("All correct.") == 3 and "wrong" not in out
    assert max(len(line) for line in out.splitlines()) <= 78  # fits the page


def test_a_forgotten_highway_is_found_at_every_step_but_the_last(capsys):
    assert not check_cell_state_backward(
        lambda *a: cell_state_backward(*a, forget_highway=True)
    )
    out = capsys.readouterr().out
    assert "dc (row t - 1 is step t): wrong at steps t = 1, 2, 3, 4, 5\n" in out
    assert "steps after t = 5 are right" in out
    assert "dc0: wrong" in out and out.endswith(
        "Not yet: see the lines above.\n"
    )
    assert max(len(line) for line in out.splitlines()) <= 78


def test_a_forgotten_tanh_slope_is_found(capsys):
    assert not check_rnn_backward(lambda *a: rnn_backward(*a, forget_tanh=True))
    out = capsys.readouterr().out
    assert "wrong at steps t = 0, 1, 2, 3, 4, 5, ..." in out
    assert "steps after t = 7 are right" in out
    assert max(len(line) for line in out.splitlines()) <= 78


def test_a_transposed_gradient_is_found_in_its_array_with_the_entry(capsys):
    def transposed(x, h, W, U, b, R):
        return gate_gradients(x, h, W, U, b, R, transpose_bug=True)

    assert not check_gate_gradients(transposed)
    out = capsys.readouterr().out
    assert "W: right" in out and "x: right" in out and "U: wrong" in out
    assert "finite differences" in out


@pytest.mark.parametrize(
    "returned, message",
    [
        (None, "expected a tuple (dc, dc0), got None"),
        (
            (np.zeros((6, 2)), np.zeros((2, 4))),
            "dc: expected shape (6, 2, 4), got (6, 2)",
        ),
        (
            (np.zeros((6, 2, 4)), [0.0]),
            "dc0: expected a NumPy array of shape (2, 4)",
        ),
    ],
)
def test_wrong_returns_are_described_not_raised(capsys, returned, message):
    assert not check_cell_state_backward(lambda *a: returned)
    assert message in capsys.readouterr().out


def test_wrong_shapes_and_keys_of_gate_gradients_are_described(capsys):
    def missing_b(*a, **k):
        grads = gate_gradients(*a, **k)
        del grads["b"]
        grads["U"] = grads["U"].T[:2]
        return grads

    assert not check_gate_gradients(missing_b)
    out = capsys.readouterr().out
    assert "the dict lacks the keys ['b']" in out
    assert "U: expected shape (4, 4), got (2, 4)" in out
    assert not check_gate_gradients(lambda **k: [1.0])
    assert (
        "expected fn to return a dict of gradients" in capsys.readouterr().out
    )
    assert not check_rnn_backward(lambda *a: np.zeros((8, 5)))
    assert "grads: expected shape (9, 5), got (8, 5)" in capsys.readouterr().out


def test_nan_in_a_returned_gradient_is_reported(capsys):
    def with_nan(*a, **k):
        grads = gate_gradients(*a, **k)
        grads["b"][0] = np.nan
        return grads

    assert not check_gate_gradients(with_nan)
    assert "b: holds nan or inf" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_cell_state_backward, check_rnn_backward,
                                   check_gate_gradients])  # fmt: skip
def test_something_not_callable_is_refused_naming_fn(check, capsys):
    with pytest.raises(TypeError, match=r"\bfn must be a function"):
        check("my_function")
    assert capsys.readouterr().out == ""


def test_the_students_inputs_are_copies():
    def vandal(dh, f, o, tanh_c):
        result = cell_state_backward(dh, f, o, tanh_c)
        for a in (dh, f, o, tanh_c):
            a[...] = 0
        return result

    assert check_cell_state_backward(vandal)
