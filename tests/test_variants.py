"""Tests of the configurable LSTM: with every switch off it is torch.nn.LSTM, number for
number; each switch changes the cell exactly as its equation says."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lstm_tutorial.variants import (
    VARIANTS,
    SequenceModel,
    VariantLSTM,
    clamp_cells,
    count_parameters,
    from_torch_lstm,
    label_correlation,
    make_recurrent,
    matching_hidden_size,
    set_gate_bias,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TOLERANCE = {
    torch.float32: {"atol": 1e-6, "rtol": 1e-6},
    torch.float64: {"atol": 1e-12, "rtol": 0},
}


def randn(*shape, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64).to(
        dtype
    )


def outputs_and_gradients(module, x, hx=None):
    """Forward, then the gradients of a loss weighing every output differently.

    The weights are scaled so that every gradient is of order one, which makes an absolute
    tolerance meaningful."""
    x = x.detach().clone().requires_grad_(True)
    if hx is not None:
        hx = tuple(s.detach().clone().requires_grad_(True) for s in hx)
    output, (h_n, c_n) = module(x, hx)
    loss = sum(
        (t * randn(*t.shape, dtype=t.dtype, seed=10 + k)).sum()
        / t.numel() ** 0.5
        for k, t in enumerate((output, h_n, c_n))
    )
    grads = torch.autograd.grad(loss, [x, *(hx or ()), *module.parameters()])
    return (output, h_n, c_n, *grads)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"num_layers": 2, "bidirectional": True, "batch_first": True},
        {"num_layers": 3, "bias": False},
    ],
    ids=["one-layer", "stacked-bidirectional", "no-bias"],
)
@pytest.mark.parametrize("with_state", [False, True])
def test_all_switches_off_equals_torch_lstm(dtype, shape, with_state):
    torch.manual_seed(0)
    reference = nn.LSTM(5, 7, dtype=dtype, **shape)
    variant = VariantLSTM(5, 7, dtype=dtype, **shape)
    variant.load_state_dict(reference.state_dict())
    B, T = 4, 6
    x = (
        randn(B, T, 5, dtype=dtype)
        if shape.get("batch_first")
        else randn(T, B, 5, dtype=dtype)
    )
    hx = None
    if with_state:
        rows = reference.num_layers * (2 if reference.bidirectional else 1)
        hx = (
            randn(rows, B, 7, dtype=dtype, seed=1),
            randn(rows, B, 7, dtype=dtype, seed=2),
        )
    expected = outputs_and_gradients(reference, x, hx)
    actual = outputs_and_gradients(variant, x, hx)
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual, strict=True):
        torch.testing.assert_close(a, e, **TOLERANCE[dtype])


def test_same_seed_gives_torch_lstms_initial_weights():
    torch.manual_seed(3)
    reference = nn.LSTM(4, 6, num_layers=2)
    torch.manual_seed(3)
    variant = VariantLSTM(4, 6, num_layers=2)
    assert list(variant.state_dict()) == list(reference.state_dict())
    for name, value in reference.state_dict().items():
        assert torch.equal(variant.state_dict()[name], value), name


def test_unbatched_input_matches_a_batch_of_one():
    variant = VariantLSTM(3, 5, peepholes=True)
    x = randn(7, 3, dtype=torch.float32)
    output, (h, c) = variant(x)
    batched, (hb, cb) = variant(x[:, None])
    assert output.shape == (7, 5) and h.shape == (1, 5)
    torch.testing.assert_close(output, batched[:, 0])
    torch.testing.assert_close(c, cb[:, 0])


def trace(variant, T=8, B=3, seed=0):
    x = randn(T, B, variant.input_size, dtype=torch.float64, seed=seed)
    with torch.no_grad():
        return variant(x, return_gates=True)


def test_gate_traces_have_one_entry_per_layer_direction_and_step():
    variant = VariantLSTM(
        3, 4, num_layers=2, bidirectional=True, batch_first=True
    )
    x = randn(2, 5, 3, dtype=torch.float32)
    output, (h_n, _), gates = variant(x, return_gates=True)
    assert set(gates) == {"i", "f", "g", "o", "c", "h"}
    for value in gates.values():
        assert value.shape == (4, 2, 5, 4)  # (L * dirs, B, T, H)
    # The last layer's forward h at every step is the first half of the output.
    torch.testing.assert_close(gates["h"][2], output[..., :4])
    # The backward direction ends at step 0.
    torch.testing.assert_close(gates["h"][3][:, 0], h_n[3])


def test_no_forget_gate_makes_the_cell_a_running_sum():
    variant = VariantLSTM(3, 4, forget_gate=False, dtype=torch.float64)
    assert variant.gates == ("i", "g", "o")
    assert variant.weight_ih_l0.shape == (
        12,
        3,
    ) and variant.weight_hh_l0.shape == (12, 4)
    _, _, gates = trace(variant)
    c, i, g = gates["c"][0], gates["i"][0], gates["g"][0]
    torch.testing.assert_close(c[0], i[0] * g[0])
    torch.testing.assert_close(
        c[1:] - c[:-1], i[1:] * g[1:]
    )  # c_t = c_{t-1} + i_t g_t
    assert torch.all(gates["f"] == 1.0)


def test_coupled_gates_forget_what_they_write():
    variant = VariantLSTM(3, 4, coupled=True, dtype=torch.float64)
    assert variant.gates == ("i", "g", "o")
    assert not any("cf" in name for name, _ in variant.named_parameters())
    _, _, gates = trace(variant)
    torch.testing.assert_close(gates["f"], 1.0 - gates["i"])
    c = gates["c"][0]
    torch.testing.assert_close(
        c[1:],
        (1 - gates["i"][0][1:]) * c[:-1] + (gates["i"] * gates["g"])[0][1:],
    )


def test_peepholes_let_the_gates_read_the_cell():
    variant = VariantLSTM(3, 4, peepholes=True, dtype=torch.float64)
    names = dict(variant.named_parameters())
    for peephole in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0"):
        assert names[peephole].shape == (4,)
    x = randn(5, 2, 3, seed=4)
    with torch.no_grad():
        _, _, gates = variant(x, return_gates=True)
        # Recompute step 2 by hand: i and f read c_1, o reads c_2.
        h1, c1 = gates["h"][0, 1], gates["c"][0, 1]
        z = x[2] @ variant.weight_ih_l0.T + h1 @ variant.weight_hh_l0.T
        z = z + variant.bias_ih_l0 + variant.bias_hh_l0
        z_i, z_f, z_g, z_o = z.chunk(4, dim=-1)
        i = torch.sigmoid(z_i + variant.weight_ci_l0 * c1)
        f = torch.sigmoid(z_f + variant.weight_cf_l0 * c1)
        c2 = f * c1 + i * torch.tanh(z_g)
        o = torch.sigmoid(z_o + variant.weight_co_l0 * c2)
    torch.testing.assert_close(gates["c"][0, 2], c2)
    torch.testing.assert_close(gates["o"][0, 2], o)
    torch.testing.assert_close(gates["h"][0, 2], o * torch.tanh(c2))


def test_peepholes_with_zero_weights_are_the_standard_cell():
    torch.manual_seed(0)
    reference = nn.LSTM(3, 4, dtype=torch.float64)
    variant = VariantLSTM(3, 4, peepholes=True, dtype=torch.float64)
    state = dict(reference.state_dict())
    for name in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0"):
        state[name] = torch.zeros(4, dtype=torch.float64)
    variant.load_state_dict(state)
    x = randn(6, 2, 3)
    torch.testing.assert_close(
        variant(x)[0], reference(x)[0], atol=1e-12, rtol=0
    )
    with torch.no_grad():
        variant.weight_co_l0.fill_(0.5)
    assert not torch.allclose(variant(x)[0], reference(x)[0])


def test_no_output_gate_shows_the_whole_cell():
    variant = VariantLSTM(3, 4, output_gate=False, dtype=torch.float64)
    assert variant.gates == ("i", "f", "g")
    _, _, gates = trace(variant)
    torch.testing.assert_close(gates["h"], torch.tanh(gates["c"]))
    assert torch.all(gates["o"] == 1.0)


def test_no_input_activation_writes_the_raw_candidate():
    variant = VariantLSTM(3, 4, input_activation=False, dtype=torch.float64)
    with torch.no_grad():
        variant.weight_ih_l0.mul_(
            20.0
        )  # large pre-activations: tanh would squash them
    _, _, gates = trace(variant)
    assert gates["g"].abs().max() > 1.0
    reference = VariantLSTM(3, 4, dtype=torch.float64)
    reference.load_state_dict(variant.state_dict())
    _, _, squashed = trace(reference)
    torch.testing.assert_close(
        gates["i"][:, 0], squashed["i"][:, 0]
    )  # same first step
    torch.testing.assert_close(
        torch.tanh(gates["g"][:, 0]), squashed["g"][:, 0]
    )


def test_no_output_activation_shows_the_cell_unsquashed():
    variant = VariantLSTM(3, 4, output_activation=False, dtype=torch.float64)
    _, _, gates = trace(variant)
    torch.testing.assert_close(gates["h"], gates["o"] * gates["c"])


@pytest.mark.parametrize("value", [0.0, 1.0, 5.0])
def test_forget_bias_initialises_the_forget_gates_bias(value):
    variant = VariantLSTM(
        3, 4, num_layers=2, forget_bias=value, input_bias=-2.0
    )
    for k in range(2):
        assert torch.all(getattr(variant, f"bias_ih_l{k}")[4:8] == value)
        assert torch.all(getattr(variant, f"bias_hh_l{k}")[4:8] == 0.0)
        assert torch.all(getattr(variant, f"bias_ih_l{k}")[0:4] == -2.0)
    lstm = make_recurrent("lstm", 3, 4, forget_bias=value)
    assert torch.all(lstm.bias_ih_l0[4:8] + lstm.bias_hh_l0[4:8] == value)


def test_set_gate_bias_uses_the_cells_own_gate_order():
    variant = VariantLSTM(3, 4, forget_gate=False)
    set_gate_bias(variant, "o", 2.0)  # blocks i, g, o: o is the third
    assert torch.all(variant.bias_ih_l0[8:12] == 2.0)
    with pytest.raises(ValueError, match="no weights for gate 'f'"):
        set_gate_bias(variant, "f", 1.0)
    with pytest.raises(ValueError, match="torch.nn.LSTM or VariantLSTM"):
        set_gate_bias(nn.GRU(3, 4), "f", 1.0)


def test_cell_hook_overwrites_the_cell_and_what_it_shows():
    variant = VariantLSTM(3, 4, dtype=torch.float64)

    def clamp(t, c):
        c = c.clone()
        if t >= 2:
            c[:, 1] = 0.7
        return c

    x = randn(6, 2, 3)
    with torch.no_grad():
        output, _, gates = variant(x, return_gates=True, cell_hook=clamp)
        free = variant(x)[0]
    assert torch.all(gates["c"][0, 2:, :, 1] == 0.7)
    torch.testing.assert_close(
        output, gates["o"][0] * torch.tanh(gates["c"][0])
    )
    torch.testing.assert_close(
        output[:2], free[:2]
    )  # unchanged before the clamp
    assert not torch.allclose(output[2:], free[2:])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"coupled": True, "forget_gate": False}, "needs a forget gate"),
        ({"coupled": True, "forget_bias": 1.0}, "forget_bias needs"),
        ({"forget_gate": False, "forget_bias": 1.0}, "forget_bias needs"),
        ({"forget_bias": float("nan")}, "finite number"),
        ({"peepholes": 1}, "peepholes must be True or False"),
        ({"bias": False, "input_bias": 1.0}, "needs bias=True"),
        ({"dropout": 2.0}, "dropout"),
    ],
)
def test_bad_switches_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VariantLSTM(3, 4, **kwargs)


def test_bad_input_raises():
    variant = VariantLSTM(3, 4)
    with pytest.raises(ValueError, match="input_size=3"):
        variant(torch.zeros(5, 2, 4))
    with pytest.raises(ValueError, match="dtype"):
        variant(torch.zeros(5, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"hx\[0\] \(h0\) of shape"):
        variant(
            torch.zeros(5, 2, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4))
        )
    with pytest.raises(ValueError, match="cell_hook"):
        variant(torch.zeros(5, 2, 3), cell_hook=3)


def test_make_recurrent_builds_every_kind():
    x = torch.zeros(2, 9, 3)
    for kind in ("lstm", "variant", "gru", "rnn"):
        layer = make_recurrent(kind, 3, 4, num_layers=2, bidirectional=True)
        output, _ = layer(x)
        assert output.shape == (2, 9, 8), kind
    assert isinstance(make_recurrent("gru", 3, 4), nn.GRU)
    assert make_recurrent("rnn", 3, 4).nonlinearity == "tanh"
    assert make_recurrent("variant", 3, 4, coupled=True).gates == (
        "i",
        "g",
        "o",
    )
    with pytest.raises(ValueError, match="takes no switches"):
        make_recurrent("gru", 3, 4, peepholes=True)
    with pytest.raises(ValueError, match="kind must be one of"):
        make_recurrent("transformer", 3, 4)


@pytest.mark.parametrize(
    "shape", [{}, {"num_layers": 2, "bidirectional": True}]
)
def test_gru_update_bias_sets_exactly_b_z(shape):
    H, b = 4, 3.0
    torch.manual_seed(0)
    plain = nn.GRU(3, H, batch_first=True, **shape)
    torch.manual_seed(0)
    gru = make_recurrent("gru", 3, H, update_bias=b, **shape)
    biases = [
        name
        for name, _ in gru.named_parameters()
        if name.startswith("bias_ih_")
    ]
    assert len(biases) == (4 if shape else 1)  # every layer and direction
    for ih in biases:
        hh = ih.replace("bias_ih_", "bias_hh_")
        got_ih, got_hh = getattr(gru, ih).detach(), getattr(gru, hh).detach()
        want_ih, want_hh = (
            getattr(plain, ih).detach(),
            getattr(plain, hh).detach(),
        )
        # gate order r, z, n: the z pre-activation's bias is b_iz + b_hz
        torch.testing.assert_close(
            got_ih[H : 2 * H] + got_hh[H : 2 * H], torch.full((H,), b)
        )
        for block in (
            slice(0, H),
            slice(2 * H, 3 * H),
        ):  # r and n: torch's start
            torch.testing.assert_close(got_ih[block], want_ih[block])
            torch.testing.assert_close(got_hh[block], want_hh[block])
    for (
        name,
        parameter,
    ) in plain.named_parameters():  # and every weight as torch's
        if name.startswith("weight_"):
            torch.testing.assert_close(getattr(gru, name), parameter)
    torch.manual_seed(0)
    untouched = make_recurrent("gru", 3, H, update_bias=None, **shape)
    for name, parameter in plain.named_parameters():
        torch.testing.assert_close(getattr(untouched, name), parameter)


def test_a_large_update_bias_makes_a_fresh_gru_keep_its_state():
    gru = make_recurrent("gru", 3, 4, update_bias=20.0)
    h0 = torch.full((1, 2, 4), 0.5)
    _, h = gru(torch.randn(2, 6, 3), h0)
    torch.testing.assert_close(h, h0, atol=1e-6, rtol=0)  # z = 1: h_t = h_{t-1}


@pytest.mark.parametrize(
    "shape", [{}, {"num_layers": 2, "bidirectional": True}]
)
def test_rnn_orthogonal_makes_every_recurrent_matrix_orthogonal(shape):
    H = 6
    torch.manual_seed(0)
    rnn = make_recurrent("rnn", 3, H, orthogonal=True, **shape)
    names = [
        name
        for name, _ in rnn.named_parameters()
        if name.startswith("weight_hh_")
    ]
    assert len(names) == (4 if shape else 1)
    for name in names:
        W = getattr(rnn, name).detach().double()
        torch.testing.assert_close(
            W @ W.T, torch.eye(H, dtype=torch.float64), atol=1e-5, rtol=0
        )
    torch.manual_seed(0)
    plain = make_recurrent("rnn", 3, H, orthogonal=False, **shape)
    W = plain.weight_hh_l0.detach().double()
    assert not torch.allclose(
        W @ W.T, torch.eye(H, dtype=torch.float64), atol=1e-2
    )


@pytest.mark.parametrize(
    "kind, switch, value",
    [
        ("lstm", "update_bias", 1.0),
        ("lstm", "orthogonal", True),
        ("gru", "orthogonal", True),
        ("gru", "forget_bias", 1.0),
        ("rnn", "update_bias", 1.0),
        ("rnn", "input_bias", 1.0),
    ],
)
def test_a_start_switch_of_another_kind_is_refused_naming_it(
    kind, switch, value
):
    with pytest.raises(
        ValueError, match=rf"{kind!r} takes no switches \['{switch}'\]"
    ):
        make_recurrent(kind, 3, 4, **{switch: value})


def test_start_switches_check_their_values():
    with pytest.raises((TypeError, ValueError), match="orthogonal"):
        make_recurrent("rnn", 3, 4, orthogonal=1)
    with pytest.raises((TypeError, ValueError), match="update_bias"):
        make_recurrent("gru", 3, 4, update_bias=float("inf"))


def test_cifg_starts_with_its_forget_gate_where_the_standard_cells_is():
    assert VARIANTS["CIFG"] == {"coupled": True, "input_bias": -1.0}
    cifg = make_recurrent("variant", 3, 4, **VARIANTS["CIFG"])
    standard = make_recurrent("variant", 3, 4, **VARIANTS["standard"])
    i_bias = cifg.bias_ih_l0.detach()[:4] + cifg.bias_hh_l0.detach()[:4]
    torch.testing.assert_close(
        1 - torch.sigmoid(i_bias),
        torch.full((4,), float(torch.sigmoid(torch.tensor(1.0)))),
    )
    f = standard.gates.index("f")
    f_bias = (
        standard.bias_ih_l0.detach()[f * 4 : (f + 1) * 4]
        + standard.bias_hh_l0.detach()[f * 4 : (f + 1) * 4]
    )
    torch.testing.assert_close(f_bias, torch.ones(4))


def test_every_named_variant_builds_and_runs():
    x = torch.zeros(2, 5, 3)
    for name, switches in VARIANTS.items():
        output, (h, c) = make_recurrent("variant", 3, 4, **switches)(x)
        assert output.shape == (2, 5, 4) and c.shape == (1, 2, 4), name


def test_matching_hidden_size_equalises_parameter_counts():
    target = count_parameters(make_recurrent("lstm", 2, 32))
    assert target == 4 * (32 * 2 + 32 * 32 + 2 * 32)
    for kind in ("gru", "rnn"):
        H = matching_hidden_size(kind, 2, target)
        n = count_parameters(make_recurrent(kind, 2, H))
        assert abs(n - target) / target < 0.05, (kind, H, n)
    assert (
        matching_hidden_size("rnn", 2, target)
        > matching_hidden_size("gru", 2, target)
        > 32
    )


def test_sequence_model_reads_out_every_step():
    model = SequenceModel(
        make_recurrent("lstm", 6, 5), output_size=3, vocab_size=6
    )
    out = model(torch.tensor([[1, 2, 3, 0]]))
    assert out.shape == (1, 4, 3)
    with pytest.raises(ValueError, match="int64 tensor of token ids"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="batch_first=True"):
        SequenceModel(nn.LSTM(3, 4), 1)


def test_from_torch_lstm_copies_the_function():
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    variant = from_torch_lstm(lstm)
    x = randn(2, 6, 3)
    torch.testing.assert_close(variant(x)[0], lstm(x)[0], atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="torch.nn.LSTM"):
        from_torch_lstm(nn.GRU(3, 4))


def test_clamp_cells_from_a_step_per_sequence():
    variant = VariantLSTM(3, 4, dtype=torch.float64)
    x = randn(6, 2, 3)
    hook = clamp_cells(
        [0, 2], torch.tensor([[1.0, -1.0], [2.0, -2.0]]), torch.tensor([1, 3])
    )
    with torch.no_grad():
        _, _, free = variant(x, return_gates=True)
        _, _, gates = variant(x, return_gates=True, cell_hook=hook)
    c, c_free = gates["c"][0], free["c"][0]  # (T, B, H)
    torch.testing.assert_close(
        c[:1], c_free[:1]
    )  # before the start of sequence 0
    assert torch.all(c[1:, 0, 0] == 1.0) and torch.all(c[1:, 0, 2] == -1.0)
    torch.testing.assert_close(
        c[:3, 1], c_free[:3, 1]
    )  # sequence 1 starts at step 3
    assert torch.all(c[3:, 1, 0] == 2.0) and torch.all(c[3:, 1, 2] == -2.0)
    with torch.no_grad():
        _, _, scalar = variant(
            x, return_gates=True, cell_hook=clamp_cells([1], 0.5)
        )
    assert torch.all(scalar["c"][0, :, :, 1] == 0.5)
    with pytest.raises(ValueError, match="units must be a non-empty list"):
        clamp_cells([], 1.0)
    with pytest.raises(ValueError, match="out of range"):
        variant(x, cell_hook=clamp_cells([7], 1.0))


def test_label_correlation_finds_the_unit_that_tracks_a_label():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (500,), generator=generator)
    states = torch.randn(500, 5, generator=generator, dtype=torch.float64)
    states[:, 3] = 2.0 * labels - 1 + 0.1 * states[:, 3]
    states[:, 4] = 1.0  # constant
    corr = label_correlation(states, labels)
    assert (
        corr.shape == (5,) and int(corr.abs().argmax()) == 3 and corr[3] > 0.99
    )
    assert corr[4] == 0.0
    expected = np.corrcoef(states[:, 0].numpy(), labels.numpy())[0, 1]
    assert abs(float(corr[0]) - expected) < 1e-12
    with pytest.raises(ValueError, match="expected states"):
        label_correlation(states, labels[:-1])
