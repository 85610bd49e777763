"""Bad input to the text modules (chardata, charlm, optim, decoding, and the newer functions
of stories): every public function,
class and method, called validly and then with one argument at a time made wrong, refuses
it with a TypeError or ValueError that names the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from badinput import (
    MUTATIONS,
    Call,
    cases,
    check_case,
    check_valid,
    ids,
    public_api,
    valid_calls,
)

from lstm_tutorial import chardata, charlm, decoding, optim
from lstm_tutorial.chardata import CharVocab
from lstm_tutorial.charlm import CharLM, CharRNN
from lstm_tutorial.decoding import BigramModel

V, E, H, L, T, B = 7, 5, 6, 2, 4, 3

# ------------------------------------------------------------------- mutation kinds of our own


def id_array(vocab_size):
    """ids(V) and more: a tensor, a list holding an id out of range, a wrong rank."""

    def bad(valid):
        out = ids(vocab_size)(valid)
        wrong = valid.tolist()
        first = wrong
        while isinstance(first[0], list):
            first = first[0]
        first[0] = -1
        out += [
            ("tensor", torch.from_numpy(valid.copy())),
            ("list with a negative id", wrong),
            ("extra dimension", valid[None]),
            ("str", "0 1"),
        ]
        return out

    return bad


def stream_ids(valid):
    """The 1-D id arrays of split and bptt_batches (NumPy arrays only)."""
    negative = valid.copy()
    negative[3] = -2
    return [
        ("list", valid.tolist()),
        ("tensor", torch.from_numpy(valid.copy())),
        ("negative id", negative),
        ("float ids", valid.astype(np.float64)),
        ("bool ids", valid.astype(bool)),
        ("2-D", valid[None]),
        ("empty", valid[:0]),
        ("None", None),
        ("str", "abc"),
    ]


def numpy_dtype(valid):
    return MUTATIONS["np_dtype"](valid) + [
        ("str float32", "float32"),
        ("torch float64", torch.float64),
        ("python float", float),
    ]


def nats(valid):
    return [
        ("bool", True),
        ("str", "1.0"),
        ("None", None),
        ("list", [valid]),
    ] + [
        ("negative", -0.5),
        ("-inf", -math.inf),
    ]


def open_unit(valid):
    return MUTATIONS["open_fraction"](valid) + [("one", 1.0), ("zero int", 0)]


def chars(valid):
    return [
        ("list", list(valid)),
        ("str", "".join(valid)),
        ("empty", ()),
        ("repeated", (*valid, valid[0])),
        ("two-character item", ("ab", *valid)),
        ("empty item", ("", *valid)),
        ("int items", (1, 2)),
        ("None", None),
    ]


def text(valid):
    return MUTATIONS["str"](valid) + [
        ("empty", ""),
        ("list of chars", list(valid)),
    ]


def text_allowing_empty(valid):
    return MUTATIONS["str"](valid) + [("list of chars", list(valid))]


def state_pair(valid):
    h, c = valid
    other = np.float64 if h.dtype == np.float32 else np.float32
    nan = c.copy()
    nan[0, 0, 0] = np.nan
    return [
        ("one array", h),
        ("three arrays", (h, c, c)),
        ("other float dtype", (h.astype(other), c.astype(other))),
        ("c of other dtype", (h, c.astype(other))),
        ("one sequence fewer", (h[:, 1:], c[:, 1:])),
        (
            "one sequence more",
            (
                np.concatenate([h, h[:, :1]], 1),
                np.concatenate([c, c[:, :1]], 1),
            ),
        ),
        ("one layer fewer", (h[1:], c[1:])),
        ("no layer axis", (h[0], c[0])),
        ("nan", (h, nan)),
        ("lists", (h.tolist(), c.tolist())),
        ("tensors", (torch.from_numpy(h.copy()), torch.from_numpy(c.copy()))),
        ("int dtype", (h.astype(np.int64), c.astype(np.int64))),
        ("str", "state"),
        ("array of both", np.stack([h, c])),
    ]


def any_state_pair(valid):
    """A state for select_state, which does not know the model: only its structure counts."""
    kept = (
        "one array",
        "three arrays",
        "c of other dtype",
        "no layer axis",
        "lists",
    )
    kept += ("tensors", "int dtype", "str", "array of both")
    return [(label, bad) for label, bad in state_pair(valid) if label in kept]


def rows(batch_size):
    def bad(valid):
        return [
            ("negative", np.array([0, -1])),
            ("== batch size", np.array([0, batch_size])),
            ("float", valid.astype(np.float64)),
            ("bool", valid.astype(bool)),
            ("2-D", valid[None]),
            ("empty", valid[:0]),
            ("list", valid.tolist()),
            ("None", None),
        ]

    return bad


def params_dict(valid):
    name = next(iter(valid))
    read_only = {k: v.copy() for k, v in valid.items()}
    read_only[name].flags.writeable = False
    shared = dict(valid) | {"alias": valid[name]}
    view = dict(valid) | {"view": valid[name][:1]}
    nan = {k: v.copy() for k, v in valid.items()}
    nan[name].flat[0] = np.nan
    return [
        ("empty", {}),
        ("list", list(valid.values())),
        ("None", None),
        ("int entry", {name: np.zeros(3, dtype=np.int64)}),
        ("list entry", {name: [0.0, 1.0]}),
        ("tensor entry", {name: torch.zeros(3)}),
        ("nan entry", nan),
        ("read-only entry", read_only),
        ("the same array twice", shared),
        ("a view of another entry", view),
        ("int key", {0: valid[name]}),
    ]


def betas(valid):
    return [
        ("bool", True),
        ("one number", 0.9),
        ("three numbers", (0.9, 0.99, 0.999)),
        ("beta1 = 1", (1.0, 0.999)),
        ("beta2 = 1", (0.9, 1.0)),
        ("negative beta", (-0.1, 0.999)),
        ("bool beta", (True, 0.999)),
        ("nan beta", (0.9, math.nan)),
        ("str", "0.9, 0.999"),
        ("str betas", ("0.9", "0.999")),
        ("None", None),
    ]


def grads_dict(valid):
    name = next(iter(valid))
    g = valid[name]
    other = np.float32 if g.dtype == np.float64 else np.float64
    nan = g.copy()
    nan.flat[0] = np.inf
    return [
        ("missing key", {k: v for k, v in valid.items() if k != name}),
        ("extra key", valid | {"extra": g}),
        ("wrong shape", valid | {name: g[..., :-1]}),
        (
            "transposed",
            valid | {name: g.T} if g.ndim == 2 else valid | {name: g[None]},
        ),
        ("other float dtype", valid | {name: g.astype(other)}),
        ("int dtype", valid | {name: g.astype(np.int64)}),
        ("list entry", valid | {name: g.tolist()}),
        ("tensor entry", valid | {name: torch.from_numpy(g.copy())}),
        ("inf entry", valid | {name: nan}),
        ("list", list(valid.values())),
        ("None", None),
    ]


def adam_state(valid):
    m_key = next(k for k in valid if k.startswith("m."))
    v_key = next(k for k in valid if k.startswith("v."))
    return [
        ("missing key", {k: v for k, v in valid.items() if k != m_key}),
        ("extra key", valid | {"w": valid[m_key]}),
        ("negative t", valid | {"t": np.array(-1)}),
        ("float t", valid | {"t": np.array(2.0)}),
        ("bool t", valid | {"t": True}),
        ("t as a vector", valid | {"t": np.array([2, 2])}),
        ("m of another shape", valid | {m_key: valid[m_key][..., :-1]}),
        ("negative v", valid | {v_key: -np.ones_like(valid[v_key])}),
        ("nan m", valid | {m_key: np.full_like(valid[m_key], np.nan)}),
        ("int m", valid | {m_key: valid[m_key].astype(np.int64)}),
        ("list m", valid | {m_key: valid[m_key].tolist()}),
        ("list", list(valid.values())),
        ("None", None),
    ]


def state_dict(valid):
    name = next(iter(valid))
    p = valid[name]
    nan = p.copy()
    nan.flat[0] = np.nan
    return [
        ("missing key", {k: v for k, v in valid.items() if k != name}),
        ("extra key", valid | {"extra": p}),
        ("wrong shape", valid | {name: p[..., :-1]}),
        ("int entry", valid | {name: p.astype(np.int64)}),
        ("list entry", valid | {name: p.tolist()}),
        ("nan entry", valid | {name: nan}),
        ("list", list(valid.values())),
        ("None", None),
    ]


class NoStep:
    vocab_size = 5

    def start_state(self, batch_size):
        return None


class EmptyVocabModel(BigramModel):
    @property
    def vocab_size(self):
        return 0


def step_model(valid):
    return [
        ("None", None),
        ("int", 3),
        ("str", "model"),
        ("without step", NoStep()),
        (
            "the table, not a model",
            valid.log_probs if isinstance(valid, BigramModel) else 3,
        ),
        (
            "vocab_size 0",
            EmptyVocabModel(valid.log_probs)
            if isinstance(valid, BigramModel)
            else 0,
        ),
    ]


def char_vocab(size):
    def bad(valid):
        return [
            ("tuple of chars", valid.chars),
            ("str", "".join(valid.chars)),
            ("None", None),
            ("one character fewer", CharVocab(valid.chars[:-1])),
            ("one character more", CharVocab((*valid.chars, "\u00e9"))),
        ]

    return bad


def vocab_alone(valid):
    return [
        ("tuple of chars", valid.chars),
        ("str", "".join(valid.chars)),
        ("None", None),
    ]


def prompt(valid):
    return text(valid) + [("unknown character", valid + "\u00e9")]


def method(valid):
    return [
        ("unknown", "nucleus"),
        ("capitalised", "Greedy"),
        ("int", 1),
        ("None", None),
    ]


def end_id(vocab_size):
    def bad(valid):
        return [
            ("negative", -1),
            ("== vocab size", vocab_size),
            ("float", 1.0),
            ("bool", True),
            ("str", "1"),
        ]

    return bad


def texts(valid):
    return [
        ("empty list", []),
        ("int", 3),
        ("None", None),
        ("bytes", b"abcd"),
        ("list of ints", [1, 2]),
        ("too short", "a"),
        ("one too short", ["abcd", "a"]),
        ("a set", {"abcd"}),
    ]


def short_text(valid):
    return MUTATIONS["str"](valid) + [
        ("too short", valid[:1]),
        ("list of chars", list(valid)),
    ]


def prompts(valid):
    return [
        ("str", valid[0]),
        ("empty list", []),
        ("unknown character", ["\u00e9"]),
        ("int items", [1]),
        ("empty prompt", [""]),
        ("one prompt more", [*valid, valid[0]]),
        ("None", None),
    ]


def continuations(valid):
    return [
        ("str items", ["".join(c) for c in valid]),
        ("empty inner list", [[]]),
        ("ragged", [[valid[0][0], valid[0][0][:-1]]]),
        ("unknown character", [[valid[0][0][:-1] + "\u00e9"]]),
        ("empty text", [[""]]),
        ("int text", [[3]]),
        ("None", None),
    ]


def text_list(valid):
    return [
        ("str", "abc"),
        ("None", None),
        ("int items", [1]),
        ("empty text", [""]),
    ]


def log_probs_extra(valid):
    nan, pos_inf, all_minus_inf = valid.copy(), valid.copy(), valid.copy()
    nan.flat[0] = np.nan
    pos_inf.flat[0] = np.inf
    all_minus_inf[..., :] = -np.inf
    return [
        ("nan", nan),
        ("+inf", pos_inf),
        ("a row of -inf", all_minus_inf),
        ("0-d", np.array(0.0)),
    ]


def float_array_any_and(extra):
    def bad(valid):
        return MUTATIONS["float_array_any"](valid) + extra(valid)

    return bad


def beam_ids(valid):
    return [
        ("float", valid.astype(np.float64)),
        ("empty", valid[:0]),
        ("2-D", valid[None]),
        ("list", valid.tolist()),
        ("None", None),
    ]


def log_prob(valid):
    return [
        ("bool", True),
        ("str", "-1"),
        ("None", None),
        ("nan", math.nan),
        ("inf", math.inf),
    ]


def table(valid):
    unnormalised = valid + 1.0
    return float_array_any_and(log_probs_extra)(valid) + [
        ("not normalised", unnormalised),
        ("not square", valid[:, :-1]),
    ]


# ------------------------------------------------------------------------------- fixtures

TEXT = "the cat sat on the mat; the dog sat on the log."
VOCAB = CharVocab.from_text(TEXT)
TEXT_IDS = VOCAB.encode(TEXT)

with np.errstate(divide="ignore"):
    TABLE = np.log(
        np.array(
            [
                [0.0, 0.6, 0.4, 0.0, 0.0],
                [0.0, 0.2, 0.0, 0.4, 0.4],
                [0.0, 0.0, 0.05, 0.9, 0.05],
                [0.2, 0.2, 0.2, 0.2, 0.2],
                [0.2, 0.2, 0.2, 0.2, 0.2],
            ]
        )
    )
FULL_TABLE = np.log(
    np.random.default_rng(0).dirichlet(np.ones(4), size=4)
)  # no -inf
BIGRAM_VOCAB = CharVocab(tuple("sabcd"))


def bigram():
    return BigramModel(TABLE.copy())


def batch_ids(seed=0, shape=(T, B)):
    return np.random.default_rng(seed).integers(0, V, shape)


def lm(dtype=np.float64):
    return CharLM(V, E, H, num_layers=L, dtype=dtype, seed=0)


def lm_state(model):
    rng = np.random.default_rng(1)
    return tuple(
        rng.uniform(-0.5, 0.5, (L, B, H)).astype(model.dtype) for _ in range(2)
    )


def after_forward():
    model = lm()
    model.forward(batch_ids())
    return {"model": model, "grad_logits": np.zeros((T, B, V))}


def rnn_lm(dtype=np.float64):
    return CharRNN(V, E, H, num_layers=L, dtype=dtype, seed=0)


def rnn_after_forward():
    model = rnn_lm()
    model.forward(batch_ids())
    return {"model": model, "grad_logits": np.zeros((T, B, V))}


def rnn_state(model):
    return (
        np.random.default_rng(1)
        .uniform(-0.5, 0.5, (L, B, H))
        .astype(model.dtype)
    )


def rnn_state_array(valid):
    """The plain RNN's state: one array h (L, B, H), not a pair."""
    other = np.float64 if valid.dtype == np.float32 else np.float32
    nan = valid.copy()
    nan[0, 0, 0] = np.nan
    return [
        ("a pair", (valid, valid)),
        ("other float dtype", valid.astype(other)),
        ("int dtype", valid.astype(np.int64)),
        ("one sequence fewer", valid[:, 1:]),
        ("one layer fewer", valid[1:]),
        ("no layer axis", valid[0]),
        ("nan", nan),
        ("list", valid.tolist()),
        ("tensor", torch.from_numpy(valid.copy())),
    ]


