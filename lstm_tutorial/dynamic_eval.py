"""Dynamic evaluation: a language model that keeps learning from the text it reads.

A compressor such as lzma adapts as it reads: a passage it has seen once costs little the
second time. A trained language model is static. Dynamic evaluation (Krause et al. 2018)
lets it adapt too, honestly: the text is read in order, one stream, window by window; each
window is scored first, and only then does the model take one gradient step on it. No
token is ever predicted by a model that has seen it, so the bits it costs are a fair
compression of the text, as a compressor's are.

One stream (B = 1) is the point: with B streams side by side, stream b + 1 starts later in
the text than stream b, and learning from it would let the model see the future of stream
b. :func:`dynamic_evaluate` therefore takes the ids of the text and lays out one stream.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.text import StreamBatches
from lstm_tutorial.textlm import TextLM, detach_state, lm_loss


def dynamic_evaluate(
    model: TextLM,
    ids: torch.Tensor,
    *,
    lr: float,
    seq_len: int = 50,
    clip_norm: float = 1.0,
) -> dict[str, float]:
    """Read ``ids`` in windows of ``seq_len``, scoring each window before
    one SGD step of rate ``lr`` on it, on a copy of ``model`` (the model
    itself is unchanged). Returns ``loss`` (nats per token),
    ``bits_per_token``, ``tokens`` and each window's mean loss,
    ``window_loss``; ``lr=0`` gives the static evaluation of the same
    windows."""
    checks.instance("model", model, TextLM, "a TextLM")
    vocab_size = model.embedding.num_embeddings
    checks.id_tensor("ids", ids, vocab_size, ndim=1)
    lr = checks.number("lr", lr, minimum=0.0)
    checks.positive_int("seq_len", seq_len)
    checks.positive_number("clip_norm", clip_norm)
    # one stream; refuses too few ids for one window
    stream = StreamBatches(ids, 1, seq_len)
    reader = copy.deepcopy(model).eval()  # no dropout; gradients still flow
    sgd = torch.optim.SGD(reader.parameters(), lr=lr)
    windows, count, state = [], 0, None
    for inputs, targets in stream:
        loss, out = lm_loss(reader, inputs, targets, state)
        windows.append(float(loss.detach()))  # scored first
        count += targets.numel()
        if lr > 0:  # then learned from
            sgd.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(reader.parameters(), clip_norm)
            sgd.step()
        state = detach_state(out.state)
    sizes = [min(seq_len, count - k * seq_len) for k in range(len(windows))]
    loss = sum(w * n for w, n in zip(windows, sizes, strict=True)) / count
    return {
        "loss": loss,
        "bits_per_token": loss / math.log(2),
        "tokens": count,
        "window_loss": windows,
    }
