"""Tests of the scratch PyTorch LSTM: it must agree with torch.nn.LSTM / torch.nn.LSTMCell.

Every comparison loads the reference module's randomly initialised weights into the scratch
module (``load_state_dict``), feeds both the same input and initial state, and checks the
outputs and the gradients with respect to every parameter, the input and the initial state.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lstm_tutorial import numpy_lstm
from lstm_tutorial.torch_lstm import (
    LSTM,
    LSTMCell,
    autograd_graph,
    lstm_cell_step,
    lstm_layer,
    median_seconds,
)

TOLERANCE = {
    torch.float32: dict(atol=1e-5, rtol=1e-5),
    torch.float64: dict(atol=1e-12, rtol=0),
}


def randn(*shape, dtype=torch.float32, seed=0, requires_grad=False):
    generator = torch.Generator().manual_seed(seed)
    t = torch.randn(*shape, generator=generator, dtype=torch.float64).to(dtype)
    return t.requires_grad_(requires_grad)


def reference_and_scratch(dtype=torch.float32, **kwargs):
    """torch.nn.LSTM with its default random weights, and the scratch LSTM loaded with them."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(**kwargs, dtype=dtype)
    scratch = LSTM(**kwargs, dtype=dtype)
    scratch.load_state_dict(reference.state_dict())
    return reference, scratch


def outputs_and_gradients(module, x, hx=None):
    """Forward, then backward of a loss that weighs every output and final state differently.

    Returns (output, h_n, c_n, grad input, grad h0, grad c0, grads of the parameters).
    """
    x = x.detach().clone().requires_grad_(True)
    if hx is not None:
        hx = tuple(s.detach().clone().requires_grad_(True) for s in hx)
    output, (h_n, c_n) = module(x, hx)
    loss = sum(
        (t * randn(*t.shape, dtype=t.dtype, seed=100 + k).to(t.device)).sum()
        for k, t in enumerate((output, h_n, c_n))
    )
    inputs = [x, *(hx or ()), *module.parameters()]
    grads = torch.autograd.grad(loss, inputs)
    return (output, h_n, c_n, *grads)


def assert_all_close(actual, expected, dtype):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape and a.dtype == e.dtype == dtype
        torch.testing.assert_close(a, e, **TOLERANCE[dtype])


# --------------------------------------------------------------------------------------
# Outputs and gradients against torch
# --------------------------------------------------------------------------------------

# (module arguments, unbatched input?, initial state given?)
CONFIGS = [
    (dict(num_layers=1), False, False),
    (dict(num_layers=2), False, True),
    (dict(num_layers=3), False, False),
    (dict(num_layers=2, batch_first=True), False, True),
    (dict(num_layers=2, bias=False), False, False),
    (dict(num_layers=1), True, False),
    (dict(num_layers=2, batch_first=True), True, True),
    (dict(num_layers=1, bidirectional=True), False, False),
    (dict(num_layers=3, bidirectional=True, batch_first=True), False, True),
    (dict(num_layers=2, bidirectional=True, bias=False), True, True),
]


def config_id(case):
    config, unbatched, given_state = case
    words = [f"{k}={v}" for k, v in config.items()]
    words += ["unbatched"] * unbatched + ["hx"] * given_state
    return ",".join(words)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", CONFIGS, ids=config_id)
def test_lstm_outputs_and_gradients_match_torch(dtype, case):
    config, unbatched, given_state = case
    D, H, T, B = 4, 5, 6, 3
    reference, scratch = reference_and_scratch(
        dtype, input_size=D, hidden_size=H, **config
    )
    directions = 2 if config.get("bidirectional") else 1
    if unbatched:
        x = randn(T, D, dtype=dtype, seed=1)
        state_shape = (config["num_layers"] * directions, H)
    else:
        x = randn(
            *((B, T, D) if config.get("batch_first") else (T, B, D)),
            dtype=dtype,
            seed=1,
        )
        state_shape = (config["num_layers"] * directions, B, H)
    hx = (
        randn(*state_shape, dtype=dtype, seed=2),
        randn(*state_shape, dtype=dtype, seed=3),
    )
    hx = hx if given_state else None
    expected = outputs_and_gradients(reference, x, hx)
    actual = outputs_and_gradients(scratch, x, hx)
    assert_all_close(actual, expected, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [None, 1, 4])  # None: unbatched input (D,)
