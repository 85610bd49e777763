"""The shared argument checks: what each accepts, and that each refusal names the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_tutorial import checks


def test_argument_type_error_is_both_a_type_error_and_a_value_error():
    assert issubclass(checks.ArgumentTypeError, TypeError)
    assert issubclass(checks.ArgumentTypeError, ValueError)


@pytest.mark.parametrize("value", [True, 2.0, 2.5, "2", None, [2]])
def test_integer_refuses_non_integers_with_a_type_error(value):
    with pytest.raises(TypeError, match="steps must be an integer"):
        checks.integer("steps", value)


def test_integer_accepts_numpy_integers_and_returns_python_ints():
    assert type(checks.positive_int("n", np.int64(3))) is int


@pytest.mark.parametrize(
    "check, value", [(checks.positive_int, 0), (checks.count, -1)]
)
def test_counts_below_their_minimum_are_value_errors(check, value):
    with pytest.raises(ValueError, match="n must be an integer >= ") as info:
        check("n", value)
    assert not isinstance(info.value, TypeError)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0.0, -1e-3])
def test_positive_number_refuses_infinities_nan_and_non_positive(value):
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        checks.positive_number("lr", value)


@pytest.mark.parametrize("value", [True, "0.1", None, [0.1], np.array([0.1])])
def test_number_refuses_bools_strings_and_containers(value):
    with pytest.raises(TypeError, match="lr must be a finite number"):
        checks.positive_number("lr", value)


def test_number_bounds_open_and_closed():
    assert checks.fraction("p", 0.0) == 0.0 and checks.fraction("p", 1) == 1.0
    with pytest.raises(
        ValueError, match=r"p must be a finite number in \(0, 1\]"
    ):
        checks.fraction("p", 0.0, open_low=True)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        checks.fraction("p", 1.5)


@pytest.mark.parametrize("value", [1, 0, "True", None, np.int64(1)])
def test_boolean_is_only_true_or_false(value):
    with pytest.raises(TypeError, match="flag must be True or False"):
        checks.boolean("flag", value)


def test_choice_does_not_confuse_true_with_one():
    assert checks.choice("k", 1, (1, 2)) == 1
    with pytest.raises(ValueError, match="k must be one of 1, 2"):
        checks.choice("k", True, (1, 2))


@pytest.mark.parametrize(
    "value", ["float32", torch.float32, None, np.int32, "float16", 32]
)
def test_numpy_float_dtype_refuses_strings_torch_dtypes_and_others(value):
    with pytest.raises(
        (TypeError, ValueError), match="dtype must be np.float32 or np.float64"
    ):
        checks.numpy_float_dtype("dtype", value)


def test_numpy_float_dtype_takes_strings_only_when_asked():
    assert (
        checks.numpy_float_dtype("dtype", "float64", strings=True) == np.float64
    )
    assert checks.numpy_float_dtype("dtype", np.dtype("float32")) == np.float32


@pytest.mark.parametrize("value", [np.float32, "float32", torch.int64])
def test_torch_float_dtype_refuses_numpy_strings_and_integers(value):
    with pytest.raises(
        (TypeError, ValueError), match="dtype must be a floating torch dtype"
    ):
        checks.torch_float_dtype("dtype", value)


def test_array_refuses_lists_with_a_hint_and_never_casts():
    with pytest.raises(
        TypeError, match=r"x must be a NumPy array.*np\.asarray\(x"
    ):
        checks.array("x", [1.0, 2.0])
    with pytest.raises(
        TypeError, match="x must have dtype float32, got float64"
    ):
        checks.array("x", np.zeros(3), dtype=np.float32)
    with pytest.raises(ValueError, match="x must have shape"):
        checks.array("x", np.zeros((2, 3)), shape=(2, 4))
    with pytest.raises(ValueError, match="x must not be empty"):
        checks.array("x", np.zeros((0, 3)))
    with pytest.raises(ValueError, match="x must hold finite numbers"):
        checks.array("x", np.array([1.0, np.nan]), finite=True)


@pytest.mark.parametrize("bad, message", [(-1, "got -1"), (5, "got 5")])
def test_ids_out_of_the_vocabulary_are_refused_not_wrapped(bad, message):
    with pytest.raises(
        ValueError, match=rf"ids must hold ids in \[0, 5\).*{message}"
    ):
        checks.ids("ids", np.array([0, bad]), 5)


def test_ids_accept_lists_of_ints_but_not_floats_or_bools():
    assert checks.ids("ids", [0, 4], 5).dtype.kind == "i"
    with pytest.raises(TypeError, match="integer ids"):
        checks.ids("ids", [0.0, 1.0], 5)
    with pytest.raises(TypeError, match="integer ids"):
        checks.ids("ids", [True, False], 5)


def test_tensors_are_checked_against_the_model_parameters():
    like = torch.zeros(2, dtype=torch.float32)
    with pytest.raises(
        TypeError, match="x has dtype torch.float64 but the model's parameters"
    ):
        checks.tensor("x", torch.zeros(2, dtype=torch.float64), like=like)
    with pytest.raises(TypeError, match=r"torch\.from_numpy\(x\)"):
        checks.tensor("x", np.zeros(2), like=like)


def test_id_tensors_check_dtype_and_range():
    with pytest.raises(TypeError, match=r"int64 tensor.*ids\.long\(\)"):
        checks.id_tensor("ids", torch.zeros(1, 2, dtype=torch.int32), 5)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        checks.id_tensor("ids", torch.tensor([[0, 5]]), 5)


def test_config_fields_name_the_config_and_the_field():
    class Config:
        lr = math.inf

    with pytest.raises(
        ValueError, match="Config.lr must be a finite number > 0"
    ):
        checks.config_fields(Config(), {"lr": checks.positive_number})


def test_argv_is_none_or_a_list_of_strings():
    assert checks.argv("argv", None) is None
    assert checks.argv("argv", ("a", "")) == ["a", ""]
    for bad, message in (("--help", "argv"), ([3], r"argv\[0\]"), ({}, "argv")):
        with pytest.raises((TypeError, ValueError), match=message):
            checks.argv("argv", bad)
