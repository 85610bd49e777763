"""What the cells of a character LSTM learn (lstm_tutorial.cell_probe): the gates recomputed
from a TextLM's weights against torch.nn.LSTM, the text features, the cell search, the
saturation statistics, the HTML rendering, clamping, the exercise check and bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from badinput import (
    Call,
    cases,
    check_case,
    check_valid,
    id_tensor,
    public_api,
    valid_calls,
)
from torch import nn

from lstm_tutorial import cell_probe as cp
from lstm_tutorial.textlm import TextLM
from lstm_tutorial.variants import from_torch_lstm

V, E, H = 11, 5, 7


def small_lm(layers: int = 1, seed: int = 0, **options) -> TextLM:
    torch.manual_seed(seed)
    model = TextLM(V, num_layers=layers, embed_size=E, hidden_size=H, **options)
    return model.double().eval()


def some_ids(n: int = 23, seed: int = 1) -> torch.Tensor:
    return torch.randint(
        0, V, (n,), generator=torch.Generator().manual_seed(seed)
    )


# ------------------------------------------------------------------ one step, a trace


def test_lstm_step_is_torch_lstm_cell():
    torch.manual_seed(3)
    cell = nn.LSTMCell(4, 6, dtype=torch.float64)
    x, h, c = (
        torch.randn(2, 4).double(),
        torch.randn(2, 6).double(),
        torch.randn(2, 6).double(),
    )
    b = cell.bias_ih + cell.bias_hh
    with torch.no_grad():
        h1, c1, (i, f, g, o) = cp.lstm_step(
            x, h, c, cell.weight_ih, cell.weight_hh, b
        )
        want_h, want_c = cell(x, (h, c))
    torch.testing.assert_close(h1, want_h)
    torch.testing.assert_close(c1, want_c)
    # torch's order: i, f, g, o
    z = x @ cell.weight_ih.T + h @ cell.weight_hh.T + b
    torch.testing.assert_close(i, torch.sigmoid(z[:, :6]))
    torch.testing.assert_close(f, torch.sigmoid(z[:, 6:12]))
    torch.testing.assert_close(g, torch.tanh(z[:, 12:18]))
    torch.testing.assert_close(o, torch.sigmoid(z[:, 18:]))


def test_trace_matches_nn_lstm_h_c_and_logits():
    model, ids = small_lm(), some_ids()
    trace = cp.trace_cells(model, ids)
    lstm = model.layers[0].layer
    with torch.no_grad():
        x = model.embedding(ids)[None]
        out, (h_n, c_n) = lstm(x)
        logits = model(ids[None]).logits[0]
    assert trace.h.shape == trace.c.shape == trace.f.shape == (len(ids), H)
    torch.testing.assert_close(trace.h, out[0])
    torch.testing.assert_close(trace.c[-1], c_n[0, 0])
    torch.testing.assert_close(trace.logits, logits)
    for n in (1, 2, 9):  # the cell state of every prefix is torch's c_n
        with torch.no_grad():
            _, (_, c_n) = lstm(x[:, :n])
        torch.testing.assert_close(trace.c[n - 1], c_n[0, 0])


def test_traced_gates_are_those_of_the_part_iv_lstm():
    model, ids = small_lm(), some_ids()
    trace = cp.trace_cells(model, ids)
    variant = from_torch_lstm(model.layers[0].layer)
    with torch.no_grad():
        _, _, gates = variant(model.embedding(ids)[None], return_gates=True)
    for name in ("i", "f", "g", "o", "c", "h"):
        torch.testing.assert_close(getattr(trace, name), gates[name][0, 0])
    c_before = torch.cat([torch.zeros(1, H, dtype=trace.c.dtype), trace.c[:-1]])
    torch.testing.assert_close(trace.c, trace.f * c_before + trace.i * trace.g)
    torch.testing.assert_close(trace.h, trace.o * torch.tanh(trace.c))


def test_trace_of_an_upper_layer_and_train_mode_dropouts():
    model, ids = small_lm(2), some_ids()
    trace = cp.trace_cells(model, ids, layer=1)
    with torch.no_grad():
        x = model.embedding(ids)[None]
        below, _ = model.layers[0].layer(x)
        out, _ = model.layers[1].layer(below)
        logits = model(ids[None]).logits[0]
    torch.testing.assert_close(trace.h, out[0])
    torch.testing.assert_close(trace.logits, logits)
    torch.testing.assert_close(
        cp.trace_cells(model, ids, layer=0).logits, logits
    )
    noisy = small_lm(
        2,
        embed_dropout=0.5,
        hidden_dropout=0.5,
        output_dropout=0.5,
        weight_drop=0.5,
    ).train()
    a = cp.trace_cells(noisy, ids, layer=1)  # dropouts are off in a trace
    noisy.eval()
    b = cp.trace_cells(noisy, ids, layer=1)
    torch.testing.assert_close(a.c, b.c)
    torch.testing.assert_close(a.logits, noisy(ids[None]).logits[0].detach())


def test_trace_keeps_the_model_mode():
    model = small_lm().train()
    cp.trace_cells(model, some_ids())
    assert model.training


def test_clamp_holds_the_cell_and_changes_what_follows():
    model, ids = small_lm(), some_ids()
    free = cp.trace_cells(model, ids)
    held = cp.trace_cells(model, ids, clamp={2: 1.5})
    assert torch.all(held.c[:, 2] == 1.5)
    torch.testing.assert_close(held.h, held.o * torch.tanh(held.c))
    assert not torch.allclose(held.logits, free.logits)
    # step 1: only unit 2 is held
    torch.testing.assert_close(held.c[0, :2], free.c[0, :2])
    same = cp.trace_cells(model, ids, clamp={})
    torch.testing.assert_close(same.logits, free.logits)


def test_trace_refuses_other_cells_and_bad_clamps():
    gru = TextLM(V, cell="gru", num_layers=1, embed_size=E, hidden_size=H)
    with pytest.raises(ValueError, match="model"):
        cp.trace_cells(gru, some_ids())
    model = small_lm(2)
    with pytest.raises(ValueError, match="layer"):
        cp.trace_cells(model, some_ids(), layer=2)
    with pytest.raises(ValueError, match="clamp"):
        cp.trace_cells(model, some_ids(), clamp={H: 0.0})
    with pytest.raises(ValueError, match="clamp"):
        cp.trace_cells(model, some_ids(), clamp={0: float("nan")})
    with pytest.raises(TypeError, match="clamp"):
        cp.trace_cells(model, some_ids(), clamp=[(0, 1.0)])
    with pytest.raises(TypeError, match="clamp"):
        cp.trace_cells(model, some_ids(), clamp={0: "1"})


# ------------------------------------------------------------------ text features


def test_in_quotes_both_kinds_and_the_line_rule():
    text = "a \"b c\" d 'e' \"it's\" f'g' \"open\nx"
    got = cp.in_quotes(text)
    assert got.dtype == np.float64 and got.shape == (len(text),)
    # the opening quote is inside, the closing one outside (the state after it);
    # inside "...", a ' is plain text; an open quote ends with its line
    assert got[text.index('"b')] == 1 and got[text.index('c"') + 1] == 0
    assert got[text.index("b")] == 1 and got[text.index("d")] == 0
    assert got[text.index("e")] == 1 and got[text.index("e") + 1] == 0
    k = text.index("it's")
    assert got[k + 2] == 1 and got[k + 3] == 1  # the ' of it's inside "..."
    assert got[text.index("g")] == 1  # f'g': a quote after a letter is a quote
    assert got[text.index("open")] == 1 and got[text.index("x")] == 0
    assert got[text.index("\n")] == 0


def test_in_quotes_exact_string():
    text = "x = 'a\"b' + \"c'd\"\n'"
    got = "".join(str(int(v)) for v in cp.in_quotes(text))
    assert got == "0000111100001111001"


def test_bracket_depth_counts_all_kinds_ignores_strays_and_resets_on_blank_lines():
    text = "f(a[1], {b: (2)}) 1) x(\n(\n\ny"
    got = cp.bracket_depth(text)
    want = [int(d) for d in "0112211122223321000000112200"]
    assert got.tolist() == want
    assert cp.bracket_depth("").shape == (0,)
    assert cp.bracket_depth("(\n   \n)").tolist() == [1, 1, 1, 1, 1, 0, 0]


def test_column_and_indentation():
    text = "ab\n   cd e\n  \nx"
    assert cp.column(text).tolist() == [int(d) for d in "120123456701201"]
    assert cp.indentation(text).tolist() == [int(d) for d in "000123333301200"]


def test_text_features_are_the_four_functions():
    text = 'def f(x):\n    return "a(b"\n'
    features = cp.text_features(text)
    assert list(features) == list(cp.FEATURES)
    for name, fn in cp.FEATURES.items():
        np.testing.assert_array_equal(features[name], fn(text))
        assert features[name].shape == (len(text),)


# ------------------------------------------------------------------ the search


def test_correlations_are_pearson_and_zero_for_a_constant_cell():
    rng = np.random.default_rng(0)
    acts = torch.tensor(rng.normal(size=(50, 4)))
    acts[:, 3] = 2.0
    feature = rng.normal(size=50)
    got = cp.correlations(acts, feature)
    assert got.shape == (4,) and got[3] == 0.0
    for k in range(3):
        assert got[k] == pytest.approx(
            np.corrcoef(acts[:, k].numpy(), feature)[0, 1]
        )
    flat = cp.correlations(acts, np.zeros(50))
    assert np.all(flat == 0.0)


def test_search_cells_picks_on_discovery_and_reports_on_test():
    rng = np.random.default_rng(1)
    feature = rng.normal(size=(2, 400))
    acts = torch.tensor(rng.normal(size=(2, 400, 6)))
    acts[..., 4] = torch.tensor(-feature + 0.5 * rng.normal(size=(2, 400)))
    found = cp.search_cells(
        acts[0], {"planted": feature[0]}, acts[1], {"planted": feature[1]}
    )
    best = found["planted"]
    assert best.cell == 4 and best.r < -0.8 and best.r_test < -0.8
    assert best.r_test == pytest.approx(cp.correlations(acts[1], feature[1])[4])
    with pytest.raises(ValueError, match="test_features"):
        cp.search_cells(acts[0], {"a": feature[0]}, acts[1], {"b": feature[1]})


def test_saturation_fractions():
    gate = torch.tensor([[0.05, 0.5], [0.95, 0.5], [0.5, 0.99], [0.01, 0.2]])
    left, right = cp.saturation(gate)
    assert left.tolist() == [0.5, 0.0] and right.tolist() == [0.25, 0.25]
    left, right = cp.saturation(gate, low=0.3, high=0.6)
    assert left.tolist() == [0.5, 0.25] and right.tolist() == [0.25, 0.25]
    with pytest.raises(ValueError, match="low"):
        cp.saturation(gate, low=0.9, high=0.1)


def test_saturation_figure_one_dot_per_cell_for_i_f_o():
    import matplotlib.pyplot as plt

    trace = cp.trace_cells(small_lm(), some_ids())
    fig = cp.saturation_figure(trace)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "input gate",
        "forget gate",
        "output gate",
    ]
    for ax, gate in zip(axes, "ifo", strict=True):
        (dots,) = ax.collections
        left, right = cp.saturation(getattr(trace, gate))
        np.testing.assert_allclose(dots.get_offsets(), np.c_[left, right])
    plt.close(fig)
    with pytest.raises(ValueError, match="low"):
        cp.saturation_figure(trace, low=0.6, high=0.5)


# ------------------------------------------------------------------ clamping, measured


def _quote_vocab():
    from lstm_tutorial.text import Vocab

    return Vocab(tuple("ab \"'"))


def test_quote_predictions_uniform_logits():
    vocab, text = _quote_vocab(), "a \"b\" 'a' b"
    got = cp.quote_predictions(torch.zeros(len(text), vocab.size), text, vocab)
    V = vocab.size
    assert got.bits == pytest.approx(np.log2(V))
    assert got.closing == pytest.approx(1 / V) and got.n_closing == 2
    assert got.stray == pytest.approx(2 / V)  # p(") + p(')


def test_quote_predictions_reads_the_next_character():
    vocab, text = _quote_vocab(), 'a"b"a'
    ids = vocab.encode(list(text))
    logits = torch.zeros(len(text), vocab.size)
    logits[torch.arange(len(text) - 1), ids[1:]] = (
        50.0  # sure of every next one
    )
    got = cp.quote_predictions(logits, text, vocab)
    assert got.bits == pytest.approx(0.0, abs=1e-12)
    assert got.closing == pytest.approx(1.0) and got.n_closing == 1
    assert got.stray == pytest.approx(
        0.0, abs=1e-12
    )  # only where no quote follows
    # a quote that a newline closes is not a closing quote; with none, closing is nan
    none = cp.quote_predictions(torch.zeros(3, vocab.size), "a b", vocab)
    assert none.n_closing == 0 and np.isnan(none.closing)


def test_quote_predictions_refuses_mismatches():
    vocab = _quote_vocab()
    with pytest.raises(ValueError, match="logits"):
        cp.quote_predictions(torch.zeros(4, vocab.size), "ab", vocab)
    with pytest.raises(ValueError, match="text"):
        cp.quote_predictions(torch.zeros(1, vocab.size), "a", vocab)
    from lstm_tutorial.text import Vocab

    no_quotes = Vocab(tuple("ab"))
    with pytest.raises(ValueError, match="vocab"):
        cp.quote_predictions(torch.zeros(2, 2), "ab", no_quotes)


# ------------------------------------------------------------------ the page's HTML


def test_activation_html_escapes_and_shows_newlines():
    text = "a<b>&c\n d"
    html = cp.activation_html(text, np.linspace(-1, 1, len(text)))
    assert (
        "<b>" not in html
        and "&lt;" in html
        and "&gt;" in html
        and "&amp;" in html
    )
    assert "\u21b5" in html and html.count("<br>") == 1
    assert html.count("<span") == len(text)
    assert "<script" not in html and "http" not in html and "\n" not in html
    assert "white-space:pre-wrap" in html.replace(" ", "")
    colours = re.findall(r'<span style="background:(#[0-9a-f]{6})', html)
    assert len(colours) == len(text)
    assert colours[0] != colours[-1]  # blue at -1, red at +1
    mid = cp.activation_html("x", np.array([0.0]))
    assert "#ffffff" in mid


def test_activation_html_scale_and_title():
    html = cp.activation_html(
        "ab", np.array([2.0, -4.0]), scale=4.0, title="cell 3 <c>"
    )
    assert "cell 3 &lt;c&gt;" in html
    # clipped at the scale
    full = cp.activation_html("a", np.array([-9.0]), scale=4.0)
    same = cp.activation_html("a", np.array([-4.0]), scale=4.0)
    assert full == same


def test_activation_html_refuses_a_length_mismatch():
    with pytest.raises(ValueError, match="values"):
        cp.activation_html("abc", np.zeros(2))


# ------------------------------------------------------------------ the exercise checks


def test_check_bracket_depth_passes_the_package_and_explains_a_mistake(capsys):
    assert cp.check_bracket_depth(cp.bracket_depth)
    out = capsys.readouterr().out
    assert "stand-in" in out and "All correct." in out

    def no_reset(text):
        depth, out = 0, []
        for ch in text:
            depth += ch in "([{"
            depth -= ch in ")]}" and depth > 0
            out.append(float(depth))
        return np.array(out)

    assert not cp.check_bracket_depth(no_reset)
    out = capsys.readouterr().out
    assert "Not yet" in out and "blank line" in out

    assert not cp.check_bracket_depth(lambda text: [0] * len(text))
    assert "NumPy array" in capsys.readouterr().out
    assert not cp.check_bracket_depth(lambda text: np.zeros(3))
    assert "shape" in capsys.readouterr().out


def test_check_lstm_step_passes_the_package_and_explains_a_mistake(capsys):
    assert cp.check_lstm_step(cp.lstm_step)
    assert "All correct." in capsys.readouterr().out

    # i, f, o, g: the order of some papers
    def wrong_order(x, h, c, w_ih, w_hh, b):
        z = x @ w_ih.T + h @ w_hh.T + b
        zi, zf, zo, zg = z.chunk(4, dim=-1)
        i, f, o, g = zi.sigmoid(), zf.sigmoid(), zo.sigmoid(), zg.tanh()
        c = f * c + i * g
        return o * c.tanh(), c, (i, f, g, o)

    assert not cp.check_lstm_step(wrong_order)
    out = capsys.readouterr().out
    assert "Not yet" in out and "i, f, g, o" in out
    assert not cp.check_lstm_step(lambda *a: (1, 2))
    assert "tuple" in capsys.readouterr().out


# ------------------------------------------------------------------ bad input


def _acts():
    return torch.zeros(6, 3, dtype=torch.float64)


def _feature():
    return np.arange(6, dtype=np.float64)


def _float_array_1d(valid):
    return [
        ("list", valid.tolist()),
        ("int dtype", valid.astype(np.int64)),
        ("2-D", valid[None]),
        ("tensor", torch.from_numpy(valid.copy())),
        ("one fewer", valid[1:]),
        ("None", None),
    ]


def _features(valid):
    key = next(iter(valid))
    return [
        ("list", list(valid.values())),
        ("empty", {}),
        ("non-str key", {3: valid[key]}),
        ("list value", {key: valid[key].tolist()}),
        ("short value", {key: valid[key][1:]}),
        ("None", None),
    ]


def _ids_1d(valid):
    return [
        (label, bad) for label, bad in id_tensor(V)(valid) if label != "list"
    ] + [("2-D", valid[None]), ("empty", valid[:0])]


def _acts_tensor(valid):
    return [
        ("numpy", valid.numpy().copy()),
        ("1-D", valid[:, 0]),
        ("int", valid.long()),
        ("None", None),
    ]


def _model(valid):
    return [("module", nn.Linear(2, 2)), ("None", None), ("str", "lstm")]


def _gate(valid):
    return [
        ("numpy", valid.numpy().copy()),
        ("1-D", valid[0]),
        ("None", None),
        ("above 1", valid + 2.0),
    ]


CALLS = [
    Call(
        cp.trace_cells,
        lambda: {
            "model": small_lm(2),
            "ids": some_ids(),
            "layer": 1,
            "clamp": None,
        },
        {"model": _model, "ids": _ids_1d, "layer": "count"},
    ),
    Call(cp.in_quotes, lambda: {"text": "a 'b'"}, {"text": "str"}),
    Call(cp.bracket_depth, lambda: {"text": "(a)"}, {"text": "str"}),
    Call(cp.column, lambda: {"text": "a\nb"}, {"text": "str"}),
    Call(cp.indentation, lambda: {"text": " a"}, {"text": "str"}),
    Call(cp.text_features, lambda: {"text": "a(b)"}, {"text": "str"}),
    Call(
        cp.correlations,
        lambda: {"acts": _acts(), "feature": _feature()},
        {"acts": _acts_tensor, "feature": _float_array_1d},
    ),
    Call(
        cp.search_cells,
        lambda: {
            "acts": _acts(),
            "features": {"f": _feature()},
            "test_acts": _acts(),
            "test_features": {"f": _feature()},
        },
        {
            "acts": _acts_tensor,
            "features": _features,
            "test_acts": _acts_tensor,
            "test_features": _features,
        },
    ),
    Call(
        cp.saturation,
        lambda: {"gate": torch.full((4, 3), 0.5), "low": 0.1, "high": 0.9},
        {"gate": _gate, "low": "open_fraction", "high": "open_fraction"},
    ),
    Call(
        cp.saturation_figure,
        lambda: {"trace": cp.trace_cells(small_lm(), some_ids())},
        {"trace": lambda valid: [("tuple", tuple(valid)), ("None", None)]},
    ),
    Call(
        cp.quote_predictions,
        lambda: {
            "logits": torch.zeros(5, 5),
            "text": 'a"b"a',
            "vocab": _quote_vocab(),
        },
        {
            "logits": _acts_tensor,
            "text": "str",
            "vocab": lambda valid: [("tuple", valid.tokens), ("None", None)],
        },
    ),
    Call(
        cp.activation_html,
        lambda: {
            "text": "ab",
            "values": np.zeros(2),
            "scale": 1.0,
            "title": "t",
        },
        {"text": "str", "values": _float_array_1d, "scale": "positive"},
    ),
    Call(
        cp.check_bracket_depth,
        lambda: {"fn": cp.bracket_depth},
        {"fn": "callable"},
    ),
    Call(cp.check_lstm_step, lambda: {"fn": cp.lstm_step}, {"fn": "callable"}),
]

#: Shown line by line in the chapter and reached through trace_cells, which checks.
TEACHING = {"lstm_step", "layer_trace"}


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call, capsys):
    check_valid(call)


@pytest.mark.parametrize(("call", "arg", "label"), cases(CALLS))
def test_bad_input_names_the_argument(call, arg, label, capsys):
    check_case(call, arg, label)


def test_every_public_function_has_a_call():
    missing = set(public_api(cp)) - {call.id for call in CALLS} - TEACHING
    tuples = ("CellTrace", "Found", "QuotePredictions")  # nothing to check
    missing -= set(tuples)
    fields = tuple(f"{t}." for t in tuples)
    missing = {m for m in missing if not m.startswith(fields)}
    assert not missing, f"no Call for {sorted(missing)}"
