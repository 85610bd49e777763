"""The NumPy character language model: loss and gradients against torch and finite
differences, state carried across batches, the step interface, parameters and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_tutorial.charlm import (
    MODELS,
    CharLM,
    CharRNN,
    bits_per_char,
    cross_entropy,
    log_softmax,
    perplexity,
    rnn_layer_backward,
    rnn_layer_forward,
)
from lstm_tutorial.gradcheck import check_gradients

V, E, H, L, T, B = 7, 5, 6, 2, 5, 3


class TorchCharLM(torch.nn.Module):
    """The same model from torch's parts, with the same attribute names."""

    def __init__(self, embed_size, dtype):
        super().__init__()
        self.embed_size = embed_size
        if embed_size is not None:
            self.embedding = torch.nn.Embedding(V, embed_size, dtype=dtype)
        D = V if embed_size is None else embed_size
        self.lstm = torch.nn.LSTM(D, H, L, dtype=dtype)
        self.decoder = torch.nn.Linear(H, V, dtype=dtype)

    def forward(self, ids, state):
        if self.embed_size is None:
            x = torch.nn.functional.one_hot(ids, V).to(
                self.decoder.weight.dtype
            )
        else:
            x = self.embedding(ids)
        out, new_state = self.lstm(x, state)
        return self.decoder(out), new_state


def batch(rng):
    inputs = rng.integers(0, V, (T, B))
    targets = rng.integers(0, V, (T, B))
    return inputs, targets


@pytest.mark.parametrize("embed_size", [None, E], ids=["one-hot", "embedding"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_grads_match_torch_autograd(embed_size, dtype):
    rng = np.random.default_rng(0)
    model = CharLM(V, embed_size, H, num_layers=L, dtype=dtype, seed=1)
    inputs, targets = batch(rng)
    state = tuple(rng.normal(size=(L, B, H)).astype(dtype) for _ in range(2))
    loss, grads, (h_n, c_n) = model.loss_and_grads(inputs, targets, state)

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    reference = TorchCharLM(embed_size, tdtype)
    reference.load_state_dict(
        {k: torch.from_numpy(v) for k, v in model.state_dict().items()}
    )
    logits, (th_n, tc_n) = reference(
        torch.from_numpy(inputs), tuple(torch.from_numpy(s) for s in state)
    )
    t_loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, V), torch.from_numpy(targets).reshape(-1)
    )
    t_loss.backward()

    tol = 1e-10 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(t_loss.item(), abs=tol)
    np.testing.assert_allclose(h_n, th_n.detach().numpy(), atol=tol)
    np.testing.assert_allclose(c_n, tc_n.detach().numpy(), atol=tol)
    t_grads = {k: p.grad.numpy() for k, p in reference.named_parameters()}
    assert list(grads) == list(t_grads) == list(model.parameters())
    for name, g in grads.items():
        assert g.dtype == dtype and g.shape == t_grads[name].shape, name
        np.testing.assert_allclose(g, t_grads[name], atol=tol, err_msg=name)


@pytest.mark.parametrize("embed_size", [None, E], ids=["one-hot", "embedding"])
def test_gradients_match_finite_differences(embed_size):
    rng = np.random.default_rng(1)
    model = CharLM(
        5, None if embed_size is None else 3, 4, num_layers=2, dtype=np.float64
    )
    inputs, targets = rng.integers(0, 5, (6, 2)), rng.integers(0, 5, (6, 2))
    state = (rng.normal(size=(2, 2, 4)), rng.normal(size=(2, 2, 4)))
    _, grads, _ = model.loss_and_grads(inputs, targets, state)

    def loss(
        **params,
    ):  # the parameters are changed in place by check_gradients
        return model.loss(inputs, targets, state)[0]

    report = check_gradients(
        loss, model.parameters(), grads, eps=1e-4, floor=1e-6
    )
    assert report.passed(1e-5), str(report)


