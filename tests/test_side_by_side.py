"""Part II's NumPy model and its PyTorch twin: the same weights, the same training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lstm_tutorial.charlm import CharLM, CharRNN
from lstm_tutorial.side_by_side import race, textlm_from_charlm
from lstm_tutorial.train_numpy import BOOK_CONFIG


@pytest.mark.parametrize("layers", [1, 2])
def test_the_twin_computes_the_numpy_models_logits(layers):
    model = CharLM(11, 5, 7, layers, dtype=np.float32, seed=3)
    twin = textlm_from_charlm(model).eval()
    ids = np.random.default_rng(0).integers(0, 11, (6, 2))  # (T, B)
    logits, _ = model.forward(ids)
    with torch.no_grad():
        got = twin(torch.from_numpy(ids.T.copy())).logits  # (B, T, V)
    np.testing.assert_allclose(
        got.numpy().transpose(1, 0, 2), logits, rtol=1e-5, atol=1e-5
    )


def test_the_two_train_to_the_same_losses():
    config = dataclasses.replace(
        BOOK_CONFIG, hidden_size=16, embed_size=8, batch_size=4, seq_len=8
    )
    result = race(config, 12)
    assert len(result.numpy_loss) == len(result.torch_seconds) == 12
    np.testing.assert_allclose(result.numpy_loss, result.torch_loss, atol=1e-5)
    assert result.numpy_loss[-1] < result.numpy_loss[0] - 0.1
    assert result.speedup > 0


def test_refuses_what_it_cannot_copy():
    with pytest.raises(TypeError, match="model"):
        textlm_from_charlm("model")
    with pytest.raises(ValueError, match="LSTM"):
        textlm_from_charlm(CharRNN(5, 3, 4))
    with pytest.raises(ValueError, match="embedding"):
        textlm_from_charlm(CharLM(5, None, 4))
    with pytest.raises(ValueError, match="steps"):
        race(BOOK_CONFIG, 0)