def rnn_layer_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(T, B, E)),
        "h0": rng.normal(size=(B, H)),
        "weight_ih": rng.normal(size=(H, E)),
        "weight_hh": rng.normal(size=(H, H)),
        "bias_ih": rng.normal(size=H),
        "bias_hh": rng.normal(size=H),
    }


def rnn_backward_arrays():
    arrays = rnn_layer_arrays()
    h = charlm.rnn_layer_forward(**arrays)
    del arrays["bias_ih"], arrays["bias_hh"]
    return arrays | {"h": h, "dh": np.ones_like(h)}


def adam_params():
    rng = np.random.default_rng(0)
    return {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}


def adam_after_two_steps():
    params = adam_params()
    opt = optim.Adam(params, lr=0.01)
    for _ in range(2):
        opt.step({k: np.ones_like(v) for k, v in params.items()})
    return opt


def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------------------- the calls

CHARDATA = [
    Call(chardata.python_docs_text, lambda: {}, {}),
    Call(
        chardata.load_text,
        lambda: {"path": None},
        {
            "path": lambda v: [
                ("int", 3),
                ("bool", True),
                ("empty str", ""),
                ("list", ["a.txt"]),
                ("bytes", b"a.txt"),
            ]
        },
    ),
    Call(CharVocab, lambda: {"chars": tuple("abc")}, {"chars": chars}),
    Call(CharVocab.from_text, lambda: {"text": "abca"}, {"text": text}),
    Call(
        lambda vocab, text: vocab.encode(text),
        lambda: {"vocab": VOCAB, "text": "the cat"},
        {
            "text": lambda v: (
                text_allowing_empty(v) + [("unknown character", "the cow!")]
            )
        },
        label="CharVocab.encode",
    ),
    Call(
        lambda vocab, ids: vocab.decode(ids),
        lambda: {"vocab": VOCAB, "ids": TEXT_IDS[:6].copy()},
        {"ids": id_array(VOCAB.size)},
        label="CharVocab.decode",
        skip=("ids:empty",),  # decoding no ids gives the empty text
    ),
    Call(
        chardata.split,
        lambda: {"ids": TEXT_IDS.copy(), "val_fraction": 0.2},
        {"ids": stream_ids, "val_fraction": open_unit},
    ),
    Call(
        chardata.bptt_batches,
        lambda: {
            "ids": TEXT_IDS.copy(),
            "batch_size": 2,
            "seq_len": 5,
            "drop_last": False,
        },
        {
            "ids": stream_ids,
            "batch_size": lambda v: (
                MUTATIONS["positive_int"](v) + [("too large", 100)]
            ),
            "seq_len": lambda v: (
                MUTATIONS["positive_int"](v) + [("too large", 100)]
            ),
            "drop_last": "bool",
        },
        names={"batch_size": "batch_size", "seq_len": "seq_len"},
    ),
    Call(
        chardata.dropped_characters,
        lambda: {"n_ids": 41, "batch_size": 2, "seq_len": 5},
        {
            "n_ids": lambda v: MUTATIONS["positive_int"](v) + [("too few", 10)],
            "batch_size": lambda v: (
                MUTATIONS["positive_int"](v) + [("too large", 100)]
            ),
            "seq_len": lambda v: (
                MUTATIONS["positive_int"](v) + [("too large", 100)]
            ),
        },
    ),
    Call(
        chardata.unigram_bits_per_char,
        lambda: {
            "train_ids": TEXT_IDS[:30].copy(),
            "val_ids": TEXT_IDS[30:].copy(),
            "vocab_size": 20,
        },
        {
            "train_ids": id_array(20),
            "val_ids": id_array(20),
            "vocab_size": "positive_int",
        },
    ),
]