def test_state_carried_across_batches_gives_the_same_logits_as_one_long_batch():
    rng = np.random.default_rng(2)
    model = CharLM(V, E, H, num_layers=L, dtype=np.float64)
    ids = rng.integers(0, V, (2 * T, B))
    whole, _ = model.forward(ids)
    first, state = model.forward(ids[:T])
    second, _ = model.forward(ids[T:], state)
    np.testing.assert_allclose(
        np.concatenate([first, second]), whole, atol=1e-12
    )


def test_gradient_stops_at_the_initial_state():
    # With truncated BPTT the state from the previous batch is a constant: the parameter
    # gradients are those of a model whose h0, c0 are fixed inputs (torch: detached).
    rng = np.random.default_rng(3)
    model = CharLM(V, E, H, dtype=np.float64)
    (x1, y1), (x2, y2) = batch(rng), batch(rng)
    _, _, state = model.loss_and_grads(x1, y1)
    _, grads, _ = model.loss_and_grads(x2, y2, state)
    reference = TorchCharLM(E, torch.float64)
    reference.lstm = torch.nn.LSTM(E, H, 1, dtype=torch.float64)
    reference.load_state_dict(
        {k: torch.from_numpy(v) for k, v in model.state_dict().items()}
    )
    _, t_state = reference(torch.from_numpy(x1), None)
    logits, _ = reference(
        torch.from_numpy(x2), tuple(s.detach() for s in t_state)
    )
    torch.nn.functional.cross_entropy(
        logits.reshape(-1, V), torch.from_numpy(y2).reshape(-1)
    ).backward()
    for name, p in reference.named_parameters():
        np.testing.assert_allclose(
            grads[name], p.grad.numpy(), atol=1e-10, err_msg=name
        )


def test_step_gives_the_log_softmax_of_forward():
    rng = np.random.default_rng(4)
    model = CharLM(V, None, H, num_layers=L, dtype=np.float64)
    ids = rng.integers(0, V, (T, B))
    logits, (h_n, c_n) = model.forward(ids)
    state = model.start_state(B)
    for t in range(T):
        log_probs, state = model.step(ids[t], state)
        assert log_probs.shape == (B, V) and log_probs.dtype == np.float64
        np.testing.assert_allclose(
            log_probs, log_softmax(logits[t]), atol=1e-12
        )
    np.testing.assert_allclose(state[0], h_n, atol=1e-12)
    np.testing.assert_allclose(state[1], c_n, atol=1e-12)
    picked = model.select_state(state, np.array([2, 0]))
    np.testing.assert_array_equal(picked[0], state[0][:, [2, 0]])


def test_cross_entropy_and_its_three_units():
    logits = np.zeros((2, 3, V))
    targets = np.zeros((2, 3), dtype=np.int64)
    loss, grad = cross_entropy(logits, targets)
    assert loss == pytest.approx(math.log(V))  # uniform guess: ln V nats
    assert perplexity(loss) == pytest.approx(
        V
    )  # ... a choice among V characters
    assert bits_per_char(loss) == pytest.approx(math.log2(V))
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-15)
    np.testing.assert_allclose(grad[..., 0], (1 / V - 1) / 6)


