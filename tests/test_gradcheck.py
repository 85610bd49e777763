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
    wrong = {"A": np.outer(x, x), "x": 2 * A @ x}  # forgets that A is not symmetric
    report = check_gradients(quadratic, {"A": A, "x": x}, wrong)
    assert report.max_rel_error["A"] < 1e-7
    assert report.max_rel_error["x"] > 1e-2
    assert report.worst[0].name == "x"
    assert "worst entries" in str(report)


def test_params_are_restored_after_checking():
    rng = np.random.default_rng(2)
    A, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    before = A.copy(), x.copy()
    check_gradients(quadratic, {"A": A, "x": x}, {"A": np.outer(x, x), "x": (A + A.T) @ x})
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
    with pytest.raises(ValueError, match=r"grads\['x'\] must hold finite numbers"):
        check_gradients(f, {"x": x}, {"x": np.array([1.0, np.nan, 1.0])})
    with pytest.raises(ValueError, match=r"params\['x'\] must not be empty"):
        check_gradients(f, {"x": x[:0]}, {"x": x[:0]})
    assert calls == []


@pytest.mark.parametrize("tol", [True, -1e-6, float("nan"), float("inf"), "1e-6", None])
def test_passed_refuses_a_tolerance_that_is_not_a_finite_number_at_least_zero(tol):
    x = np.ones(2)
    report = check_gradients(lambda x: float(x @ x), {"x": x}, {"x": 2 * x})
    with pytest.raises(ValueError, match=r"tol must be a finite number >= 0"):
        report.passed(tol)
