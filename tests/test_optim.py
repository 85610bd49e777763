"""Adam in NumPy: the same updates as torch.optim.Adam, a resumable state, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_tutorial.optim import Adam


def make_params(rng):
    return {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}


def test_adam_matches_torch_adam_step_by_step():
    rng = np.random.default_rng(0)
    params = make_params(rng)
    torch_params = {
        k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()
    }
    ours = Adam(params, lr=0.01, betas=(0.8, 0.95), eps=1e-6)
    theirs = torch.optim.Adam(
        list(torch_params.values()), lr=0.01, betas=(0.8, 0.95), eps=1e-6
    )
    for _ in range(6):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        ours.step(grads)
        for k, p in torch_params.items():
            p.grad = torch.tensor(grads[k])
        theirs.step()
        for k in params:
            np.testing.assert_allclose(
                params[k], torch_params[k].detach().numpy(), atol=1e-12
            )


def test_first_adam_step_moves_every_entry_by_lr_against_the_gradient_sign():
    rng = np.random.default_rng(1)
    params = make_params(rng)
    before = {k: v.copy() for k, v in params.items()}
    grads = {
        k: rng.normal(size=v.shape) * 1000.0 for k, v in params.items()
    }  # scale is ignored
    Adam(params, lr=0.1).step(grads)
    for k in params:
        np.testing.assert_allclose(
            params[k] - before[k], -0.1 * np.sign(grads[k]), rtol=1e-6
        )


def test_adam_updates_float32_in_place_and_keeps_the_dtype():
    w = np.ones(5, dtype=np.float32)
    Adam({"w": w}, lr=0.5).step({"w": np.ones(5, dtype=np.float32)})
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, 0.5, rtol=1e-6)


def test_adam_state_dict_resumes_exactly():
    rng = np.random.default_rng(2)
    grads = [
        {k: rng.normal(size=s) for k, s in (("w", (3, 4)), ("b", (4,)))}
        for _ in range(4)
    ]
    straight = make_params(np.random.default_rng(3))
    opt = Adam(straight, lr=0.05)
    for g in grads:
        opt.step(g)

    resumed = make_params(np.random.default_rng(3))
    first = Adam(resumed, lr=0.05)
    for g in grads[:2]:
        first.step(g)
    second = Adam(resumed, lr=0.05)
    second.load_state_dict(first.state_dict())
    assert second.t == 2
    for g in grads[2:]:
        second.step(g)
    for k in straight:
        np.testing.assert_array_equal(straight[k], resumed[k])


def test_adam_refuses_bad_arguments():
    params = {"w": np.zeros(3)}
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        Adam(params, lr=0.0)
    with pytest.raises(ValueError, match="betas"):
        Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="non-empty dict"):
        Adam({})
    opt = Adam(params)
    with pytest.raises(ValueError, match="missing"):
        opt.step({"v": np.zeros(3)})
    with pytest.raises(
        ValueError, match=r"grads\[.w.\] must have shape \(3,\), got \(2,\)"
    ):
        opt.step({"w": np.zeros(2)})
    with pytest.raises(ValueError, match="must have keys"):
        opt.load_state_dict({"t": np.array(1)})


# ---------------------------------------------------------------------------------------------
# Bad input that the harness of test_bad_input_text.py cannot express
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [True, np.inf, np.nan, -1e-3, "0.01"])
def test_lr_must_be_a_finite_positive_number_not_a_bool(lr):
    with pytest.raises(
        (TypeError, ValueError), match="lr must be a finite number > 0"
    ):
        Adam({"w": np.zeros(3)}, lr=lr)


@pytest.mark.parametrize(
    "betas", [(1.0, 0.999), (0.9, -0.1), (0.9, 1.5), (0.9,), 0.9]
)
def test_betas_must_be_two_numbers_in_zero_one(betas):
    with pytest.raises((TypeError, ValueError), match="betas"):
        Adam({"w": np.zeros(3)}, betas=betas)


@pytest.mark.parametrize("eps", [0.0, -1e-8, np.inf, True])
def test_eps_must_be_positive_and_finite(eps):
    with pytest.raises(
        (TypeError, ValueError), match="eps must be a finite number > 0"
    ):
        Adam({"w": np.zeros(3)}, eps=eps)


def test_gradients_of_another_dtype_are_refused_not_cast():
    w = np.zeros(3, dtype=np.float32)
    with pytest.raises(
        TypeError, match=r"grads\['w'\] must have dtype float32, got float64"
    ):
        Adam({"w": w}).step({"w": np.ones(3)})


def test_a_non_finite_gradient_is_refused_before_any_parameter_moves():
    params = {"a": np.zeros(2), "b": np.zeros(2)}
    opt = Adam(params, lr=0.1)
    with pytest.raises(
        ValueError, match=r"grads\['b'\] must hold finite numbers"
    ):
        opt.step({"a": np.ones(2), "b": np.array([1.0, np.nan])})
    assert (
        opt.t == 0 and not params["a"].any()
    )  # "a" came first and is untouched


def test_parameters_that_share_memory_or_are_read_only_are_refused():
    w = np.zeros(4)
    with pytest.raises(
        ValueError, match=r"params\['v'\] shares memory with params\['w'\]"
    ):
        Adam({"w": w, "v": w[:2]})
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['w'\] must be writeable"):
        Adam({"w": frozen})
    with pytest.raises(TypeError, match=r"params\['w'\] must be a NumPy array"):
        Adam({"w": [0.0, 1.0]})


def test_load_state_dict_checks_the_whole_state_before_changing_anything():
    params = {"w": np.zeros(3)}
    opt = Adam(params)
    opt.step({"w": np.ones(3)})
    before = opt.state_dict()
    state = Adam({"w": np.zeros(3)}).state_dict()
    state["v.w"] = -np.ones(3)  # sqrt(v) would be NaN
    with pytest.raises(ValueError, match=r"state\['v.w'\] must be >= 0"):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    state = opt.state_dict() | {"t": np.array(-1)}
    with pytest.raises(
        ValueError, match=r"state\['t'\] must be an integer >= 0"
    ):
        opt.load_state_dict(state)
