"""The gradient checker finds right gradients right and wrong ones wrong."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tutorial.gradcheck import check_gradients


def quadratic(A, x):
    return float(x @ A @ x)


def test_correct_gradient_passes_with_tiny_error():
    rng = np.random.default_rng(0)
    A, x = rng.normal(size=(4, 4)), rng.normal(size=4)
    grads = {"A": np.outer(x, x), "x": (A + A.T) @ x}
    report = check_gradients(quadratic, {"A": A, "x": x}, grads)
    assert report.checked == 20
    assert report.passed(1e-7)


def test_wrong_gradient_is_reported_with_its_worst_entry():
    rng = np.random.default_rng(1)
    A, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    wrong = {
        "A": np.outer(x, x),
        "x": 2 * A @ x,
    }  # forgets that A is not symmetric
    report = check_gradients(quadratic, {"A": A, "x": x}, wrong)
    assert report.max_rel_error["A"] < 1e-7
    assert report.max_rel_error["x"] > 1e-2
    assert report.worst[0].name == "x"
    assert "worst entries" in str(report)


def test_params_are_restored_after_checking():
    rng = np.random.default_rng(2)
    A, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    before = A.copy(), x.copy()
    check_gradients(
        quadratic, {"A": A, "x": x}, {"A": np.outer(x, x), "x": (A + A.T) @ x}
    )
    np.testing.assert_array_equal(A, before[0])
    np.testing.assert_array_equal(x, before[1])


def test_max_entries_samples_a_repeatable_subset():
    A, x = np.eye(10), np.ones(10)
    grads = {"A": np.outer(x, x), "x": 2 * x}
    r1 = check_gradients(quadratic, {"A": A, "x": x}, grads, max_entries=7)
    r2 = check_gradients(quadratic, {"A": A, "x": x}, grads, max_entries=7)
    assert r1.checked == 14 and str(r1) == str(r2)


def test_float32_parameters_are_refused():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        check_gradients(lambda x: float(x.sum()), {"x": x}, {"x": np.ones(3)})


def test_mismatched_keys_and_shapes_are_refused():
    x = np.ones(3)
    with pytest.raises(ValueError, match="missing"):
        check_gradients(lambda x: float(x.sum()), {"x": x}, {})
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        check_gradients(lambda x: float(x.sum()), {"x": x}, {"x": np.ones(4)})


# Bad input: what the bad-input harness (test_bad_input_numpy.py) cannot express


def test_params_are_restored_when_f_raises_or_returns_no_number():
    x = np.array([1.0, 2.0, 3.0])

    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        check_gradients(broken, {"x": x}, {"x": 2 * x})
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"f must return a real number"):
        check_gradients(lambda x: x * 2, {"x": x}, {"x": 2 * x})
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_analytic_gradients_given_as_lists_or_holding_nan_are_refused_before_any_call():
    calls = []

    def f(x):
        calls.append(1)
        return float(x.sum())

    x = np.ones(3)
    with pytest.raises(TypeError, match=r"grads\['x'\] must be a NumPy array"):
        check_gradients(f, {"x": x}, {"x": [1.0, 1.0, 1.0]})
    with pytest.raises(
        ValueError, match=r"grads\['x'\] must hold finite numbers"
    ):
        check_gradients(f, {"x": x}, {"x": np.array([1.0, np.nan, 1.0])})
    with pytest.raises(ValueError, match=r"params\['x'\] must not be empty"):
        check_gradients(f, {"x": x[:0]}, {"x": x[:0]})
    assert calls == []


@pytest.mark.parametrize(
    "tol", [True, -1e-6, float("nan"), float("inf"), "1e-6", None]
)
def test_passed_refuses_a_tolerance_that_is_not_a_finite_number_at_least_zero(
    tol,
):
    x = np.ones(2)
    report = check_gradients(lambda x: float(x @ x), {"x": x}, {"x": 2 * x})
    with pytest.raises(ValueError, match=r"tol must be a finite number >= 0"):
        report.passed(tol)


# The chapter's exercise "a bug that hides from a lazy check": the bug is invisible with a
# zero initial state, whatever the loss, and a check from a random state sees it at once.


def _layer_check(state, loss_weights, all_arrays, bug):
    """Worst relative error of one LSTM layer's gradients, checked the given way."""
    import dataclasses

    from lstm_tutorial.bptt import lstm_layer_backward
    from lstm_tutorial.numpy_lstm import LSTM, lstm_layer_forward

    rng = np.random.default_rng(3)
    T, B, D, H = 4, 2, 3, 4
    layer = LSTM(D, H, dtype=np.float64, seed=3)
    W, U, b_ih, b_hh = layer.layer_parameters(0)
    x = rng.standard_normal((T, B, D))
    h0, c0 = (
        rng.standard_normal((2, B, H))
        if state == "random"
        else np.zeros((2, B, H))
    )
    if loss_weights == "random":
        R, R_h, R_c = (
            rng.standard_normal((T, B, H)),
            *rng.standard_normal((2, B, H)),
        )
    else:  # sum(output): h_n and c_n not in the loss
        R, R_h, R_c = np.ones((T, B, H)), np.zeros((B, H)), np.zeros((B, H))

    def loss(**_):
        cache = lstm_layer_forward(x, h0, c0, W, U, b_ih, b_hh)
        return (
            np.sum(cache.h * R)
            + np.sum(cache.h[-1] * R_h)
            + np.sum(cache.c[-1] * R_c)
        )

    cache = lstm_layer_forward(x, h0, c0, W, U, b_ih, b_hh)
    if bug:  # the backward pass builds h_{t-1}, c_{t-1} of step 1 from zeros
        cache = dataclasses.replace(
            cache, h0=np.zeros_like(h0), c0=np.zeros_like(c0)
        )
    g = lstm_layer_backward(cache, W, U, R, R_h, R_c)
    grads = {"weight_ih_l0": g.weight_ih, "weight_hh_l0": g.weight_hh,
             "bias_ih_l0": g.bias, "bias_hh_l0": g.bias,
             "x": g.x, "h0": g.h0, "c0": g.c0}  # fmt: skip
    params = dict(layer.named_parameters())
    if all_arrays:
        params |= {"x": x, "h0": h0, "c0": c0}
    return check_gradients(
        loss, params, {k: grads[k] for k in params}
    ).worst_rel_error


def test_a_lazy_check_misses_a_zero_initial_state_bug_that_a_careful_check_finds():
    tol = 1e-5  # right gradients stay below, the bug's errors are near 1
    lazy = ("zero", "sum", False)
    careful = ("random", "random", True)
    assert _layer_check(*lazy, bug=False) < tol
    assert _layer_check(*lazy, bug=True) < tol  # the bug hides
    assert (
        _layer_check("zero", "random", True, bug=True) < tol
    )  # not seen either
    assert _layer_check("random", "sum", False, bug=True) > 0.1  # seen
    assert _layer_check(*careful, bug=False) < tol
    assert _layer_check(*careful, bug=True) > 0.1
