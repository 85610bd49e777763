"""Bad input to the NumPy LSTM modules (numpy_lstm, numpy_lstm_fast, rnn, bptt, gradcheck,
handset, diagram):
every public function, class and method that checks its inputs, called validly and then with
one argument at a time made wrong, refuses it with a TypeError or ValueError that names the
argument.

Not listed here, on purpose: the one-equation teaching functions (``sigmoid``, ``gate``,
``candidate``, ``new_cell_state``, ``new_hidden_state``, ``lstm_cell_step``,
``lstm_cell_step_backward``), which stay unchecked, and the result containers
(``LayerCache``, ``ForwardCache``, ``LayerGrads``, ``Entry``, ``GradCheckReport``).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from badinput import (
    MUTATIONS,
    Call,
    cases,
    check_case,
    check_valid,
    public_api,
    valid_calls,
)

from lstm_tutorial import (
    bptt,
    diagram,
    gradcheck,
    handset,
    numpy_lstm,
    numpy_lstm_fast,
    rnn,
)
from lstm_tutorial.numpy_lstm import LSTM, LSTMCell
from lstm_tutorial.numpy_lstm_fast import FastLSTM

D, H, L, T, B = 3, 4, 2, 5, 2
F32 = np.float32


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------- mutation kinds of our own


def float_data(valid):
    """A model's input or state: float_array's mistakes, and NaN, inf and an empty array."""
    nan, inf = valid.copy(), valid.copy()
    nan.flat[0], inf.flat[-1] = np.nan, np.inf
    return MUTATIONS["float_array"](valid) + [
        ("nan", nan),
        ("inf", inf),
        ("empty", valid[:0]),
        ("str", "x"),
    ]


def finite_array_any(valid):
    """A float array of free dtype that must be finite."""
    nan = valid.copy()
    nan.flat[0] = np.nan
    return MUTATIONS["float_array_any"](valid) + [
        ("nan", nan),
        ("empty", valid[:0]),
    ]


def optional_float_array(valid):
    return [
        (label, v)
        for label, v in MUTATIONS["float_array"](valid)
        if v is not None
    ]


def np_dtype(valid):
    return MUTATIONS["np_dtype"](valid) + [
        ("str float32", "float32"),
        ("torch float64", torch.float64),
        ("python float", float),
        ("float16", np.float16),
    ]


def optional_seed(valid):
    return [
        (label, v) for label, v in MUTATIONS["seed"](valid) if v is not None
    ] + [
        ("list", [1, 2]),
        ("array", np.array([1])),
    ]


def state_pair(valid):
    """hx = (h0, c0): something that is not a pair of arrays."""
    h0, c0 = valid
    return [
        ("bare array", h0),
        ("one", (h0,)),
        ("three", (h0, c0, c0)),
        ("str", "hx"),
        ("dict", {"h0": h0, "c0": c0}),
        ("list of one", [h0]),
    ]


def layer_index(num_layers):
    def bad(valid):
        return [
            ("bool", True),
            ("float", 0.0),
            ("negative", -1),
            ("num_layers", num_layers),
            ("str", "0"),
            ("None", None),
        ]

    return bad


def state_dict_of(make_model):
    """A state dict for ``make_model()``: not a mapping, keys or entries wrong."""

    def bad(valid):
        keys = list(valid)
        first, last = keys[0], keys[-1]
        out = [
            ("list of items", list(valid.items())),
            ("None", None),
            ("missing key", {k: v for k, v in valid.items() if k != last}),
            ("extra key", valid | {"weight_hr_l0": valid[first]}),
            ("wrong shape", valid | {first: valid[first][1:]}),
            ("int entry", valid | {first: valid[first].astype(np.int64)}),
            ("bool entry", valid | {first: valid[first] > 0}),
            ("list entry", valid | {first: valid[first].tolist()}),
            ("nan entry", valid | {first: np.full_like(valid[first], np.nan)}),
            (
                "too large for float32",
                valid | {first: np.full(valid[first].shape, 1e300)},
            ),
            (
                "int tensor",
                valid
                | {first: torch.zeros(valid[first].shape, dtype=torch.int64)},
            ),
            ("str entry", valid | {first: "weights"}),
        ]
        return out

    return bad


def model_kind(valid):
    return [
        ("RNN", rnn.RNN(D, H, seed=0)),
        ("torch LSTM", torch.nn.LSTM(D, H)),
        ("None", None),
        ("str", "model"),
    ]


def grads_dict(valid):
    """The dict clip_grad_norm scales in place."""
    a = valid["a"]
    read_only = a.copy()
    read_only.flags.writeable = False
    nan = a.copy()
    nan[0] = np.nan
    return [
        ("list", list(valid.values())),
        ("empty", {}),
        ("list value", {"a": a.tolist()}),
        ("tensor value", {"a": torch.from_numpy(a.copy())}),
        ("int value", {"a": a.astype(np.int64)}),
        ("nan value", {"a": nan}),
        ("read-only value", {"a": read_only}),
        ("one array twice", {"a": a, "b": a}),
        ("overlapping views", {"a": a, "b": a[1:]}),
        ("None", None),
    ]


def index_kind(valid):
    return [
        ("int", 1),
        ("list", list(valid)),
        ("negative", (-1, 0)),
        ("too large", (2, 0)),
        ("float", (1.0, 0)),
        ("bool", (True, 0)),
        ("too short", (1,)),
        ("too long", (1, 1, 1)),
        ("None", None),
        ("array", np.array(valid)),
    ]


def params_dict(valid):
    x = valid["x"]
    read_only = x.copy()
    read_only.flags.writeable = False
    return [
        ("empty", {}),
        ("list", [x]),
        ("float32", {"x": x.astype(np.float32)}),
        ("list value", {"x": x.tolist()}),
        ("tensor value", {"x": torch.from_numpy(x.copy())}),
        ("read-only", {"x": read_only}),
        ("empty array", {"x": x[:0]}),
        ("int key", {0: x}),
        ("None", None),
    ]


def grads_for_params(valid):
    g = valid["x"]
    nan = g.copy()
    nan[0] = np.nan
    return [
        ("missing key", {}),
        ("extra key", {"x": g, "y": g}),
        ("wrong shape", {"x": g[1:]}),
        ("list value", {"x": g.tolist()}),
        ("int value", {"x": g.astype(np.int64)}),
        ("nan value", {"x": nan}),
        ("tensor value", {"x": torch.from_numpy(g.copy())}),
        ("not a mapping", [g]),
        ("None", None),
    ]


def tolerance(valid):
    return [
        ("bool", True),
        ("str", "1e-6"),
        ("None", None),
        ("nan", math.nan),
        ("inf", math.inf),
        ("negative", -1e-6),
    ]


def words_of_vocab(valid):
    """A list of words of the hand-set vocabulary."""
    return [
        ("str", " ".join(valid)),
        ("empty", []),
        ("unknown word", [*valid, "dog"]),
        ("int word", [valid[0], 3]),
        ("None", None),
        ("numpy array", np.array(valid)),
        ("nested list", [valid]),
    ]


def vocab_kind(valid):
    return [
        ("str", "John gave Mary"),
        ("empty", []),
        ("repeated word", [*valid, valid[0]]),
        ("int word", [*valid, 7]),
        ("missing a token", [w for w in valid if w != "It"]),
        ("dict", dict.fromkeys(valid)),
    ]


def choice_of(valid):
    return [
        ("unknown", "x"),
        ("int", 0),
        ("None", None),
        ("upper", valid.upper()),
        ("list", [valid]),
    ]


def position(n):
    def bad(valid):
        return [
            ("bool", True),
            ("float", 1.0),
            ("str", "1"),
            ("None", None),
            ("too large", n),
            ("too small", -n - 1),
        ]

    return bad


def step_kind(valid):
    """A step dict of the diagram."""
    wrong_h = dict(valid, c=np.append(valid["c"], 0.0))
    return [
        ("list", list(valid.values())),
        ("None", None),
        ("missing key", {k: v for k, v in valid.items() if k != "o"}),
        ("unknown key", valid | {"c_t": valid["c"]}),
        ("list value", dict(valid, c=valid["c"].tolist())),
        ("tensor value", dict(valid, c=torch.from_numpy(valid["c"].copy()))),
        ("nan value", dict(valid, c=np.array([np.nan, 0.0, 0.0]))),
        ("2-D value", dict(valid, f=valid["f"][None])),
        ("bool value", dict(valid, f=valid["f"] > 0.5)),
        ("str value", dict(valid, f="0.5")),
        ("complex value", dict(valid, f=valid["f"].astype(complex))),
        ("gate out of range", dict(valid, i=valid["i"] + 1.0)),
        ("another H", wrong_h),
        ("empty value", dict(valid, x=valid["x"][:0])),
    ]


def amount_kind(valid):
    return [
        ("bool", True),
        ("str", "0.5"),
        ("None", None),
        ("nan", math.nan),
        ("inf", math.inf),
        ("negative", -0.1),
        ("list", [0.5]),
        ("tensor", torch.tensor(0.5)),
        ("bool array", np.array([True])),
        ("negative in array", np.array([0.5, -0.5])),
        ("nan in array", np.array([0.5, np.nan])),
    ]


def optional_title(valid):
    return [("int", 3), ("bytes", b"title"), ("list", ["title"])]


def names_kind(valid):
    return [
        ("str", "".join(valid)),
        ("one too few", valid[:-1]),
        ("int names", list(range(len(valid)))),
        ("None", None),
        ("dict", dict.fromkeys(valid)),
    ]


def optional_names(valid):
    return [(label, v) for label, v in names_kind(valid) if v is not None]


def highlight_kind(valid):
    return [
        ("unknown", "memory"),
        ("int", 3),
        ("empty", []),
        ("list with an int", ["forget", 1]),
        ("dict", {"forget": 1}),
    ]


def axes_kind(valid):
    return [("str", "ax"), ("int", 0), ("figure", matplotlib.figure.Figure())]


def first_t_kind(valid):
    return [
        ("bool", True),
        ("float", 1.0),
        ("zero", 0),
        ("negative", -3),
        ("str", "1"),
        ("None", None),
    ]


def steps_kind(valid):
    bad_step = dict(valid[0], o=valid[0]["o"] + 2)
    other_h = diagram_step(H=4)
    return [
        ("empty", []),
        ("str", "steps"),
        ("None", None),
        ("dict", valid[0]),
        ("one bad step", [valid[0], bad_step, valid[2]]),
        ("steps of another H", [valid[0], other_h, valid[2]]),
    ]


def per_word(valid):
    """gates or states: name -> (T, H) arrays."""
    name, first = next(iter(valid.items()))
    nan = first.copy()
    nan[0, 0] = np.nan
    return [
        ("not a mapping", list(valid.values())),
        ("empty", {}),
        ("list value", {name: first.tolist()}),
        ("tensor value", {name: torch.from_numpy(first.copy())}),
        ("bool value", {name: first > 0.5}),
        ("nan value", {name: nan}),
        ("one word fewer", {name: first[1:]}),
        ("1-D value", {name: first[:, 0]}),
        ("no units", {name: first[:, :0]}),
        ("int key", {1: first}),
        ("None", None),
    ]


def values_grid(valid):
    nan = valid.copy()
    nan[0, 0] = np.nan
    return [
        ("list", valid.tolist()),
        ("tensor", torch.from_numpy(valid.copy())),
        ("wrong shape", valid.T),
        ("nan", nan),
        ("bool", valid > 0),
        ("str", "values"),
    ]


def diagram_step(H=3, D=5, seed=0):
    """A consistent step: gates in (0, 1), c = f c_prev + i g, h = o tanh c."""
    rng = np.random.default_rng(seed)
    i, f, o = (1 / (1 + np.exp(-rng.normal(size=H))) for _ in range(3))
    g = np.tanh(rng.normal(size=H))
    c_prev = rng.normal(size=H)
    c = f * c_prev + i * g
    x = np.zeros(D)
    x[seed % D] = 1.0
    h_prev = np.tanh(rng.normal(size=H))
    return dict(
        x=x,
        h_prev=h_prev,
        c_prev=c_prev,
        i=i,
        f=f,
        g=g,
        o=o,
        c=c,
        h=o * np.tanh(c),
    )


# ----------------------------------------------------------------------------- valid calls


def forward_model(**kwargs):
    model = LSTM(D, H, num_layers=L, seed=0, **kwargs)
    return model


def after_forward(batch_first=False):
    model = LSTM(D, H, num_layers=L, batch_first=batch_first, seed=0)
    shape = (B, T, D) if batch_first else (T, B, D)
    output, (h_n, c_n) = model(rand(*shape, dtype=F32))
    return model, output, h_n, c_n


def backward_call():
    model, output, h_n, c_n = after_forward(batch_first=True)
    return {
        "model": model,
        "grad_output": np.ones_like(output),
        "grad_h_n": np.ones_like(h_n),
        "grad_c_n": np.ones_like(c_n),
        "step": bptt.lstm_cell_step_backward,
    }


def layer_backward_call():
    model = LSTM(D, H, seed=0, dtype=np.float64)
    W, U, b_ih, b_hh = model.layer_parameters(0)
    state = np.zeros((B, H))
    cache = numpy_lstm.lstm_layer_forward(
        rand(T, B, D), state, state, W, U, b_ih, b_hh
    )
    return {
        "cache": cache,
        "weight_ih": W,
        "weight_hh": U,
        "dh_out": rand(T, B, H, seed=1),
        "dh_n": rand(B, H, seed=2),
        "dc_n": rand(B, H, seed=3),
        "step": bptt.lstm_cell_step_backward,
    }


def cache_kind(valid):
    return [
        ("None", None),
        ("dict", vars(valid)),
        (
            "float32 cache",
            numpy_lstm.LayerCache(
                **{k: v.astype(F32) for k, v in vars(valid).items()}
            ),
        ),
        (
            "cache of another batch",
            numpy_lstm.LayerCache(
                **{k: v[..., :1, :] for k, v in vars(valid).items()}
            ),
        ),
        (
            "list arrays",
            numpy_lstm.LayerCache(**dict(vars(valid), h=valid.h.tolist())),
        ),
    ]


def layer_inputs():
    """x, h0 and c0 of one layer, float32."""
    return {
        "x": rand(T, B, D, dtype=F32),
        "h0": rand(B, H, dtype=F32, seed=1),
        "c0": rand(B, H, dtype=F32, seed=2),
    }


#: What may go wrong in the arguments of either lstm_layer_forward.
LAYER_KINDS = {
    "x": float_data,
    "h0": float_data,
    "c0": float_data,
    "weight_ih": MUTATIONS["float_array"],
    "weight_hh": MUTATIONS["float_array"],
    "bias_ih": MUTATIONS["float_array"],
    "bias_hh": MUTATIONS["float_array"],
}


def lstm_layer_args(dtype=F32):
    model = LSTM(D, H, seed=0, dtype=dtype)
    W, U, b_ih, b_hh = model.layer_parameters(0)
    return {"weight_ih": W, "weight_hh": U, "bias_ih": b_ih, "bias_hh": b_hh}


def lstm_cell_weights():
    cell = LSTMCell(D, H, seed=0, dtype=np.float64)
    return {
        "weight_ih": cell.weight_ih,
        "weight_hh": cell.weight_hh,
        "bias_ih": cell.bias_ih,
        "bias_hh": cell.bias_hh,
    }


def rnn_weights():
    model = rnn.RNN(D, H, dtype=np.float64, seed=0)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return dict(zip(names, model.parameters(), strict=True))


def trace():
    return handset.trace_gates(handset.FILLER_SENTENCE.split())


STORY_WORDS = ["It", "barks", "very", "loudly", "."]
UNITS = list(handset.UNITS)

NUMPY_LSTM = [
    Call(
        LSTM,
        lambda: dict(
            input_size=D,
            hidden_size=H,
            num_layers=L,
            bias=True,
            batch_first=False,
            dtype=np.float64,
            seed=0,
        ),  # fmt: skip
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "bias": "bool",
            "batch_first": "bool",
            "dtype": np_dtype,
            "seed": optional_seed,
        },
    ),
    Call(
        LSTM,
        lambda: dict(input_size=D, hidden_size=H, rng=np.random.default_rng(0)),
        {"rng": MUTATIONS["optional_rng"]},
        label="LSTM(rng=...)",
    ),
    Call(
        LSTMCell,
        lambda: dict(
            input_size=D, hidden_size=H, bias=False, dtype=F32, seed=1
        ),
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "bias": "bool",
            "dtype": np_dtype,
            "seed": optional_seed,
        },
    ),
    Call(
        LSTMCell,
        lambda: dict(input_size=D, hidden_size=H, rng=np.random.default_rng(0)),
        {"rng": MUTATIONS["optional_rng"]},
        label="LSTMCell(rng=...)",
    ),
    Call(
        lambda model, x, h0, c0: model(x, (h0, c0)),
        lambda: {
            "model": forward_model(batch_first=True),
            "x": rand(B, T, D, dtype=F32),
            "h0": rand(L, B, H, dtype=F32, seed=1),
            "c0": rand(L, B, H, dtype=F32, seed=2),
        },
        {"x": float_data, "h0": float_data, "c0": float_data},
        label="LSTM.forward(batch_first)",
    ),
    Call(
        lambda model, x, hx: model(x, hx),
        lambda: {
            "model": forward_model(),
            "x": rand(T, B, D, dtype=F32),
            "hx": (
                rand(L, B, H, dtype=F32, seed=1),
                rand(L, B, H, dtype=F32, seed=2),
            ),
        },
        {"x": float_data, "hx": state_pair},
        label="LSTM.forward",
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        lambda model, x: model(x),
        lambda: {"model": forward_model(), "x": rand(T, D, dtype=F32)},
        {"x": float_data},
        label="LSTM.forward(unbatched)",
        skip=(
            "x:one row fewer",
            "x:extra dimension",
        ),  # a shorter sequence; a batch of one
    ),
    Call(
        lambda model, x, h0, c0: model(x, (h0, c0)),
        lambda: {
            "model": LSTMCell(D, H, seed=0),
            "x": rand(B, D, dtype=F32),
            "h0": rand(B, H, dtype=F32, seed=1),
            "c0": rand(B, H, dtype=F32, seed=2),
        },
        {"x": float_data, "h0": float_data, "c0": float_data},
        label="LSTMCell.__call__",
    ),
    Call(
        lambda model, hx: model(rand(B, D, dtype=F32), hx),
        lambda: {
            "model": LSTMCell(D, H, seed=0),
            "hx": (np.zeros((B, H), F32),) * 2,
        },
        {"hx": state_pair},
        label="LSTMCell.__call__(hx)",
    ),
    Call(
        lambda model, k: model.layer_parameters(k),
        lambda: {"model": forward_model(), "k": 1},
        {"k": layer_index(L)},
        label="LSTM.layer_parameters",
    ),
    Call(
        lambda model, state_dict: model.load_state_dict(state_dict),
        lambda: {
            "model": forward_model(),
            "state_dict": forward_model().state_dict(),
        },
        {"state_dict": state_dict_of(forward_model)},
        label="LSTM.load_state_dict",
    ),
    Call(
        lambda model, state_dict: model.load_state_dict(state_dict),
        lambda: {
            "model": LSTMCell(D, H, seed=0),
            "state_dict": LSTMCell(D, H, seed=1).state_dict(),
        },
        {"state_dict": state_dict_of(lambda: LSTMCell(D, H))},
        label="LSTMCell.load_state_dict",
        skip=(
            "state_dict:extra key",
        ),  # a cell has no weight_hr_l0 either: listed anyway
    ),
    Call(
        lambda model, grad_output, grad_h_n, grad_c_n: model.backward(
            grad_output, grad_h_n, grad_c_n
        ),
        lambda: {k: v for k, v in backward_call().items() if k != "step"},
        {
            "grad_output": MUTATIONS["float_array"],
            "grad_h_n": optional_float_array,
            "grad_c_n": optional_float_array,
        },
        label="LSTM.backward",
    ),
    Call(
        numpy_lstm.split_gates,
        lambda: {"z": rand(B, 4 * H)},
        {
            "z": lambda valid: [
                ("last axis not 4H", valid[:, 1:]),
                ("0-d", 1.0),
                ("empty last axis", valid[:, :0]),
                ("str", "abcd"),
                ("tensor", torch.from_numpy(valid.copy())),
                ("None", None),
                ("bool", valid > 0),
            ]
        },
    ),
    Call(
        numpy_lstm.packed_gate_rows,
        lambda: {"hidden_size": H},
        {"hidden_size": "positive_int"},
    ),
    Call(
        numpy_lstm_fast.pack_weights,
        lambda: lstm_layer_args() | {"side_by_side": True},
        {
            "weight_ih": MUTATIONS["float_array"],
            "weight_hh": MUTATIONS["float_array"],
            "bias_ih": MUTATIONS["float_array"],
            "bias_hh": MUTATIONS["float_array"],
            "side_by_side": "bool",
        },
    ),
    Call(
        numpy_lstm.lstm_layer_forward,
        lambda: lstm_layer_args() | layer_inputs(),
        LAYER_KINDS,
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        numpy_lstm_fast.lstm_layer_forward,
        lambda: (
            lstm_layer_args()
            | layer_inputs()
            | {"gates_buffer": np.empty((4, T, B, H), F32)}
        ),
        LAYER_KINDS
        | {
            "gates_buffer": lambda valid: [
                ("list", valid.tolist()),
                ("tensor", torch.from_numpy(valid)),
                ("str", "buffer"),
            ],
        },
        label="numpy_lstm_fast.lstm_layer_forward",
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        FastLSTM,
        lambda: dict(
            input_size=D, hidden_size=H, num_layers=L, dtype=F32, seed=0
        ),
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "dtype": np_dtype,
            "seed": optional_seed,
        },
    ),
    Call(
        lambda model, x, h0, c0: model(x, (h0, c0)),
        lambda: {
            "model": FastLSTM(D, H, num_layers=L, seed=0),
            "x": rand(T, B, D, dtype=F32),
            "h0": rand(L, B, H, dtype=F32, seed=1),
            "c0": rand(L, B, H, dtype=F32, seed=2),
        },
        {"x": float_data, "h0": float_data, "c0": float_data},
        label="FastLSTM.forward",
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        numpy_lstm.register_backward,
        lambda: {"backward": bptt.lstm_backward},
        {"backward": "callable"},
    ),
]

RNN = [
    Call(
        rnn.RNN,
        lambda: dict(input_size=D, hidden_size=H, dtype=np.float64, seed=0),
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "dtype": np_dtype,
            "seed": optional_seed,
        },
    ),
    Call(
        rnn.RNN,
        lambda: dict(input_size=D, hidden_size=H, rng=np.random.default_rng(0)),
        {"rng": MUTATIONS["optional_rng"]},
        label="RNN(rng=...)",
    ),
    Call(
        lambda model, x, h0: model(x, h0),
        lambda: {
            "model": rnn.RNN(D, H, seed=0),
            "x": rand(T, B, D, dtype=F32),
            "h0": rand(1, B, H, dtype=F32),
        },
        {
            "x": float_data,
            "h0": lambda valid: [
                (k, v) for k, v in float_data(valid) if v is not None
            ],
        },
        label="RNN.__call__",
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        lambda model, state_dict: model.load_state_dict(state_dict),
        lambda: {
            "model": rnn.RNN(D, H, seed=0),
            "state_dict": rnn.RNN(D, H, seed=1).state_dict(),
        },
        {"state_dict": state_dict_of(lambda: rnn.RNN(D, H))},
        label="RNN.load_state_dict",
    ),
    Call(
        rnn.rnn_step,
        lambda: rnn_weights() | {"x": rand(B, D), "h": rand(B, H, seed=1)},
        {
            "x": MUTATIONS["float_array"],
            "h": MUTATIONS["float_array"],
            "weight_ih": MUTATIONS["float_array"],
            "weight_hh": MUTATIONS["float_array"],
            "bias_ih": MUTATIONS["float_array"],
            "bias_hh": MUTATIONS["float_array"],
        },
    ),
    Call(
        rnn.rnn_step_jacobian,
        lambda: {"h_new": np.tanh(rand(H)), "weight_hh": rand(H, H)},
        {
            "h_new": MUTATIONS["float_array"],
            "weight_hh": MUTATIONS["float_array"],
        },
    ),
    Call(
        rnn.rnn_state_jacobians,
        lambda: rnn_weights() | {"x": rand(T, D), "h0": rand(H, seed=1)},
        {
            "x": float_data,
            "h0": float_data,
            "weight_ih": float_data,
            "weight_hh": float_data,
            "bias_ih": float_data,
            "bias_hh": float_data,
        },
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        rnn.lstm_step_jacobian,
        lambda: (
            lstm_cell_weights()
            | {"x": rand(D), "h": rand(H, seed=1), "c": rand(H, seed=2)}
        ),
        {
            "x": MUTATIONS["float_array"],
            "h": MUTATIONS["float_array"],
            "c": MUTATIONS["float_array"],
            "weight_ih": MUTATIONS["float_array"],
            "weight_hh": MUTATIONS["float_array"],
            "bias_ih": optional_float_array,
            "bias_hh": optional_float_array,
        },
    ),
    Call(
        rnn.lstm_state_jacobians,
        lambda: (
            lstm_cell_weights()
            | {"x": rand(T, D), "h0": rand(H, seed=1), "c0": rand(H, seed=2)}
        ),
        {
            "x": float_data,
            "h0": float_data,
            "c0": float_data,
            "weight_ih": float_data,
            "weight_hh": float_data,
            "bias_ih": lambda valid: [
                (k, v) for k, v in float_data(valid) if v is not None
            ],
        },
        skip=(
            "x:one row fewer",
        ),  # one time step fewer is a valid, shorter sequence
    ),
    Call(
        rnn.cumulative_products,
        lambda: {"step_jacobians": rand(T, H, H)},
        {
            "step_jacobians": lambda valid: (
                finite_array_any(valid)
                + [("not square", valid[:, :, 1:]), ("2-D", valid[0])]
            )
        },
        skip=("step_jacobians:one row fewer",),  # one step fewer is valid
    ),
    Call(
        rnn.spectral_norms,
        lambda: {"matrices": rand(T, H, D)},
        {
            "matrices": lambda valid: (
                finite_array_any(valid) + [("1-D", valid[0, 0])]
            )
        },
        # one matrix fewer, or a stack of stacks, are valid (..., m, n) arrays
        skip=("matrices:one row fewer", "matrices:extra dimension"),
    ),
    Call(
        rnn.orthogonal_matrix,
        lambda: {"n": H, "rng": np.random.default_rng(0)},
        {"n": "positive_int", "rng": "rng"},
    ),
]

BPTT = [
    Call(
        bptt.lstm_backward,
        backward_call,
        {
            "model": model_kind,
            "grad_output": MUTATIONS["float_array"],
            "grad_h_n": optional_float_array,
            "grad_c_n": optional_float_array,
            "step": "callable",
        },
    ),
    Call(
        bptt.lstm_layer_backward,
        layer_backward_call,
        {
            "cache": cache_kind,
            "weight_ih": MUTATIONS["float_array"],
            "weight_hh": MUTATIONS["float_array"],
            "dh_out": MUTATIONS["float_array"],
            "dh_n": optional_float_array,
            "dc_n": optional_float_array,
            "step": "callable",
        },
    ),
    Call(
        bptt.clip_grad_norm,
        lambda: {"grads": {"a": rand(4), "b": rand(2, 3)}, "max_norm": 1.0},
        {"grads": grads_dict, "max_norm": "positive"},
    ),
    Call(
        bptt.backpropagate_through_jacobians,
        lambda: {"jacobians": rand(T, H, H), "grad_last": rand(H)},
        {
            "jacobians": lambda valid: (
                float_data(valid) + [("not square", valid[:, 1:])]
            ),
            "grad_last": float_data,
        },
        skip=("jacobians:one row fewer",),  # one step fewer is valid
    ),
    Call(
        bptt.finite_difference,
        lambda: {
            "loss": lambda: 0.0,
            "array": rand(2, 2),
            "index": (1, 1),
            "eps": 1e-3,
            "central": True,
        },
        {
            "loss": "callable",
            "array": MUTATIONS["float_array_any"],
            "index": index_kind,
            "eps": "positive",
            "central": "bool",
        },
    ),
]


def quadratic_call():
    x = rand(4)
    return dict(f=lambda x: float(x @ x), params={"x": x}, grads={"x": 2 * x}, eps=1e-6,
                floor=1e-8, max_entries=3, rng=np.random.default_rng(0), n_worst=2)  # fmt: skip


GRADCHECK = [
    Call(
        gradcheck.check_gradients,
        quadratic_call,
        {
            "f": "callable",
            "params": params_dict,
            "grads": grads_for_params,
            "eps": "positive",
            "floor": "positive",
            "max_entries": "optional_positive_int",
            "rng": "optional_rng",
            "n_worst": "count",
        },
    ),
    Call(
        lambda report, tol: report.passed(tol),
        lambda: {
            "report": gradcheck.check_gradients(**quadratic_call()),
            "tol": 1e-6,
        },
        {"tol": tolerance},
        label="GradCheckReport.passed",
    ),
]

HANDSET = [
    Call(
        handset.one_hot,
        lambda: {"tokens": list(STORY_WORDS), "vocab": handset.vocabulary()},
        {"tokens": words_of_vocab, "vocab": vocab_kind},
    ),
    Call(
        handset.row,
        lambda: {"gate_name": "f", "unit": "puppy"},
        {"gate_name": choice_of, "unit": choice_of},
    ),
    Call(
        handset.handset_weights,
        lambda: {"forget_bias": 2.0},
        {"forget_bias": "number"},
    ),
    Call(
        handset.handset_state_dict,
        lambda: {"forget_bias": 2.0},
        {"forget_bias": "number"},
    ),
    Call(
        handset.handset_lstm,
        lambda: {"state_dict": handset.handset_state_dict()},
        {"state_dict": state_dict_of(handset.handset_lstm)},
        skip=("state_dict:None",),  # None: the hand-set weights
    ),
    Call(
        handset.trace_gates,
        lambda: {
            "tokens": list(STORY_WORDS),
            "state_dict": handset.handset_state_dict(),
        },
        {
            "tokens": words_of_vocab,
            "state_dict": state_dict_of(handset.handset_lstm),
        },
        skip=("state_dict:None",),  # None: the hand-set weights
    ),
    Call(
        handset.GateTrace,
        lambda: asdict(trace()),
        {
            "tokens": lambda valid: [
                ("str", " ".join(valid)),
                ("int word", [*valid[:-1], 3]),
                ("None", None),
                ("empty", []),
            ]
        }  # fmt: skip
        | dict.fromkeys(
            ("x", "i", "f", "g", "o", "c", "h", "c_prev", "h_prev"),
            "float_array_any",
        ),
    ),
    Call(
        lambda trace, t: trace.step(t),
        lambda: {"trace": trace(), "t": 3},
        {"t": position(len(handset.FILLER_SENTENCE.split()))},
        label="GateTrace.step",
    ),
    Call(
        lambda trace, word, occurrence: trace.index(word, occurrence),
        lambda: {"trace": trace(), "word": ",", "occurrence": 1},
        {
            "word": lambda valid: MUTATIONS["str"](valid) + [("absent", "dog")],
            "occurrence": lambda valid: (
                MUTATIONS["count"](valid) + [("one too many", 2)]
            ),
        },
        label="GateTrace.index",
    ),
]

DIAGRAM = [
    Call(
        diagram.check_step,
        lambda: {"step": diagram_step(), "name": "step"},
        {"step": step_kind, "name": "str"},
    ),
    Call(
        diagram.flow_amounts,
        lambda: {"step": diagram_step()},
        {"step": step_kind},
    ),
    Call(
        diagram.line_width,
        lambda: {"amount": 0.5, "full": 2.0},
        {"amount": amount_kind, "full": "positive"},
    ),
    Call(
        diagram.line_width,
        lambda: {"amount": np.linspace(0, 1, 5)},
        {
            "amount": lambda valid: [
                (k, v)
                for k, v in MUTATIONS["float_array_any"](valid)
                if k not in ("one row fewer", "extra dimension")
            ]
        },  # fmt: skip
        label="line_width(array)",
        skip=("amount:int dtype",),  # an int array of amounts is fine
    ),
    Call(
        diagram.draw_cell,
        lambda: {
            "step": diagram_step(),
            "ax": None,
            "title": "t",
            "unit_names": ["a", "b", "c"],
            "show_values": True,
            "highlight": ["forget", "input"],
        },
        {
            "step": step_kind,
            "ax": axes_kind,
            "title": optional_title,
            "unit_names": optional_names,
            "show_values": "bool",
            "highlight": highlight_kind,
        },
    ),
    Call(
        diagram.draw_unrolled,
        lambda: {
            "steps": [diagram_step(seed=k) for k in range(3)],
            "words": ["It", "barks", "."],
            "first_t": 2,
            "per_row": 2,
            "ax": None,
            "title": "t",
        },
        {
            "steps": steps_kind,
            "words": names_kind,
            "first_t": first_t_kind,
            "per_row": lambda valid: [
                ("zero", 0),
                ("four", 4),
                ("float", 2.0),
                ("bool", True),
                ("str", "2"),
                ("None", None),
            ],
            "ax": axes_kind,
            "title": optional_title,
        },
    ),
    Call(
        diagram.draw_looped_and_unrolled,
        lambda: {
            "steps": [diagram_step(seed=k) for k in range(3)],
            "words": ["It", "barks", "."],
            "first_t": 2,
            "unit_names": ["a", "b", "c"],
            "title": "t",
        },
        {
            "steps": steps_kind,
            "words": names_kind,
            "first_t": first_t_kind,
            "unit_names": optional_names,
            "title": optional_title,
        },
    ),
    Call(
        diagram.plot_gates_per_word,
        lambda: {
            "gates": {"forget": np.random.default_rng(0).random((3, 2))},
            "words": ["It", "barks", "."],
            "unit_names": ["a", "b"],
            "title": "t",
        },
        {
            "gates": lambda valid: (
                per_word(valid)
                + [("unknown gate", {"remember": valid["forget"]})]
            ),
            "words": names_kind,
            "unit_names": names_kind,
            "title": optional_title,
        },
    ),
    Call(
        diagram.plot_states_per_word,
        lambda: {
            "states": {"c_t": np.ones((3, 3)), "h_t": np.zeros((3, 3))},
            "words": ["It", "barks", "."],
            "unit_names": ["a", "b", "c"],
            "units": ["a", "c"],
            "title": "t",
        },
        {
            "states": per_word,
            "words": names_kind,
            "unit_names": names_kind,
            "units": lambda valid: [
                ("unknown", ["d"]),
                ("str", "a"),
                ("empty", []),
                ("ints", [0]),
            ],
            "title": optional_title,
        },
    ),
    Call(
        diagram.draw_stack,
        lambda: {
            "T": 3,
            "num_layers": 2,
            "values": np.full((2, 3), 1e-7),
            "batch_first": True,
            "ax": None,
            "title": "s",
        },
        {
            "T": "positive_int",
            "num_layers": "positive_int",
            "values": values_grid,
            "batch_first": "bool",
            "ax": axes_kind,
            "title": optional_title,
        },
    ),
]

CALLS = NUMPY_LSTM + RNN + BPTT + GRADCHECK + HANDSET + DIAGRAM


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)  # names the argument as a whole word


#: Public names with no Call, and why: the book's teaching functions (each entry point that
#: reaches them checks first) and result containers that nobody builds by hand.
UNCHECKED = {
    **dict.fromkeys(
        ["sigmoid", "gate", "candidate", "new_cell_state", "new_hidden_state", "lstm_cell_step",
         "lstm_cell_step_backward"],
        "a teaching function shown line by line",
    ),
    **dict.fromkeys(
        ["LayerCache", "ForwardCache", "LayerGrads", "Entry", "GradCheckReport"],
        "a result container",
    ),
    "vocabulary": "takes no arguments",
}  # fmt: skip


@pytest.mark.parametrize(
    "module",
    [numpy_lstm, numpy_lstm_fast, rnn, bptt, gradcheck, handset, diagram],
    ids=lambda m: m.__name__,
)
def test_every_public_function_class_and_method_has_a_call(module):
    missing = (
        set(public_api(module)) - {call.id for call in CALLS} - set(UNCHECKED)
    )
    assert not missing, (
        f"no Call (and no stated exemption) for {sorted(missing)}"
    )