@pytest.mark.parametrize("given_state", [False, True])
def test_cell_outputs_and_gradients_match_torch_lstm_cell(
    dtype, bias, batch, given_state
):
    D, H = 6, 7
    torch.manual_seed(0)
    reference = torch.nn.LSTMCell(D, H, bias=bias, dtype=dtype)
    cell = LSTMCell(D, H, bias=bias, dtype=dtype)
    cell.load_state_dict(reference.state_dict())
    lead = () if batch is None else (batch,)
    x = randn(*lead, D, dtype=dtype, seed=1)
    hx = (
        randn(*lead, H, dtype=dtype, seed=2),
        randn(*lead, H, dtype=dtype, seed=3),
    )
    hx = hx if given_state else None

    def run(module):
        x_ = x.clone().requires_grad_(True)
        hx_ = (
            None
            if hx is None
            else tuple(s.clone().requires_grad_(True) for s in hx)
        )
        h, c = module(x_, hx_)
        loss = (h * randn(*h.shape, dtype=dtype, seed=4)).sum() + (c * c).sum()
        return (
            h,
            c,
            *torch.autograd.grad(
                loss, [x_, *(hx_ or ()), *module.parameters()]
            ),
        )

    assert_all_close(run(cell), run(reference), dtype)


def test_layer_reverse_is_the_forward_layer_on_the_flipped_sequence():
    T, B, D, H = 5, 2, 3, 4
    x, h0, c0 = randn(T, B, D, seed=1), randn(B, H, seed=2), randn(B, H, seed=3)
    weights = (randn(4 * H, D, seed=4), randn(4 * H, H, seed=5))
    backwards, (h_b, c_b) = lstm_layer(x, h0, c0, *weights, reverse=True)
    forwards, (h_f, c_f) = lstm_layer(x.flip(0), h0, c0, *weights)
    torch.testing.assert_close(backwards, forwards.flip(0))
    torch.testing.assert_close(
        h_b, backwards[0]
    )  # the backward direction ends at step 0
    torch.testing.assert_close((h_b, c_b), (h_f, c_f))


def test_cell_step_matches_the_numpy_cell_step():
    B, D, H = 3, 4, 5
    tensors = [randn(B, D, seed=1), randn(B, H, seed=2), randn(B, H, seed=3)]
    tensors += [randn(4 * H, D, seed=4), randn(4 * H, H, seed=5)]
    tensors += [randn(4 * H, seed=6), randn(4 * H, seed=7)]
    h, c = lstm_cell_step(*tensors)
    h_np, c_np, _ = numpy_lstm.lstm_cell_step(*(t.numpy() for t in tensors))
    np.testing.assert_allclose(h.numpy(), h_np, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), c_np, atol=1e-6)


# --------------------------------------------------------------------------------------
# Parameters, initialisation and state dicts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        dict(),
        dict(num_layers=3, bias=False),
        dict(num_layers=2, bidirectional=True),
    ],
)
def test_parameter_names_shapes_and_initialisation_equal_torch(config):
    torch.manual_seed(7)
    reference = torch.nn.LSTM(3, 6, **config).state_dict()
    torch.manual_seed(7)
    scratch = LSTM(3, 6, **config).state_dict()
    assert list(scratch) == list(reference)  # same names in the same order
    for name, value in scratch.items():
        assert value.shape == reference[name].shape
        torch.testing.assert_close(value, reference[name], rtol=0, atol=0)
        assert value.abs().max() <= 1 / 6**0.5