def test_log_softmax_is_stable_for_huge_scores():
    out = log_softmax(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.isfinite(out[0, :2]).all()
    assert out[0, 0] == pytest.approx(0.0)


def test_parameters_state_dict_and_seed():
    model = CharLM(V, E, H, num_layers=L, seed=5)
    names = list(model.parameters())
    assert names[0] == "embedding.weight" and names[-2:] == [
        "decoder.weight",
        "decoder.bias",
    ]
    assert all(p.dtype == np.float32 for p in model.parameters().values())
    assert model.num_parameters() == sum(
        p.size for p in model.parameters().values()
    )
    same = CharLM(V, E, H, num_layers=L, seed=5)
    other = CharLM(V, E, H, num_layers=L, seed=6)
    for name, p in model.state_dict().items():
        np.testing.assert_array_equal(p, same.parameters()[name])
    other.load_state_dict(model.state_dict())
    for name, p in model.parameters().items():
        np.testing.assert_array_equal(p, other.parameters()[name])
    assert "embedding.weight" not in CharLM(V, None, H).parameters()


def test_bad_input_is_refused_with_a_clear_message():
    model = CharLM(V, E, H)
    with pytest.raises(ValueError, match=r"shape \(T, B\)"):
        model.forward(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"\[0, 7\)"):
        model.forward(np.full((2, 2), 7))
    with pytest.raises(TypeError, match="ids must hold integer ids"):
        model.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="targets"):
        model.loss_and_grads(
            np.zeros((2, 2), dtype=np.int64), np.zeros((3, 2), dtype=np.int64)
        )
    with pytest.raises(ValueError, match="embed_size"):
        CharLM(V, 0, H)
    with pytest.raises(ValueError, match="missing"):
        model.load_state_dict({})
    with pytest.raises(ValueError, match="forward pass first"):
        CharLM(V, E, H).backward(np.zeros((1, 1, V), dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# Bad input that the harness of test_bad_input_text.py cannot express
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", torch.float32, None, float])
def test_dtype_must_be_a_numpy_float_dtype_not_a_string_or_a_torch_dtype(dtype):
    with pytest.raises(
        TypeError, match="dtype must be np.float32 or np.float64"
    ):
        CharLM(V, E, H, dtype=dtype)


def test_a_numpy_dtype_object_is_accepted_as_the_checkpoint_loader_passes_it():
    assert CharLM(V, E, H, dtype=np.dtype("float64")).dtype == np.float64


def test_targets_outside_the_vocabulary_are_refused_not_wrapped():
    logits = np.zeros((2, 3, V))
    targets = np.zeros((2, 3), dtype=np.int64)
    targets[1, 2] = -1  # np.take_along_axis would pick the last class
    with pytest.raises(
        ValueError, match=r"targets must hold ids in \[0, 7\).*got -1"
    ):
        cross_entropy(logits, targets)
    targets[1, 2] = V  # would be a bare IndexError from NumPy
    with pytest.raises(
        ValueError, match=r"targets must hold ids in \[0, 7\).*got 7"
    ):
        cross_entropy(logits, targets)
    model = CharLM(V, E, H)
    with pytest.raises(ValueError, match="targets must hold ids"):
        model.loss_and_grads(np.zeros((2, 3), dtype=np.int64), targets)


def test_negative_input_ids_are_refused_for_both_input_layers():
    ids = np.zeros((2, 3), dtype=np.int64)
    ids[
        0, 0
    ] = (
        -1
    )  # an embedding row or one-hot position would wrap to the last character
    for embed_size in (None, E):
        with pytest.raises(
            ValueError, match=r"ids must hold ids in \[0, 7\).*got -1"
        ):
            CharLM(V, embed_size, H).forward(ids)


def test_ids_may_be_lists_of_ints_with_the_same_result_as_arrays():
    model = CharLM(V, E, H, dtype=np.float64)
    ids = [[1, 2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(
        model.forward(ids)[0], model.forward(np.array(ids))[0]
    )
    with pytest.raises(
        TypeError, match="ids must hold integer ids, got booleans"
    ):
        model.forward([[True, False]])


def test_empty_batches_are_refused_before_any_reduction():
    model = CharLM(V, E, H)
    with pytest.raises(ValueError, match="ids must not be empty"):
        model.forward(np.zeros((0, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="inputs must not be empty"):
        model.loss(
            np.zeros((3, 0), dtype=np.int64), np.zeros((3, 0), dtype=np.int64)
        )
    with pytest.raises(ValueError, match="logits must not be empty"):
        cross_entropy(np.zeros((0, 2, V)), np.zeros((0, 2), dtype=np.int64))


def test_a_state_of_another_batch_size_is_refused_not_broadcast():
    model = CharLM(V, E, H, num_layers=L)
    state = model.start_state(1)  # (L, 1, H) would broadcast over a batch of 3
    with pytest.raises(
        ValueError, match=r"state\[0\] \(h\) must have shape .*batch of 3"
    ):
        model.forward(np.zeros((T, 3), dtype=np.int64), state)
    with pytest.raises(
        ValueError, match=r"state\[0\] \(h\) must have shape .*batch of 3"
    ):
        model.step(np.zeros(3, dtype=np.int64), state)
    with pytest.raises(ValueError, match=r"state\[0\] \(h\) must have shape"):
        model.loss(
            np.zeros((T, 3), dtype=np.int64),
            np.zeros((T, 3), dtype=np.int64),
            state,
        )


def test_a_state_of_another_dtype_is_refused_not_upcast():
    model = CharLM(V, E, H, num_layers=L)  # float32
    h, c = CharLM(V, E, H, num_layers=L, dtype=np.float64).start_state(B)
    with pytest.raises(
        TypeError, match=r"state\[0\] \(h\) must have dtype float32"
    ):
        model.forward(np.zeros((T, B), dtype=np.int64), (h, c))
    h32 = h.astype(np.float32)
    with pytest.raises(
        TypeError, match=r"state\[1\] \(c\) must have dtype float32"
    ):
        model.step(np.zeros(B, dtype=np.int64), (h32, c))


def test_targets_must_have_the_shape_of_inputs():
    model = CharLM(V, E, H)
    inputs = np.zeros((T, B), dtype=np.int64)
    with pytest.raises(
        ValueError,
        match=r"targets must have the shape of inputs, \(5, 3\), got \(5, 4\)",
    ):
        model.loss(inputs, np.zeros((T, B + 1), dtype=np.int64))


def test_backward_refuses_a_gradient_that_does_not_fit_the_last_forward():
    model = CharLM(V, E, H, dtype=np.float64)
    model.forward(np.zeros((T, B), dtype=np.int64))
    with pytest.raises(
        ValueError,
        match=r"grad_logits must have shape \(5, 3, 7\), got \(5, 4, 7\)",
    ):
        model.backward(np.zeros((T, B + 1, V)))
    with pytest.raises(TypeError, match="grad_logits must have dtype float64"):
        model.backward(np.zeros((T, B, V), dtype=np.float32))


def test_a_diverged_loss_still_gives_gradients_so_training_can_report_it():
    # Logits, losses and gradients are not checked for NaN: the training loop turns a
    # diverged step into TrainingDiverged, which must not be pre-empted by a ValueError.
    model = CharLM(V, E, H, dtype=np.float64)
    model.decoder_bias[0] = np.nan
    loss, grads, _ = model.loss_and_grads(
        np.zeros((T, B), np.int64), np.zeros((T, B), np.int64)
    )
    assert math.isnan(loss) and not np.isfinite(grads["decoder.bias"]).all()
    assert math.isnan(bits_per_char(loss)) and math.isnan(perplexity(loss))
    assert perplexity(1e6) == math.inf


def test_bits_and_perplexity_refuse_negative_or_non_numeric_nats():
    with pytest.raises(
        ValueError, match=r"nats \(a cross-entropy\) must be a number >= 0"
    ):
        bits_per_char(-0.5)
    with pytest.raises(TypeError, match="nats"):
        perplexity(True)


def test_load_state_dict_checks_every_entry_before_changing_anything():
    model = CharLM(V, E, H, seed=0)
    before = model.state_dict()
    bad = CharLM(V, E, H, seed=1).state_dict()
    bad["decoder.bias"] = np.full(V, np.nan, dtype=np.float32)  # the last entry
    with pytest.raises(
        ValueError, match=r"state_dict\['decoder.bias'\] must hold finite"
    ):
        model.load_state_dict(bad)
    for name, p in model.parameters().items():
        np.testing.assert_array_equal(p, before[name])
    with pytest.raises(TypeError, match="state_dict must be a mapping"):
        model.load_state_dict(list(before.values()))


def test_select_state_refuses_rows_outside_the_batch():
    model = CharLM(V, E, H)
    state = model.start_state(2)
    with pytest.raises(
        ValueError, match=r"rows must hold sequence numbers in \[0, 2\)"
    ):
        model.select_state(
            state, np.array([0, -1])
        )  # would wrap to the last sequence
    with pytest.raises(
        ValueError, match=r"rows must hold sequence numbers in \[0, 2\)"
    ):
        model.select_state(state, np.array([2]))


# ---------------------------------------------------------------------------------------------
# The plain RNN version
# ---------------------------------------------------------------------------------------------


class TorchCharRNN(torch.nn.Module):
    """CharRNN from torch's parts, with the same attribute names."""

    def __init__(self, embed_size, dtype, num_layers=L):
        super().__init__()
        self.embed_size = embed_size
        if embed_size is not None:
            self.embedding = torch.nn.Embedding(V, embed_size, dtype=dtype)
        D = V if embed_size is None else embed_size
        self.rnn = torch.nn.RNN(D, H, num_layers, dtype=dtype)
        self.decoder = torch.nn.Linear(H, V, dtype=dtype)

    def forward(self, ids, h0):
        if self.embed_size is None:
            x = torch.nn.functional.one_hot(ids, V).to(
                self.decoder.weight.dtype
            )
        else:
            x = self.embedding(ids)
        out, h_n = self.rnn(x, h0)
        return self.decoder(out), h_n


@pytest.mark.parametrize("embed_size", [None, E], ids=["one-hot", "embedding"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rnn_loss_and_grads_match_torch_autograd(embed_size, dtype):
    rng = np.random.default_rng(0)
    model = CharRNN(V, embed_size, H, num_layers=L, dtype=dtype, seed=1)
    inputs, targets = batch(rng)
    h0 = rng.normal(size=(L, B, H)).astype(dtype)
    loss, grads, h_n = model.loss_and_grads(inputs, targets, h0)

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    reference = TorchCharRNN(embed_size, tdtype)
    reference.load_state_dict(
        {k: torch.from_numpy(v) for k, v in model.state_dict().items()}
    )
    logits, t_h_n = reference(torch.from_numpy(inputs), torch.from_numpy(h0))
    t_loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, V), torch.from_numpy(targets).reshape(-1)
    )
    t_loss.backward()

    tol = 1e-10 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(t_loss.item(), abs=tol)
    np.testing.assert_allclose(h_n, t_h_n.detach().numpy(), atol=tol)
    t_grads = {k: p.grad.numpy() for k, p in reference.named_parameters()}
    assert list(grads) == list(t_grads) == list(model.parameters())
    for name, g in grads.items():
        assert g.dtype == dtype and g.shape == t_grads[name].shape, name
        np.testing.assert_allclose(g, t_grads[name], atol=tol, err_msg=name)


@pytest.mark.parametrize("embed_size", [None, 3], ids=["one-hot", "embedding"])
def test_rnn_gradients_match_finite_differences(embed_size):
    rng = np.random.default_rng(1)
    model = CharRNN(5, embed_size, 4, num_layers=2, dtype=np.float64)
    inputs, targets = rng.integers(0, 5, (6, 2)), rng.integers(0, 5, (6, 2))
    h0 = rng.normal(size=(2, 2, 4))
    _, grads, _ = model.loss_and_grads(inputs, targets, h0)

    def loss(
        **params,
    ):  # the parameters are changed in place by check_gradients
        return model.loss(inputs, targets, h0)[0]

    report = check_gradients(
        loss, model.parameters(), grads, eps=1e-4, floor=1e-6
    )
    assert report.passed(1e-5), str(report)


def test_rnn_layer_backward_matches_torch_for_the_input_gradient():
    rng = np.random.default_rng(7)
    x, h0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))
    w_ih, w_hh = rng.normal(size=(4, 3)), rng.normal(size=(4, 4)) * 0.5
    b_ih, b_hh = rng.normal(size=4), rng.normal(size=4)
    h = rnn_layer_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    dh = rng.normal(size=h.shape)
    dx, grads = rnn_layer_backward(x, h0, h, w_ih, w_hh, dh)
    t = {
        n: torch.tensor(v, requires_grad=True)
        for n, v in {
            "x": x,
            "w_ih": w_ih,
            "w_hh": w_hh,
            "b_ih": b_ih,
            "b_hh": b_hh,
        }.items()
    }
    h_t, outs = torch.from_numpy(h0), []
    for step in range(5):
        h_t = torch.tanh(
            t["x"][step] @ t["w_ih"].T
            + t["b_ih"]
            + h_t @ t["w_hh"].T
            + t["b_hh"]
        )
        outs.append(h_t)
    out = torch.stack(outs)
    np.testing.assert_allclose(h, out.detach().numpy(), atol=1e-12)
    (out * torch.from_numpy(dh)).sum().backward()
    np.testing.assert_allclose(dx, t["x"].grad.numpy(), atol=1e-12)
    for name, key in (
        ("weight_ih", "w_ih"),
        ("weight_hh", "w_hh"),
        ("bias_ih", "b_ih"),
        ("bias_hh", "b_hh"),
    ):
        np.testing.assert_allclose(grads[name], t[key].grad.numpy(), atol=1e-12)


def test_rnn_step_carried_state_and_checkpoint_config():
    rng = np.random.default_rng(4)
    model = CharRNN(V, E, H, num_layers=L, dtype=np.float64)
    ids = rng.integers(0, V, (2 * T, B))
    logits, h_n = model.forward(ids)
    first, state = model.forward(ids[:T])
    second, _ = model.forward(ids[T:], state)
    np.testing.assert_allclose(
        np.concatenate([first, second]), logits, atol=1e-12
    )
    state = model.start_state(B)
    for t in range(2 * T):
        log_probs, state = model.step(ids[t], state)
        np.testing.assert_allclose(
            log_probs, log_softmax(logits[t]), atol=1e-12
        )
    np.testing.assert_allclose(state, h_n, atol=1e-12)
    np.testing.assert_array_equal(
        model.select_state(state, np.array([2, 0])), state[:, [2, 0]]
    )
    config = model.config
    assert config["cell"] == "rnn" and CharLM(V, E, H).config["cell"] == "lstm"
    config["dtype"] = np.dtype(config["dtype"])
    again = MODELS[config.pop("cell")](**config)
    assert type(again) is CharRNN and list(again.parameters()) == list(
        model.parameters()
    )
    assert repr(model).startswith("CharRNN(")


def test_rnn_state_is_one_array_not_a_pair():
    model = CharRNN(V, E, H, num_layers=L)
    ids = np.zeros((T, B), dtype=np.int64)
    with pytest.raises(
        TypeError, match="state must be one array h .* no cell state"
    ):
        model.forward(ids, CharLM(V, E, H, num_layers=L).start_state(B))
    with pytest.raises(ValueError, match=r"state must have shape \(L, B, H\)"):
        model.forward(ids, model.start_state(B + 1))


def test_the_lstm_model_is_unchanged_by_the_rnn_hooks():
    # The seed draws the LSTM first, then the embedding, then the decoder, as before.
    model = CharLM(V, E, H, num_layers=L, seed=3)
    rng = np.random.default_rng(3)
    from lstm_tutorial.numpy_lstm import LSTM

    lstm = LSTM(E, H, L, rng=rng)
    for name, p in lstm.named_parameters():
        np.testing.assert_array_equal(model.parameters()[f"lstm.{name}"], p)
    np.testing.assert_array_equal(
        model.embedding, rng.standard_normal((V, E)).astype(np.float32)
    )
