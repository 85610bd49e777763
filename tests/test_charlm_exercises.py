"""The checks of the language-model exercises pass the reference solutions and say what
is wrong with wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_tutorial.charlm import cross_entropy
from lstm_tutorial.charlm_exercises import (
    check_adam_step,
    check_cross_entropy,
    check_rnn_hidden_size,
)


def my_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    T, B, V = logits.shape
    y = np.eye(V)[targets]
    loss = -np.mean(np.sum(y * np.log(p), axis=-1))
    return loss, (p - y) / (T * B)


def my_adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_the_reference_solutions_pass(capsys):
    assert check_cross_entropy(my_cross_entropy)
    assert check_cross_entropy(cross_entropy)
    assert check_adam_step(my_adam_step)
    out = capsys.readouterr().out
    assert "torch.optim.Adam: right" in out and out.count("All correct.") == 3


def test_a_gradient_without_the_mean_is_caught_and_located(capsys):
    def no_mean(logits, targets):
        loss, grad = my_cross_entropy(logits, targets)
        return loss, grad * logits.shape[0] * logits.shape[1]

    assert not check_cross_entropy(no_mean)
    out = capsys.readouterr().out
    assert "loss: right" in out and "grad against the package: wrong" in out
    assert "at index" in out and "Not yet" in out


def test_wrong_shapes_and_types_are_reported_not_raised(capsys):
    assert not check_cross_entropy(lambda logits, targets: 1.0)
    assert not check_cross_entropy(
        lambda logits, targets: (1.0, np.zeros((4, 3)))
    )
    out = capsys.readouterr().out
    assert "expected a tuple (loss, grad)" in out
    assert "grad: expected shape (4, 3, 6), got (4, 3)" in out


def test_adam_without_bias_correction_is_caught_at_the_first_step(capsys):
    def uncorrected(p, g, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        return p - lr * m / (np.sqrt(v) + eps), m, v

    assert not check_adam_step(uncorrected)
    out = capsys.readouterr().out
    assert "step 1 (t = 1) differs from optim.Adam" in out
    assert "m: right" in out and "p: wrong" in out


def test_the_argument_must_be_callable():
    with pytest.raises(TypeError, match="fn"):
        check_cross_entropy(3)
    with pytest.raises(TypeError, match="fn"):
        check_adam_step(None)


def my_rnn_hidden_size(D, H):
    target = 4 * (H * (D + H) + 2 * H)

    def weights(h):
        return h * (D + h) + 2 * h

    root = (-(D + 2) + math.sqrt((D + 2) ** 2 + 4 * target)) / 2
    low = max(1, math.floor(root))
    return min((low, low + 1), key=lambda h: (abs(weights(h) - target), h))


def test_the_matching_size_check_passes_the_solution_and_explains_a_miss(
    capsys,
):
    assert check_rnn_hidden_size(my_rnn_hidden_size)
    assert not check_rnn_hidden_size(
        lambda D, H: 2 * H
    )  # the rule of thumb "twice"
    out = capsys.readouterr().out
    assert "D =  32, H = 128: right, H_rnn = 272" in out
    assert "expected 272, got 256: the LSTM has 82,944 weights" in out
    assert not check_rnn_hidden_size(lambda D, H: "272")
    assert "expected an int" in capsys.readouterr().out
    with pytest.raises(TypeError, match="fn"):
        check_rnn_hidden_size([])
