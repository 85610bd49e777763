"""The exercise checks pass the reference solutions and name what a wrong one got wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lstm_tutorial.gate_exercises import check_cell_step, check_run
from lstm_tutorial.numpy_lstm import (
    candidate,
    gate,
    lstm_cell_step,
    new_cell_state,
    new_hidden_state,
)


def numpy_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, order="ifgo"):
    """The cell step from the equations, with the gates cut in ``order``."""
    z = x @ weight_ih.T + h @ weight_hh.T + bias_ih + bias_hh
    parts = dict(zip(order, np.split(z, 4, axis=-1), strict=True))
    i, f, o = (1 / (1 + np.exp(-parts[k])) for k in "ifo")
    g = np.tanh(parts["g"])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, np.concatenate([i, f, g, o], axis=-1)


def test_check_cell_step_passes_the_package_and_a_numpy_step(capsys):
    check_cell_step(lstm_cell_step)
    check_cell_step(numpy_step)
    assert capsys.readouterr().out.count("passed") == 2


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (
            lambda *a: numpy_step(*a, order="fig" + "o"),
            "gates differs from lstm_cell_step by up to .*\nhint: the order",
        ),
        (
            lambda *a: (lambda h, c, g: (np.tanh(c), c, g))(*numpy_step(*a)),
            r"h_t differs .*\nhint: h_t = o \* tanh\(c_t\)",
        ),
        (
            lambda *a: numpy_step(*a)[:2],
            r"return a tuple of three arrays: \(h_t, c_t, gates\)",
        ),
        (
            lambda *a: tuple(v[0] for v in numpy_step(*a)),
            r"gates: expected shape \(2, 12\), got \(12,\)",
        ),
        (
            lambda *a: (lambda h, c, g: (h, c * np.nan, g))(*numpy_step(*a)),
            "c_t differs from lstm_cell_step by up to nan",
        ),
    ],
)
def test_check_cell_step_names_the_first_wrong_output(capsys, wrong, message):
    check_cell_step(wrong)
    out = capsys.readouterr().out
    assert "passed" not in out
    assert re.search(message, out), out


def run_with_gates(x, w):
    """The loop over the words, one equation at a time (the exercise's solution)."""
    W, U, b = w["W"], w["U"], w["b"]
    h = c = np.zeros(len(b["f"]))
    kept_c, kept_h = [], []
    for x_t in x:
        i = gate(x_t, h, W["i"], U["i"], b["i"])
        f = gate(x_t, h, W["f"], U["f"], b["f"])
        g = candidate(x_t, h, W["g"], U["g"], b["g"])
        o = gate(x_t, h, W["o"], U["o"], b["o"])
        c = new_cell_state(c, f, i, g)
        h = new_hidden_state(o, c)
        kept_c.append(c)
        kept_h.append(h)
    return np.array(kept_c), np.array(kept_h)


def test_check_run_passes_the_solution(capsys):
    check_run(run_with_gates)
    assert "passed: c_t and h_t equal trace_gates" in capsys.readouterr().out


def test_check_run_catches_a_loop_that_ignores_its_weights(capsys):
    from lstm_tutorial.handset import handset_weights

    check_run(lambda x, w: run_with_gates(x, handset_weights()))
    out = capsys.readouterr().out
    assert (
        "c_t differs first at word 1 ('gave') of the story, forget bias 2:"
        in out
    )


def test_check_run_catches_a_loop_that_does_not_carry_h(capsys):
    # the story hides the number at every verb anyway; the filler sentence needs U_o
    def no_recurrence(x, w):
        zero = {k: 0 * u for k, u in w["U"].items()}
        return run_with_gates(x, {"W": w["W"], "U": zero, "b": w["b"]})

    check_run(no_recurrence)
    out = capsys.readouterr().out
    assert (
        "h_t differs first at word 1 (',') of the filler sentence, "
        "forget bias 8:" in out
    )


def test_check_run_names_a_wrong_shape_or_return(capsys):
    check_run(lambda x, w: tuple(a.T for a in run_with_gates(x, w)))
    assert "c: expected shape (16, 3) (T words, H = 3 units), got (3, 16)" in (
        capsys.readouterr().out
    )
    check_run(lambda x, w: run_with_gates(x, w)[0])
    assert "return a tuple of two (T, H) arrays" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_cell_step, check_run])
def test_checks_refuse_something_that_is_not_a_function(check):
    name = "step" if check is check_cell_step else "run"
    with pytest.raises(TypeError, match=f"{name} must be a function"):
        check("my_function")