def lm_method_calls(cls, make, make_state, after, state, step_state, select):
    """The Calls of the methods CharLM and CharRNN share, with the model's own
    factories and the mutations of its state (a pair of arrays, or one array)."""
    name = cls.__name__
    return [
        Call(
            lambda model, ids, state: model.forward(ids, state),
            lambda: {
                "model": (m := make()),
                "ids": batch_ids(),
                "state": make_state(m),
            },
            {"ids": id_array(V), "state": state},
            label=f"{name}.forward",
        ),
        Call(
            lambda model, grad_logits: model.backward(grad_logits),
            after,
            {"grad_logits": "float_array"},
            label=f"{name}.backward",
        ),
        Call(
            lambda model, inputs, targets, state: model.loss_and_grads(
                inputs, targets, state
            ),
            lambda: {
                "model": (m := make()),
                "inputs": batch_ids(0),
                "targets": batch_ids(1),
                "state": make_state(m),
            },
            {"inputs": id_array(V), "targets": id_array(V), "state": state},
            label=f"{name}.loss_and_grads",
        ),
        Call(
            lambda model, batch_size: model.start_state(batch_size),
            lambda: {"model": make(), "batch_size": 2},
            {"batch_size": "positive_int"},
            label=f"{name}.start_state",
        ),
        Call(
            lambda model, ids, state: model.step(ids, state),
            lambda: {
                "model": (m := make()),
                "ids": batch_ids(shape=(B,)),
                "state": make_state(m),
            },
            {"ids": id_array(V), "state": step_state},
            label=f"{name}.step",
        ),
        Call(
            cls.select_state,
            lambda: {"state": make_state(make()), "rows": np.array([2, 0])},
            {"state": select, "rows": rows(B)},
            label=f"{name}.select_state",
        ),
    ]


