"""Checks for the exercises of Part II in which the student writes a backward pass.

Each ``check_...`` function calls the student's function on fixed random inputs, compares
what it returns with the package's own computation (or, for a gradient that the package
does not compute, with finite differences), prints what agrees and what differs in words a
student can act on (which output, which step or entry, expected against got), and returns
True if everything agrees.

- :func:`check_cell_state_backward`: the cell state's backward recursion over a sequence,
  against ``bptt.lstm_layer_backward`` (chapter "Backpropagation through time").
- :func:`check_rnn_backward`: a plain RNN's BPTT without Jacobians, against
  ``bptt.backpropagate_through_jacobians`` (chapter "Vanishing and exploding gradients").
- :func:`check_gate_gradients`: the gradients of one sigmoid gate, against central finite
  differences by ``gradcheck.check_gradients`` (chapter "Checking gradients").

Checks. Each function checks that its argument is callable before any work (a TypeError
naming ``fn``). What the student's function returns is not an argument: a wrong type or
shape is reported in the printout (and the result is False), never raised; an exception
raised by the student's function reaches the student unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.bptt import (
    backpropagate_through_jacobians,
    lstm_layer_backward,
)
from lstm_tutorial.gradcheck import check_gradients
from lstm_tutorial.grading import (
    TOLERANCE,
    as_array,
    compare,
    is_tuple,
    note_stand_in,
    verdict,
)
from lstm_tutorial.numpy_lstm import LSTM, lstm_layer_forward
from lstm_tutorial.rnn import RNN, rnn_state_jacobians

#: Largest relative error against finite differences still counted as correct.
GRADCHECK_TOLERANCE = 1e-6


def _steps_text(steps: list[int]) -> str:
    shown = ", ".join(str(t) for t in steps[:6])
    return shown + (", ..." if len(steps) > 6 else "")


def _compare_per_step(
    name: str, got: np.ndarray, want: np.ndarray, first: int, say: Callable
) -> bool:
    """Compare row by row (axis 0 is time; row k is step first + k); say what differs."""
    diff = np.abs(got - want).reshape(len(want), -1).max(axis=1)
    scale = max(1.0, float(np.abs(want).max()))
    wrong = [first + k for k in np.flatnonzero(~(diff <= TOLERANCE * scale))]
    if not wrong:
        say(
            f"{name}: right at every step (largest difference {diff.max():.1e})"
        )
        return True
    worst = first + int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)))
    say(f"{name}: wrong at steps t = {_steps_text(wrong)}")
    say(f"  largest difference {diff[worst - first]:.3g} at t = {worst}")
    if wrong[-1] < first + len(want) - 1:
        say(
            f"  steps after t = {wrong[-1]} are right: look at what step t hands "
            "back to step t - 1"
        )
    return False


def check_cell_state_backward(fn: Callable[..., Any]) -> bool:
    """Check ``fn(dh, f, o, tanh_c) -> (dc, dc0)`` against ``lstm_layer_backward``.

    The inputs come from one LSTM layer (T = 6 steps, B = 2 sequences, H = 4 units) run
    forward from a random state, with a random gradient from above: ``dh`` (T, B, H) is
    dL/dh_t, all of it; ``f``, ``o``, ``tanh_c`` (T, B, H) are f_t, o_t and tanh(c_t), row
    t - 1 for step t. ``fn`` must return dL/dc_t for t = 1 .. T, (T, B, H), and dL/dc_0,
    (B, H), with no gradient arriving from beyond step T. Prints the comparison; returns
    True if both agree.
    """
    checks.function("fn", fn)
    note_stand_in(fn)
    T, B, D, H = 6, 2, 3, 4
    rng = np.random.default_rng(12)
    layer = LSTM(D, H, dtype=np.float64, seed=12)
    W, U, b_ih, b_hh = layer.layer_parameters(0)
    x = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((2, B, H))
    cache = lstm_layer_forward(x, h0, c0, W, U, b_ih, b_hh)
    grads = lstm_layer_backward(cache, W, U, rng.standard_normal((T, B, H)))
    _, f, o, _ = cache.gates  # packed order i, f, o, g
    inputs = (grads.h, f, o, np.tanh(cache.c))
    result = fn(*(a.copy() for a in inputs))
    lines: list[str] = []
    say = lines.append
    ok = is_tuple(result, "(dc, dc0)", say)
    if ok:
        dc = as_array("dc", result[0], (T, B, H), say)
        dc0 = as_array("dc0", result[1], (B, H), say)
        ok = dc is not None and dc0 is not None
        if dc is not None:
            ok = (
                _compare_per_step(
                    "dc (row t - 1 is step t)", dc, grads.c, 1, say
                )
                and ok
            )
        if dc0 is not None:
            ok = compare("dc0", dc0, grads.c0, say) and ok
    return verdict(ok, lines)


def check_rnn_backward(fn: Callable[..., Any]) -> bool:
    """Check ``fn(h, U, grad_last) -> grads`` against ``backpropagate_through_jacobians``.

    The inputs come from a plain RNN (D = 3, H = 5) run over T = 8 steps of one random
    sequence from h_0 = 0: ``h`` (T, H) holds h_1 .. h_T (row t - 1 is h_t), ``U`` (H, H)
    is ``weight_hh_l0``, ``grad_last`` (H,) is dL/dh_T. ``fn`` must return (T + 1, H),
    row t = dL/dh_t for t = 0 .. T, as ``backpropagate_through_jacobians`` does with the
    step Jacobians of ``rnn_state_jacobians``. Prints the comparison; returns True if
    they agree.
    """
    checks.function("fn", fn)
    note_stand_in(fn)
    T, D, H = 8, 3, 5
    rng = np.random.default_rng(13)
    rnn = RNN(D, H, dtype=np.float64, seed=13)
    x = rng.standard_normal((T, D))
    h, _ = rnn(x)  # (T, H): h_1 .. h_T
    grad_last = rng.standard_normal(H)
    jacobians = rnn_state_jacobians(x, np.zeros(H), *rnn.parameters())
    want = backpropagate_through_jacobians(jacobians, grad_last)
    result = fn(h.copy(), rnn.weight_hh_l0.copy(), grad_last.copy())
    lines: list[str] = []
    got = as_array("grads", result, (T + 1, H), lines.append)
    label = "grads (row t: of h_t)"
    ok = got is not None and _compare_per_step(
        label, got, want, 0, lines.append
    )
    return verdict(ok, lines)


def _gate_loss(x, h, W, U, b, R) -> float:
    """L = sum(R * sigmoid(x W^T + h U^T + b)), the loss of ``check_gate_gradients``."""
    return float(np.sum(R / (1.0 + np.exp(-(x @ W.T + h @ U.T + b)))))


def check_gate_gradients(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, h, W, U, b, R) -> grads`` against central finite differences.

    The loss is L = sum(R * sigmoid(x W^T + h U^T + b)), one
    gate of a batch, with fixed random x (B, D), h (B, H), W (H, D), U (H, H), b (H,) and
    loss weights R (B, H); B = 3, D = 2, H = 4. ``fn`` must return a dict with the keys
    "W", "U", "b", "x" and "h", the gradient of L with respect to each, of its shape.
    ``gradcheck.check_gradients`` compares every entry; an array passes when its worst
    relative error is at most ``GRADCHECK_TOLERANCE``. Prints the comparison; returns
    True if all five pass.
    """
    checks.function("fn", fn)
    note_stand_in(fn)
    B, D, H = 3, 2, 4
    rng = np.random.default_rng(14)
    params = {
        "x": rng.standard_normal((B, D)),
        "h": rng.standard_normal((B, H)),
        "W": rng.standard_normal((H, D)),
        "U": rng.standard_normal((H, H)),
        "b": rng.standard_normal(H),
    }
    R = rng.standard_normal((B, H))
    result = fn(**{k: v.copy() for k, v in params.items()}, R=R.copy())
    lines: list[str] = []
    say = lines.append
    if not isinstance(result, Mapping):
        say(
            f"expected fn to return a dict of gradients, got {checks.describe(result)}"
        )
        return verdict(False, lines)
    missing = [k for k in params if k not in result]
    if missing:
        say(f"the dict lacks the keys {missing} (expected W, U, b, x and h)")
    grads = {}
    for key, p in params.items():
        if key in result:
            grad = as_array(key, result[key], p.shape, say)
            if grad is not None:
                grads[key] = grad.astype(np.float64)
    ok = not missing and len(grads) == len(params)
    for key, grad in grads.items():
        if not np.all(np.isfinite(grad)):
            say(f"{key}: holds nan or inf")
            ok = False
            continue
        one = {key: params[key]}
        report = check_gradients(
            lambda **_: _gate_loss(**params, R=R), one, {key: grad}, n_worst=1
        )
        worst = report.worst[0]
        if worst.rel_error <= GRADCHECK_TOLERANCE:
            say(f"{key}: right (worst relative error {worst.rel_error:.1e})")
            continue
        ok = False
        say(f"{key}: wrong (worst relative error {worst.rel_error:.2g})")
        say(
            f"  at {key}{list(worst.index)}: yours {worst.analytic:+.6f}, "
            f"finite differences {worst.numeric:+.6f}"
        )
    return verdict(ok, lines)