def test_cell_parameters_and_initialisation_equal_torch_lstm_cell():
    torch.manual_seed(3)
    reference = torch.nn.LSTMCell(4, 9, bias=False).state_dict()
    torch.manual_seed(3)
    scratch = LSTMCell(4, 9, bias=False).state_dict()
    assert list(scratch) == list(reference) == ["weight_ih", "weight_hh"]
    for name in scratch:
        torch.testing.assert_close(
            scratch[name], reference[name], rtol=0, atol=0
        )


def test_state_dict_moves_both_ways_between_scratch_and_torch():
    config = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    torch.manual_seed(0)
    reference, scratch = torch.nn.LSTM(**config), LSTM(**config)
    x = randn(5, 2, 3, seed=1)

    scratch.load_state_dict(reference.state_dict())  # torch -> scratch
    torch.testing.assert_close(scratch(x)[0], reference(x)[0])

    other = LSTM(**config)  # fresh random weights
    reference.load_state_dict(other.state_dict())  # scratch -> torch
    torch.testing.assert_close(reference(x)[0], other(x)[0])


def test_numpy_lstm_gives_the_same_outputs_as_the_scratch_module():
    torch.manual_seed(0)
    scratch = LSTM(3, 5, num_layers=2, batch_first=True)
    numpy_model = numpy_lstm.LSTM(3, 5, num_layers=2, batch_first=True, seed=1)
    numpy_model.load_state_dict(scratch.state_dict())
    x = randn(4, 6, 3, seed=2)
    with torch.no_grad():
        output, (h_n, c_n) = scratch(x)
    output_np, (h_n_np, c_n_np) = numpy_model(x.numpy())
    for actual, expected in ((output_np, output), (h_n_np, h_n), (c_n_np, c_n)):
        np.testing.assert_allclose(actual, expected.numpy(), atol=1e-6)


# --------------------------------------------------------------------------------------
# Dropout between layers
# --------------------------------------------------------------------------------------


