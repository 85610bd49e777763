"""Part II's NumPy language model and Part V's PyTorch one, trained side by side.

:func:`textlm_from_charlm` builds a one-layer-per-layer :class:`lstm_tutorial.textlm.TextLM`
holding exactly the weights of a :class:`lstm_tutorial.charlm.CharLM` (the parameter names
already follow torch's). :func:`race` then trains both from the same start on the same
batches for a few steps, with the same optimiser (Adam, the same betas and epsilon), the
same clipping of the gradients' global norm and the same carried state, and returns both
loss curves and the time of each step: the same numbers up to float32 rounding, and how
much faster PyTorch takes each step.
"""

from __future__ import annotations

import statistics
import time
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.bptt import clip_grad_norm
from lstm_tutorial.chardata import bptt_batches
from lstm_tutorial.charlm import CharLM
from lstm_tutorial.optim import Adam
from lstm_tutorial.textlm import TextLM, detach_state, lm_loss
from lstm_tutorial.train_numpy import TrainConfig, prepare_data


def textlm_from_charlm(model: CharLM) -> TextLM:
    """A TextLM with ``model``'s weights: its embedding, its L LSTM layers (one
    ``nn.LSTM`` each) and its decoder, float32."""
    checks.instance("model", model, CharLM, "a CharLM (an LSTM, not a CharRNN)")
    if model.embed_size is None or model.cell != "lstm":
        raise ValueError(
            "model must be an LSTM CharLM with an embedding (embed_size set)"
        )
    torch_model = TextLM(
        model.vocab_size,
        num_layers=model.num_layers,
        embed_size=model.embed_size,
        hidden_size=model.hidden_size,
    )
    state = {}
    for name, value in model.state_dict().items():
        if name.startswith("lstm."):  # lstm.weight_ih_l1 -> layers.1.layer...
            kind, layer = name[len("lstm.") :].rsplit("_l", 1)
            name = f"layers.{layer}.layer.{kind}_l0"
        state[name] = torch.tensor(np.asarray(value, dtype=np.float32))
    torch_model.load_state_dict(state)
    return torch_model


class Race(NamedTuple):
    """What :func:`race` measured, one entry per step."""

    numpy_loss: list[float]
    torch_loss: list[float]
    numpy_seconds: list[float]
    torch_seconds: list[float]

    @property
    def speedup(self) -> float:
        """Median NumPy step time / median PyTorch step time."""
        return statistics.median(self.numpy_seconds) / statistics.median(
            self.torch_seconds
        )


def race(config: TrainConfig, steps: int) -> Race:
    """Train ``config``'s CharLM (Part II) and its TextLM copy for ``steps`` updates on
    the same batches; both start from the same weights."""
    checks.instance("config", config, TrainConfig, "a TrainConfig")
    steps = checks.positive_int("steps", steps)
    if config.cell != "lstm" or config.embed_size is None:
        raise ValueError("config must describe an LSTM with an embedding")
    if config.dtype != "float32":
        raise ValueError(
            f"config.dtype must be 'float32' (both models race in float32), "
            f"got {config.dtype!r}"
        )
    try:
        vocab, train_ids, _ = prepare_data(config)
    except ValueError as err:  # a text too short for the config's batches
        raise ValueError(f"config cannot be raced: {err}") from None
    B, T = config.batch_size, config.seq_len
    available = (len(train_ids) - 1) // B // T
    if steps > available:
        raise ValueError(
            f"steps must be at most {available}, the full batches of config's "
            f"training text, got {steps}"
        )
    model = CharLM(
        vocab.size,
        config.embed_size,
        config.hidden_size,
        config.num_layers,
        dtype=np.float32,
        seed=config.seed,
    )
    twin = textlm_from_charlm(model)
    adam = Adam(model.parameters(), lr=config.lr)
    torch_adam = torch.optim.Adam(twin.parameters(), lr=config.lr)
    out = Race([], [], [], [])
    state = twin_state = None
    batches = bptt_batches(train_ids, B, T, drop_last=True)
    for _, (x, y) in zip(range(steps), batches, strict=False):
        start = time.perf_counter()
        loss, grads, state = model.loss_and_grads(x, y, state)
        clip_grad_norm(grads, config.max_grad_norm)
        adam.step(grads)
        out.numpy_seconds.append(time.perf_counter() - start)
        out.numpy_loss.append(float(loss))
        inputs = torch.from_numpy(np.ascontiguousarray(x.T))  # (B, T)
        targets = torch.from_numpy(np.ascontiguousarray(y.T))
        start = time.perf_counter()
        torch_loss, result = lm_loss(twin, inputs, targets, twin_state)
        torch_adam.zero_grad()
        torch_loss.backward()
        nn.utils.clip_grad_norm_(twin.parameters(), config.max_grad_norm)
        torch_adam.step()
        twin_state = detach_state(result.state)
        out.torch_seconds.append(time.perf_counter() - start)
        out.torch_loss.append(float(torch_loss.detach()))
    return out