CHARLM = [
    Call(
        charlm.log_softmax,
        lambda: {"logits": np.zeros((2, V))},
        {
            "logits": float_array_any_and(lambda v: [("0-d", np.array(1.0))]),
        },
        skip=("logits:extra dimension", "logits:one row fewer"),
    ),  # any (..., V) is fine
    Call(
        charlm.cross_entropy,
        lambda: {"logits": np.zeros((T, B, V)), "targets": batch_ids()},
        {
            "logits": float_array_any_and(lambda v: [("0-d", np.array(1.0))]),
            "targets": id_array(V),
        },
    ),
    Call(charlm.bits_per_char, lambda: {"nats": 1.0}, {"nats": nats}),
    Call(charlm.perplexity, lambda: {"nats": 1.0}, {"nats": nats}),
    Call(
        CharLM,
        lambda: {
            "vocab_size": V,
            "embed_size": E,
            "hidden_size": H,
            "num_layers": L,
            "dtype": np.float32,
            "seed": 0,
        },
        {
            "vocab_size": "positive_int",
            "embed_size": "optional_positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "dtype": numpy_dtype,
            "seed": "seed",
        },
    ),
    Call(
        lambda model: model.parameters(),
        lambda: {"model": lm()},
        {},
        label="CharLM.parameters",
    ),
    Call(
        lambda model: model.num_parameters(),
        lambda: {"model": lm()},
        {},
        label="CharLM.num_parameters",
    ),
    Call(
        lambda model: model.state_dict(),
        lambda: {"model": lm()},
        {},
        label="CharLM.state_dict",
    ),
    Call(
        lambda model, state_dict: model.load_state_dict(state_dict),
        lambda: {"model": lm(), "state_dict": lm().state_dict()},
        {"state_dict": state_dict},
        label="CharLM.load_state_dict",
    ),
    Call(
        lambda model, ids: model.embed(ids),
        lambda: {"model": lm(), "ids": batch_ids()},
        {"ids": id_array(V)},
        label="CharLM.embed",
    ),
    *lm_method_calls(
        CharLM,
        lm,
        lm_state,
        after_forward,
        state_pair,
        state_pair,
        any_state_pair,
    ),
    Call(
        lambda model, inputs, targets, state: model.loss(
            inputs, targets, state
        ),
        lambda: {
            "model": (m := lm()),
            "inputs": batch_ids(0),
            "targets": batch_ids(1),
            "state": lm_state(m),
        },
        {"inputs": id_array(V), "targets": id_array(V), "state": state_pair},
        label="CharLM.loss",
    ),
    Call(
        CharRNN,
        lambda: {
            "vocab_size": V,
            "embed_size": E,
            "hidden_size": H,
            "num_layers": L,
            "dtype": np.float32,
            "seed": 0,
        },
        {
            "vocab_size": "positive_int",
            "embed_size": "optional_positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "dtype": numpy_dtype,
            "seed": "seed",
        },
    ),
    *lm_method_calls(
        CharRNN,
        rnn_lm,
        rnn_state,
        rnn_after_forward,
        rnn_state_array,
        lambda v: rnn_state_array(v) + [("None", None)],
        lambda v: [
            ("list", v.tolist()),
            ("tensor", torch.from_numpy(v.copy())),
            ("int dtype", v.astype(np.int64)),
            ("no layer axis", v[0]),
            ("None", None),
        ],
    ),
    Call(
        charlm.rnn_layer_forward,
        rnn_layer_arrays,
        {
            name: "float_array"
            for name in (
                "x",
                "h0",
                "weight_ih",
                "weight_hh",
                "bias_ih",
                "bias_hh",
            )
        },
        skip=("x:one row fewer",),  # any T is fine
    ),
    Call(
        charlm.rnn_layer_backward,
        rnn_backward_arrays,
        {
            name: "float_array"
            for name in ("x", "h0", "h", "weight_ih", "weight_hh", "dh")
        },
        skip=("x:one row fewer",),  # then h and dh are blamed: also fine
        names={"x": "x"},
    ),
]