def test_dropout_acts_only_in_training_mode_and_draws_the_masks_torch_draws():
    reference, scratch = reference_and_scratch(
        input_size=3,
        hidden_size=8,
        num_layers=3,
        dropout=0.5,
        bidirectional=True,
    )
    x = randn(7, 4, 3, seed=1)
    # Training mode: each call draws new masks...
    first, second = scratch(x)[0], scratch(x)[0]
    assert not torch.allclose(first, second)
    # ... and, on the CPU, from the same random numbers as torch.nn.LSTM.
    torch.manual_seed(11)
    expected = reference(x)
    torch.manual_seed(11)
    actual = scratch(x)
    torch.testing.assert_close(actual, expected)

    # Evaluation mode: no dropout, equal to torch and to a model built without dropout.
    reference.eval()
    scratch.eval()
    no_dropout = LSTM(3, 8, num_layers=3, bidirectional=True)
    no_dropout.load_state_dict(scratch.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(scratch(x), reference(x))
        torch.testing.assert_close(scratch(x), no_dropout(x))


def test_dropout_is_not_applied_after_the_last_layer():
    _, scratch = reference_and_scratch(
        input_size=2, hidden_size=3, num_layers=2, dropout=1.0
    )
    # p = 1 zeroes the first layer's output completely; the top layer still runs normally,
    # so the output is what layer 1 computes from an all-zero input: no zeros, no scaling.
    x = randn(4, 2, 2, seed=1)
    output, _ = scratch(x)
    expected, _ = lstm_layer(
        torch.zeros(4, 2, 3),
        *torch.zeros(2, 2, 3),
        *scratch.layer_parameters(1),
    )
    torch.testing.assert_close(output, expected)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(2, 3, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTM(2, 3, num_layers=2, dropout=0.2)


# --------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------


def test_works_on_the_device_of_its_parameters_meta_device():
    # The meta device computes shapes only; nothing may fall back to a CPU tensor.
    model = LSTM(
        3, 4, num_layers=2, bidirectional=True, dropout=0.3, device="meta"
    )
    x = torch.empty(5, 2, 3, device="meta")
    output, (h_n, c_n) = model(x)
    assert output.device.type == h_n.device.type == c_n.device.type == "meta"
    assert output.shape == (5, 2, 8) and h_n.shape == c_n.shape == (4, 2, 4)
    cell = LSTMCell(3, 4, device="meta")
    h, c = cell(torch.empty(2, 3, device="meta"))
    assert h.device.type == "meta" and h.shape == (2, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_torch_on_cuda(dtype, monkeypatch):
    # TF32 keeps about three decimal digits; switch it off to compare float32 results.
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    reference, scratch = reference_and_scratch(
        dtype, input_size=4, hidden_size=5, num_layers=2, bidirectional=True
    )
    reference, scratch = reference.cuda(), scratch.cuda()
    x = randn(6, 3, 4, dtype=dtype, seed=1).cuda()
    hx = (
        randn(4, 3, 5, dtype=dtype, seed=2).cuda(),
        randn(4, 3, 5, dtype=dtype, seed=3).cuda(),
    )
    expected = outputs_and_gradients(reference, x, hx)
    actual = outputs_and_gradients(scratch, x, hx)
    assert all(t.is_cuda for t in actual)
    assert_all_close(actual, expected, dtype)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, hx, message",
    [
        (
            torch.zeros(2, 3, 4, 5),
            None,
            r"expected input of shape \(T, B, D\) or unbatched",
        ),
        (torch.zeros(3), None, r"expected input of shape \(T, B, D\)"),
        (torch.zeros(5, 2, 4), None, r"input_size=3"),
        (torch.zeros(0, 2, 3), None, r"input must not be empty"),
        (
            torch.zeros(5, 2, 3, dtype=torch.float64),
            None,
            r"dtype torch.float64.*float32",
        ),
        (torch.zeros(5, 2, 3, dtype=torch.int64), None, r"dtype torch.int64"),
        (np.zeros((5, 2, 3), np.float32), None, r"must be a torch.Tensor"),
        (torch.zeros(5, 2, 3), (torch.zeros(2, 2, 4),), r"pair \(h0, c0\)"),
        (torch.zeros(5, 2, 3), torch.zeros(2, 2, 4), r"pair \(h0, c0\)"),
        (
            torch.zeros(5, 2, 3),
            (torch.zeros(2, 3, 4), torch.zeros(2, 2, 4)),
            r"hx\[0\] \(h0\) of shape \(2, 2, 4\) \(num_layers \* num_directions, batch",
        ),
        (
            torch.zeros(5, 2, 3),
            (torch.zeros(2, 2, 4), torch.zeros(1, 2, 4)),
            r"hx\[1\] \(c0\) of shape \(2, 2, 4\)",
        ),
        (
            torch.zeros(5, 3),
            (torch.zeros(2, 1, 4), torch.zeros(2, 1, 4)),
            r"hx\[0\] \(h0\) of shape \(2, 4\) .*unbatched",
        ),
        (
            torch.zeros(5, 2, 3),
            (torch.zeros(2, 2, 4), torch.zeros(2, 2, 4, dtype=torch.float64)),
            r"hx\[1\] \(c0\) has dtype torch.float64",
        ),
    ],
)
def test_lstm_rejects_bad_input_with_a_clear_message(x, hx, message):
    model = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=message):
        model(x, hx)


def test_lstm_rejects_a_packed_sequence_and_names_the_alternative():
    packed = pack_padded_sequence(torch.zeros(4, 2, 3), torch.tensor([4, 2]))
    with pytest.raises(ValueError, match=r"PackedSequence.*torch.nn.LSTM"):
        LSTM(3, 4)(packed)


def test_lstm_rejects_input_on_another_device():
    model = LSTM(3, 4, device="meta")
    with pytest.raises(ValueError, match=r"device cpu.*parameters are on meta"):
        model(torch.zeros(5, 2, 3))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(proj_size=2), r"proj_size=2 is not supported.*proj_size=0 only"),
        (dict(dropout=1.5), r"dropout must be a finite number in \[0, 1\]"),
        (dict(dropout="0.1"), r"dropout must be a finite number"),
        (dict(num_layers=0), r"num_layers must be an integer >= 1"),
        (dict(hidden_size=2.0), r"hidden_size must be an integer >= 1"),
        (dict(bidirectional=1), r"bidirectional must be True or False"),
        (dict(batch_first="yes"), r"batch_first must be True or False"),
    ],
)
def test_lstm_constructor_rejects_unsupported_arguments(kwargs, message):
    arguments = dict(input_size=3, hidden_size=4) | kwargs
    with pytest.raises(ValueError, match=message):
        LSTM(**arguments)


