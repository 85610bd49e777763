"""The regularisers of AWD-LSTM (Merity et al. 2018), each a few lines, each used once.

- :func:`embedding_dropout`: drop whole rows of the embedding matrix, so a word is missing
  everywhere it occurs in the batch (Gal and Ghahramani 2016).
- :class:`LockedDropout`: variational dropout, one mask per sequence shared by every
  time step (Gal and Ghahramani 2016), between layers and on the output.
- :class:`WeightDrop`: DropConnect on a recurrent layer's hidden-to-hidden weights, one
  mask per forward pass (Wan et al. 2013; Merity et al. 2018).
- :func:`activation_penalty`: activation regularisation (AR, the size of the dropped
  output) and temporal activation regularisation (TAR, the change of the raw output from
  one step to the next) (Merity et al. 2017).

Weight tying and weight decay need no code of their own: the model shares one tensor
between embedding and decoder, and the optimizer's ``weight_decay`` does the rest.
Every regulariser acts in training mode only; in eval mode each is the identity.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from lstm_tutorial import checks


def _check_p(name: str, p: Any) -> float:
    return checks.fraction(name, p, open_high=True)


def embedding_dropout(
    embedding: nn.Embedding, ids: torch.Tensor, p: float, training: bool
) -> torch.Tensor:
    """Look ``ids`` up in ``embedding`` with each word's row dropped with
    probability p (the kept rows scaled by 1 / (1 - p)); the plain lookup
    when not training."""
    checks.instance("embedding", embedding, nn.Embedding, "an nn.Embedding")
    checks.tensor("ids", ids, dtype=torch.int64)
    p = _check_p("p", p)
    checks.boolean("training", training)
    weight = embedding.weight
    if training and p > 0:
        keep = weight.new_empty((weight.shape[0], 1)).bernoulli_(1 - p)
        weight = weight * keep / (1 - p)
    return nn.functional.embedding(ids, weight)


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence: x (B, T, F) loses the same features at every
    step t. The identity in eval mode or at p = 0."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = _check_p("p", p)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.tensor("x", x, ndim=3, floating=True)
        if not self.training or self.p == 0:
            return x
        mask = x.new_empty((x.shape[0], 1, x.shape[2])).bernoulli_(1 - self.p)
        return x * mask / (1 - self.p)


class WeightDrop(nn.Module):
    """A recurrent layer whose hidden-to-hidden weights lose each entry with probability
    p for a whole forward pass (DropConnect); called as the layer it wraps.

    The layer keeps its parameters; in training mode each call runs it with a dropped copy
    (``torch.func.functional_call``), so the gradient reaches the kept entries and every
    time step of the sequence sees the same mask.
    """

    def __init__(self, layer: nn.Module, p: float) -> None:
        super().__init__()
        checks.instance("layer", layer, nn.Module, "a recurrent nn.Module")
        self.p = _check_p("p", p)
        self.names = [
            n for n, _ in layer.named_parameters() if "weight_hh" in n
        ]
        if not self.names:
            raise ValueError(
                "layer has no hidden-to-hidden weight (weight_hh_l0) to drop: "
                f"got {type(layer).__name__}"
            )
        self.layer = layer

    def extra_repr(self) -> str:
        return f"p={self.p}, weights={self.names}"

    def forward(self, *args: Any) -> Any:
        if not self.training or self.p == 0:
            return self.layer(*args)
        params = dict(self.layer.named_parameters())
        dropped = {
            n: nn.functional.dropout(params[n], self.p, training=True)
            for n in self.names
        }
        return functional_call(self.layer, dropped, args)


def activation_penalty(
    raw: torch.Tensor, dropped: torch.Tensor, ar: float, tar: float
) -> torch.Tensor:
    """AR + TAR of the last layer's outputs, both (B, T, H):
    ``ar * mean(dropped**2) + tar * mean((raw[:, 1:] - raw[:, :-1])**2)``."""
    checks.tensor("raw", raw, ndim=3, floating=True)
    checks.tensor("dropped", dropped, ndim=3, floating=True, shape=raw.shape)
    ar = checks.number("ar", ar, minimum=0.0)
    tar = checks.number("tar", tar, minimum=0.0)
    penalty = raw.new_zeros(())
    if ar:
        penalty = penalty + ar * dropped.pow(2).mean()
    if tar and raw.shape[1] > 1:
        penalty = penalty + tar * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
    return penalty
