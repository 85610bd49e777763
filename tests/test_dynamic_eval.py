"""Dynamic evaluation: scored before learned from, one stream, the model left alone."""

from __future__ import annotations

import pytest
import torch

from lstm_tutorial.dynamic_eval import dynamic_evaluate
from lstm_tutorial.text import StreamBatches
from lstm_tutorial.textlm import TextLM, evaluate


def _model():
    torch.manual_seed(0)
    return TextLM(12, num_layers=1, embed_size=4, hidden_size=16)


def test_rate_zero_is_the_static_evaluation_of_one_stream():
    model, ids = _model(), torch.randint(0, 12, (201,))
    static = evaluate(model, StreamBatches(ids, 1, 20))
    got = dynamic_evaluate(model, ids, lr=0.0, seq_len=20)
    assert got["loss"] == pytest.approx(static["loss"], rel=1e-6)
    assert got["tokens"] == static["tokens"] == 200


def test_each_window_is_scored_before_the_model_sees_it():
    # Two texts that agree on their first 101 tokens: the first ten windows of ten
    # targets cost the same in both, however the model adapts to the rest.
    model = _model()
    a = torch.randint(0, 12, (301,))
    b = a.clone()
    b[101:] = torch.randint(0, 12, (200,))
    got_a = dynamic_evaluate(model, a, lr=0.5, seq_len=10)["window_loss"]
    got_b = dynamic_evaluate(model, b, lr=0.5, seq_len=10)["window_loss"]
    assert got_a[:10] == got_b[:10]
    assert got_a[10:] != got_b[10:]


def test_adapting_helps_on_a_repeating_text_and_leaves_the_model_alone():
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    ids = torch.arange(12).repeat(40)
    static = dynamic_evaluate(model, ids, lr=0.0, seq_len=12)["loss"]
    adapted = dynamic_evaluate(model, ids, lr=1.0, seq_len=12)["loss"]
    assert adapted < static - 0.3
    for p, q in zip(model.parameters(), before, strict=True):
        assert torch.equal(p, q)


def test_refuses_bad_input():
    with pytest.raises(TypeError, match="model"):
        dynamic_evaluate("m", torch.arange(10), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        dynamic_evaluate(_model(), torch.arange(10), lr=-1.0)
    with pytest.raises(TypeError, match="ids"):
        dynamic_evaluate(_model(), torch.arange(10.0), lr=0.1)