OPTIM = [
    Call(
        optim.Adam,
        lambda: {
            "params": adam_params(),
            "lr": 0.01,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
        },
        {
            "params": params_dict,
            "lr": "positive",
            "betas": betas,
            "eps": "positive",
        },
    ),
    Call(
        lambda opt, grads: opt.step(grads),
        lambda: {
            "opt": optim.Adam(adam_params()),
            "grads": {k: np.ones_like(v) for k, v in adam_params().items()},
        },
        {"grads": grads_dict},
        label="Adam.step",
    ),
    Call(
        lambda opt: opt.state_dict(),
        lambda: {"opt": adam_after_two_steps()},
        {},
        "Adam.state_dict",
    ),
    Call(
        lambda opt, state: opt.load_state_dict(state),
        lambda: {
            "opt": optim.Adam(adam_params()),
            "state": adam_after_two_steps().state_dict(),
        },
        {"state": adam_state},
        label="Adam.load_state_dict",
    ),
]

DECODING = [
    Call(
        BigramModel,
        lambda: {"log_probs": FULL_TABLE.copy()},
        {"log_probs": table},
    ),
    Call(
        lambda model, batch_size: model.start_state(batch_size),
        lambda: {"model": bigram(), "batch_size": 3},
        {"batch_size": "positive_int"},
        label="BigramModel.start_state",
    ),
    Call(
        lambda model, ids, state: model.step(ids, state),
        lambda: {
            "model": bigram(),
            "ids": np.array([0, 1, 4]),
            "state": np.zeros(3, np.int64),
        },
        {
            "ids": id_array(5),
            "state": lambda v: [
                ("one fewer", v[1:]),
                ("float", v.astype(np.float64)),
                ("list", v.tolist()),
                ("None", None),
            ],
        },
        label="BigramModel.step",
    ),
    Call(
        lambda model, state, rows: model.select_state(state, rows),
        lambda: {
            "model": bigram(),
            "state": np.zeros(3, np.int64),
            "rows": np.array([2, 0]),
        },
        {
            "state": lambda v: [("list", v.tolist()), ("None", None)],
            "rows": rows(3),
        },
        label="BigramModel.select_state",
    ),
    Call(
        decoding.prime,
        lambda: {
            "model": bigram(),
            "prompt_ids": np.array([0, 1]),
            "batch_size": 2,
        },
        {
            "model": step_model,
            "prompt_ids": id_array(5),
            "batch_size": "positive_int",
        },
    ),
    Call(
        decoding.adjust_log_probs,
        lambda: {
            "log_probs": np.log(np.full((2, 4), 0.25)),
            "temperature": 0.8,
            "top_k": 2,
        },
        {
            "log_probs": float_array_any_and(log_probs_extra),
            "temperature": "positive",
            "top_k": "optional_positive_int",
        },
        skip=(
            "log_probs:extra dimension",
            "log_probs:one row fewer",
        ),  # any (..., V) is fine
    ),
    Call(
        decoding.draw,
        lambda: {"log_probs": np.log(np.full((2, 4), 0.25)), "rng": rng()},
        {"log_probs": float_array_any_and(log_probs_extra), "rng": "rng"},
        skip=("log_probs:one row fewer",),  # any number of rows is fine
    ),
    Call(
        decoding.greedy,
        lambda: {"model": bigram(), "prompt_ids": np.array([0]), "length": 3},
        {
            "model": step_model,
            "prompt_ids": id_array(5),
            "length": "positive_int",
        },
    ),
    Call(
        decoding.sample,
        lambda: {
            "model": bigram(),
            "prompt_ids": np.array([0]),
            "length": 3,
            "rng": rng(),
            "temperature": 0.8,
            "top_k": 3,
            "num_samples": 2,
        },
        {
            "model": step_model,
            "prompt_ids": id_array(5),
            "length": "positive_int",
            "rng": "rng",
            "temperature": "positive",
            "top_k": "optional_positive_int",
            "num_samples": "optional_positive_int",
        },
    ),
    Call(
        decoding.Beam,
        lambda: {"ids": np.array([1, 2]), "log_prob": -1.5},
        {"ids": beam_ids, "log_prob": log_prob},
    ),
    Call(
        lambda beam, length_normalize: beam.score(length_normalize),
        lambda: {
            "beam": decoding.Beam(np.array([1, 2]), -1.5),
            "length_normalize": True,
        },
        {"length_normalize": "bool"},
        label="Beam.score",
    ),
    Call(
        decoding.beam_search,
        lambda: {
            "model": bigram(),
            "prompt_ids": np.array([0]),
            "length": 3,
            "beam_width": 2,
            "end_id": 4,
            "length_normalize": False,
        },
        {
            "model": step_model,
            "prompt_ids": id_array(5),
            "length": "positive_int",
            "beam_width": "positive_int",
            "end_id": end_id(5),
            "length_normalize": "bool",
        },
    ),
    Call(
        decoding.encode_prompt,
        lambda: {"vocab": BIGRAM_VOCAB, "prompt": "sab"},
        {"vocab": vocab_alone, "prompt": prompt},
    ),
    Call(
        decoding.generate,
        lambda: {
            "model": bigram(),
            "vocab": BIGRAM_VOCAB,
            "prompt": "s",
            "length": 4,
            "method": "sample",
            "rng": rng(),
            "temperature": 0.8,
            "top_k": 3,
            "beam_width": 2,
        },
        {
            "model": step_model,
            "vocab": char_vocab(5),
            "prompt": prompt,
            "length": "positive_int",
            "method": method,
            "rng": "rng",
            "temperature": "positive",
            "top_k": "optional_positive_int",
            "beam_width": "positive_int",
        },
    ),
    Call(
        decoding.generate,
        lambda: {
            "model": lm(),
            "vocab": CharVocab(tuple("abcdefg")),
            "prompt": "abc",
            "length": 4,
            "method": "greedy",
        },
        {
            "model": lambda v: [
                ("None", None),
                ("the vocabulary", CharVocab(tuple("abc"))),
            ]
        },
        label="generate with a CharLM",
    ),
    Call(
        decoding.generate_many,
        lambda: {
            "model": bigram(),
            "vocab": BIGRAM_VOCAB,
            "prompt": "s",
            "length": 4,
            "method": "beam",
            "num_samples": 3,
            "rng": rng(),
            "temperature": 0.8,
            "top_k": 3,
            "beam_width": 2,
        },
        {
            "model": step_model,
            "vocab": char_vocab(5),
            "prompt": prompt,
            "length": "positive_int",
            "method": method,
            "num_samples": "positive_int",
            "rng": "optional_rng",
            "temperature": "positive",
            "top_k": "optional_positive_int",
            "beam_width": "positive_int",
        },
    ),
    Call(
        decoding.distinct_n,
        lambda: {"texts": ["abcd", "abce"], "n": 2},
        {"texts": texts, "n": "positive_int"},
    ),
    Call(
        decoding.repeated_ngram_rate,
        lambda: {"text": "abcabc", "n": 3},
        {"text": short_text, "n": "positive_int"},
    ),
    Call(
        decoding.mean_log_prob,
        lambda: {
            "model": bigram(),
            "prompt_ids": np.array([0]),
            "ids": np.array([[2, 3], [1, 3]]),
        },
        {
            "model": step_model,
            "prompt_ids": id_array(5),
            "ids": lambda v: (
                [
                    (label, bad)
                    for label, bad in id_array(5)(v)
                    if label != "extra dimension"
                ]
                + [("3-D", v[None])]
            ),
        },
    ),
    Call(
        decoding.TextStats,
        lambda: {
            "bits_per_char": 1.2,
            "distinct": 0.5,
            "repeated": 0.1,
            "texts": ["ab"],
        },
        {
            "bits_per_char": lambda v: [
                ("bool", True),
                ("str", "1"),
                ("None", None),
                ("nan", math.nan),
                ("negative", -1.0),
            ],
            "distinct": "fraction",
            "repeated": "fraction",
            "texts": text_list,
        },
    ),
    Call(
        decoding.text_stats,
        lambda: {
            "model": bigram(),
            "vocab": BIGRAM_VOCAB,
            "prompts": ["s"],
            "continuations": [["bcab", "abcd"]],
            "distinct_order": 2,
            "repeat_order": 2,
        },
        {
            "model": step_model,
            "vocab": char_vocab(5),
            "prompts": prompts,
            "continuations": continuations,
            "distinct_order": lambda v: (
                MUTATIONS["positive_int"](v) + [("too long", 5)]
            ),
            "repeat_order": lambda v: (
                MUTATIONS["positive_int"](v) + [("too long", 5)]
            ),
        },
    ),
    Call(
        decoding.text_windows,
        lambda: {
            "text": TEXT,
            "count": 3,
            "prompt_length": 4,
            "length": 5,
            "rng": rng(),
        },
        {
            "text": lambda v: (
                MUTATIONS["str"](v) + [("too short", v[:8]), ("empty", "")]
            ),
            "count": lambda v: (
                MUTATIONS["positive_int"](v) + [("more than the windows", 40)]
            ),
            "prompt_length": "positive_int",
            "length": "positive_int",
            "rng": "rng",
        },
    ),
]


CALLS = CHARDATA + CHARLM + OPTIM + DECODING


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)


@pytest.mark.parametrize(
    "module", [chardata, charlm, optim, decoding], ids=lambda m: m.__name__
)
def test_every_public_function_class_and_method_has_a_call(module):
    missing = set(public_api(module)) - {call.id for call in CALLS}
    assert not missing, f"no Call in this file for {sorted(missing)}"