def test_cell_rejects_bad_input_with_a_clear_message():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"input_size=3"):
        cell(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"\(B, D\) or unbatched \(D,\)"):
        cell(torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"hx\[0\] \(h0\) of shape \(2, 4\)"):
        cell(torch.zeros(2, 3), (torch.zeros(4), torch.zeros(2, 4)))
    with pytest.raises(
        ValueError, match=r"hx\[0\] \(h0\) of shape \(4,\) .*unbatched"
    ):
        cell(torch.zeros(3), (torch.zeros(1, 4), torch.zeros(1, 4)))
    with pytest.raises(ValueError, match=r"dtype torch.float64"):
        cell(torch.zeros(2, 3, dtype=torch.float64))


def test_layer_parameters_rejects_a_missing_layer_or_direction():
    model = LSTM(3, 4, num_layers=2)
    assert model.layer_parameters(1)[0] is model.weight_ih_l1
    with pytest.raises(
        ValueError, match=r"direction must be an integer in \[0, 0\]"
    ):
        model.layer_parameters(0, 1)


# --------------------------------------------------------------------------------------
# The chapters' tools
# --------------------------------------------------------------------------------------


def test_autograd_graph_counts_the_operations_of_one_cell_step():
    B, D, H = 2, 3, 4
    weights = [
        randn(4 * H, D, seed=1),
        randn(4 * H, H, seed=2),
        randn(4 * H, seed=3),
    ]
    weights = [w.requires_grad_(True) for w in weights]
    h, c = lstm_cell_step(
        randn(B, D), randn(B, H), randn(B, H), *weights, weights[2]
    )
    counts = autograd_graph(h)
    assert counts["SigmoidBackward0"] == 3
    assert counts["TanhBackward0"] == 2
    assert (
        counts["AccumulateGrad"] == 3
    )  # the three leaf tensors that require grad
    assert autograd_graph(randn(3)) == {}
    with pytest.raises(ValueError, match="torch.Tensor"):
        autograd_graph(np.zeros(3))


def test_autograd_graph_grows_linearly_with_the_sequence_length():
    model = LSTM(2, 3)
    sizes = [
        sum(autograd_graph(model(randn(T, 1, 2))[0]).values())
        for T in (2, 4, 8)
    ]
    assert sizes[2] - sizes[1] == 2 * (sizes[1] - sizes[0]) > 0


def test_median_seconds_times_every_function():
    calls = {"a": 0, "b": 0}

    def bump(name):
        calls[name] += 1

    times = median_seconds(
        {"a": lambda: bump("a"), "b": lambda: bump("b")}, repeats=3, number=2
    )
    assert set(times) == {"a", "b"} and all(t >= 0 for t in times.values())
    assert calls == {
        "a": 9,
        "b": 9,
    }  # 3 rounds of one warm-up and two timed calls
    with pytest.raises(ValueError, match="repeats"):
        median_seconds({"a": lambda: None}, repeats=0)


def test_median_seconds_sets_the_threads_and_restores_them():
    before = torch.get_num_threads()
    seen = []
    median_seconds(
        {"a": lambda: seen.append(torch.get_num_threads())},
        repeats=1,
        threads=1,
    )
    assert seen == [1, 1] and torch.get_num_threads() == before
