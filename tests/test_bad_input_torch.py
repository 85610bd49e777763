"""Bad input to the PyTorch modules, the story corpus, the word LM, the long-lag tasks and the
small helpers: every public function and class refuses it with an error naming the argument.

The harness (:mod:`badinput`) takes each valid call below and makes one argument at a time
wrong in the usual ways; the targeted tests after it cover what one argument alone cannot
show: sizes that disagree between arguments, states of the wrong batch, ids out of range
inside nested structures, a vocabulary that does not fit the model, configs checked whole
before training starts, empty inputs. The teaching functions that stay unchecked
(``torch_lstm.lstm_cell_step``, ``torch_lstm.lstm_layer``, ``VariantLSTM.cell_step``) are
reached through the checked modules only.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from badinput import (
    MUTATIONS,
    Call,
    cases,
    check_case,
    check_valid,
    id_tensor,
    public_api,
    valid_calls,
)
from torch import nn

from lstm_tutorial import (
    display,
    plotting,
    seeding,
    stories,
    story,
    tasks,
    torch_lstm,
    variants,
    word_lm,
)
from lstm_tutorial.stories import (
    DEFAULT_VOCAB,
    Animal,
    Probe,
    Story,
    StoryVocab,
    accuracy_by_distance,
    bigram_scores,
    corpus_statistics,
    generate_stories,
    generate_story,
    plot_probes,
)
from lstm_tutorial.word_lm import PAD, StoryLMConfig, WordLM, WordVocab

matplotlib.use("Agg")

VOCAB = WordVocab.from_story_vocab()
V = VOCAB.size


# ------------------------------------------------------------------------------ mutations


def _kinds(*pairs):
    """A mutation kind that ignores the valid value: fixed (label, bad value) pairs."""
    return lambda valid: list(pairs)


DEVICE = _kinds(
    ("garbage str", "not-a-device"), ("float", 1.5), ("list", ["cpu"])
)
MODULE_FLAGS = {"bias": "bool", "device": DEVICE, "dtype": "torch_dtype"}


def _ints_from(minimum, maximum=None):
    """An integer in [minimum, maximum]: the usual mistakes, and the first value outside."""

    def bad(valid):
        out = [
            ("bool", True),
            ("float", valid + 0.5),
            ("whole float", float(valid)),
        ]
        out += [
            ("str", str(valid)),
            ("None", None),
            ("below minimum", minimum - 1),
        ]
        if maximum is not None:
            out.append(("above maximum", maximum + 1))
        return out

    return bad


def _int_array(valid):
    return [
        ("list", valid.tolist()),
        ("float dtype", valid.astype(np.float64)),
        ("tensor", torch.from_numpy(valid.copy())),
        ("extra dimension", valid[None]),
        ("one row fewer", valid[1:]),
        ("None", None),
    ]


def _hx(valid):
    """A state pair (h0, c0) made wrong: not a pair, other batch, other dtype, numpy."""
    h, c = valid
    return [
        ("one tensor", h),
        ("triple", (h, c, c)),
        ("other batch", (torch.cat([h, h], dim=-2), torch.cat([c, c], dim=-2))),
        ("other dtype", (h.double(), c.double())),
        ("numpy", (h.numpy(), c.numpy())),
        ("list of lists", [h.tolist(), c.tolist()]),
    ]


def _encoded(vocab_size=None):
    """Encoded stories (N, L) made wrong in type, dtype, shape, range and layout."""

    def bad(valid):
        negative, padded_inside, too_short = (
            valid.clone(),
            valid.clone(),
            valid.clone(),
        )
        negative[0, 0] = -1
        padded_inside[0, 1] = 0
        too_short[0, 1:] = 0
        out = [
            ("numpy", valid.numpy().copy()),
            ("list", valid.tolist()),
            ("int32", valid.to(torch.int32)),
            ("float", valid.float()),
            ("one row", valid[0]),
            ("one column", valid[:, :1]),
            ("no rows", valid[:0]),
            ("negative id", negative),
            ("padding inside a row", padded_inside),
            ("a row of one word", too_short),
            ("None", None),
        ]
        if vocab_size is not None:
            too_big = valid.clone()
            too_big[0, 0] = vocab_size
            out.append(("id == vocab size", too_big))
        return out

    return bad


def _stories(valid):
    return [
        ("empty", []),
        ("str", "John gave Mary a puppy."),
        ("one Story", valid[0]),
        ("list of str", ["John gave Mary a puppy."]),
        ("None inside", [valid[0], None]),
        ("None", None),
    ]


STORIES = lambda: generate_stories(5, range(4), seed=0)  # noqa: E731 - a fresh list per case


def _model():
    torch.manual_seed(0)
    return WordLM(V, embed_size=4, hidden_size=4)


def _batch(valid):
    inputs, targets = valid
    far, ignored, ragged = (
        targets.clone(),
        torch.full_like(targets, word_lm.IGNORE),
        targets[1:],
    )
    far[0, 0] = V
    too_big = inputs.clone()
    too_big[0, 0] = V
    return [
        ("one tensor", inputs),
        ("triple", (inputs, targets, targets)),
        ("numpy inputs", (inputs.numpy(), targets)),
        ("float inputs", (inputs.float(), targets)),
        ("inputs id == vocab size", (too_big, targets)),
        ("targets id == vocab size", (inputs, far)),
        ("targets of another shape", (inputs, ragged)),
        ("every target ignored", (inputs, ignored)),
        ("None", None),
    ]


def _a_batch():
    ids = word_lm.encode_stories(STORIES(), VOCAB)
    return word_lm.split_inputs_targets(ids)


def _scores(valid):
    def changed(**entries):
        return {**valid, **entries}

    missing = {k: v for k, v in valid.items() if k != "recall"}
    return [
        ("not a mapping", [valid["distance"]]),
        ("missing recall", missing),
        ("list distances", changed(distance=valid["distance"].tolist())),
        ("float distances", changed(distance=valid["distance"].astype(float))),
        ("negative distance", changed(distance=valid["distance"] - 5)),
        ("empty", changed(distance=valid["distance"][:0])),
        (
            "agreement of another shape",
            changed(agreement=valid["agreement"][1:]),
        ),
        ("agreement not 0/1", changed(agreement=valid["agreement"] * 0.5)),
        ("recall as a list", changed(recall=valid["recall"].tolist())),
    ]


def _plot_probes(**kwargs):
    import matplotlib.pyplot as plt

    plt.close(plot_probes(**kwargs).figure)


def _plot_dependencies(**kwargs):
    import matplotlib.pyplot as plt

    plt.close(plotting.plot_dependencies(**kwargs).figure)


TOKENS = story.tokenize(story.STORY)
REBER = tasks.encode_reber(tasks.embedded_reber(4, np.random.default_rng(0)))
FLOAT = lambda *shape: torch.zeros(*shape)  # noqa: E731


# ------------------------------------------------------------------------------ the calls

TORCH_CALLS = [
    Call(
        torch_lstm.LSTMCell,
        lambda: {
            "input_size": 3,
            "hidden_size": 4,
            "bias": True,
            "device": None,
            "dtype": None,
        },
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            **MODULE_FLAGS,
        },
    ),
    Call(
        torch_lstm.LSTM,
        lambda: {
            "input_size": 3,
            "hidden_size": 4,
            "num_layers": 2,
            "bias": True,
            "batch_first": False,
            "dropout": 0.1,
            "bidirectional": False,
            "proj_size": 0,
            "device": "cpu",
            "dtype": torch.float32,
        },  # fmt: skip
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "batch_first": "bool",
            "bidirectional": "bool",
            "dropout": "fraction",
            **MODULE_FLAGS,
            "proj_size": _kinds(
                ("bool", False), ("float", 0.0), ("str", "0"), ("set", 2)
            ),
        },  # fmt: skip
        # dropout=1.0 ("above maximum" is 1.5) is refused, [valid] too; 0.0 ... 1.0 are valid
    ),
    Call(
        lambda model, input, hx: model(input, hx),
        lambda: {
            "model": torch_lstm.LSTMCell(3, 4),
            "input": FLOAT(2, 3),
            "hx": (FLOAT(2, 4),) * 2,
        },
        {"input": "float_tensor", "hx": _hx},
        label="LSTMCell.forward",
    ),
    Call(
        lambda model, input, hx: model(input, hx),
        lambda: {
            "model": torch_lstm.LSTM(3, 4, num_layers=2),
            "input": FLOAT(5, 2, 3),
            "hx": (FLOAT(2, 2, 4),) * 2,
        },
        {"input": "float_tensor", "hx": _hx},
        label="LSTM.forward",
    ),
    Call(
        lambda model, k, direction: model.layer_parameters(k, direction),
        lambda: {
            "model": torch_lstm.LSTM(3, 4, num_layers=2),
            "k": 1,
            "direction": 0,
        },
        {"k": _ints_from(0, 1), "direction": _ints_from(0, 0)},
        label="LSTM.layer_parameters",
    ),
    Call(
        torch_lstm.autograd_graph,
        lambda: {"tensor": torch.ones(2, requires_grad=True) * 2},
        {
            "tensor": _kinds(
                ("numpy", np.zeros(2)), ("list", [1.0]), ("None", None)
            )
        },
    ),
    Call(
        torch_lstm.median_seconds,
        lambda: {
            "functions": {"a": lambda: None},
            "repeats": 1,
            "number": 1,
            "threads": 1,
        },
        {
            "functions": _kinds(
                ("empty", {}),
                ("not callable", {"a": 3}),
                ("list", [lambda: None]),
                ("None", None),
            ),
            "repeats": "positive_int",
            "number": "positive_int",
            "threads": "optional_positive_int",
        },
    ),
]

SWITCHES = ("forget_gate", "peepholes", "coupled", "output_gate")
SWITCHES += ("input_activation", "output_activation")
VARIANT_CALLS = [
    Call(
        variants.VariantLSTM,
        lambda: {
            "input_size": 3,
            "hidden_size": 4,
            "num_layers": 1,
            "bias": True,
            "batch_first": False,
            "dropout": 0.0,
            "bidirectional": False,
            "forget_bias": 1.0,
            "input_bias": None,
            "device": None,
            "dtype": None,
            **dict.fromkeys(SWITCHES[1:], False),
            "forget_gate": True,
            "output_gate": True,
            "input_activation": True,
            "output_activation": True,
        },  # fmt: skip
        {
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "batch_first": "bool",
            "bidirectional": "bool",
            "dropout": "fraction",
            "forget_bias": "optional_number",
            "input_bias": "optional_number",
            **MODULE_FLAGS,
            **dict.fromkeys(SWITCHES, "bool"),
        },  # fmt: skip
    ),
    Call(
        lambda model, input, hx, return_gates, cell_hook: model(
            input, hx, return_gates=return_gates, cell_hook=cell_hook
        ),
        lambda: {
            "model": variants.VariantLSTM(3, 4, batch_first=True),
            "input": FLOAT(2, 5, 3),
            "hx": (FLOAT(1, 2, 4),) * 2,
            "return_gates": True,
            "cell_hook": lambda t, c: c,
        },
        {
            "input": "float_tensor",
            "hx": _hx,
            "return_gates": "bool",
            "cell_hook": "callable",
        },
        label="VariantLSTM.forward",
    ),
    Call(
        lambda model, k, direction: model.layer_parameters(k, direction),
        lambda: {
            "model": variants.VariantLSTM(3, 4, bidirectional=True),
            "k": 0,
            "direction": 1,
        },
        {"k": _ints_from(0, 0), "direction": _ints_from(0, 1)},
        label="VariantLSTM.layer_parameters",
    ),
    Call(
        variants.set_gate_bias,
        lambda: {"module": nn.LSTM(3, 4), "gate": "f", "value": 1.0},
        {
            "module": _kinds(
                ("GRU", nn.GRU(3, 4)),
                ("None", None),
                ("no bias", nn.LSTM(3, 4, bias=False)),
            ),
            "gate": _kinds(
                ("unknown", "x"),
                ("int", 1),
                ("None", None),
                ("upper case", "F"),
            ),
            "value": "number",
        },
    ),
    Call(
        variants.make_recurrent,
        lambda: {
            "kind": "lstm",
            "input_size": 3,
            "hidden_size": 4,
            "num_layers": 1,
            "bidirectional": False,
            "batch_first": True,
            "forget_bias": 1.0,
        },  # fmt: skip
        {
            "kind": _kinds(
                ("unknown", "transformer"),
                ("int", 3),
                ("None", None),
                ("upper", "LSTM"),
            ),
            "input_size": "positive_int",
            "hidden_size": "positive_int",
            "num_layers": "positive_int",
            "bidirectional": "bool",
            "batch_first": "bool",
            "forget_bias": "optional_number",
        },  # fmt: skip
    ),
    Call(
        variants.make_recurrent,
        lambda: {
            "kind": "gru",
            "input_size": 3,
            "hidden_size": 4,
            "update_bias": 3.0,
        },
        {"update_bias": "optional_number"},
        label="make_recurrent(gru, update_bias)",
    ),
    Call(
        variants.make_recurrent,
        lambda: {
            "kind": "rnn",
            "input_size": 3,
            "hidden_size": 4,
            "orthogonal": True,
        },
        {"orthogonal": "bool"},
        label="make_recurrent(rnn, orthogonal)",
    ),
    Call(
        variants.make_recurrent,
        lambda: {
            "kind": "variant",
            "input_size": 3,
            "hidden_size": 4,
            "peepholes": True,
        },
        {"peepholes": "bool"},
        label="make_recurrent(variant)",
    ),
    Call(
        variants.count_parameters,
        lambda: {"module": nn.LSTM(3, 4)},
        {
            "module": _kinds(
                ("None", None), ("str", "lstm"), ("tensor", torch.zeros(3))
            )
        },
    ),
    Call(
        variants.matching_hidden_size,
        lambda: {"kind": "gru", "input_size": 2, "n_parameters": 1000},
        {
            "kind": _kinds(("unknown", "cnn"), ("None", None)),
            "input_size": "positive_int",
            "n_parameters": _kinds(
                *_ints_from(1)(1000), ("more than H=1024 has", 10**9)
            ),
        },
    ),
    Call(
        variants.SequenceModel,
        lambda: {
            "recurrent": variants.make_recurrent("lstm", 6, 5),
            "output_size": 3,
            "vocab_size": 6,
        },
        {
            "recurrent": _kinds(
                ("not batch first", nn.LSTM(6, 5)),
                ("None", None),
                ("Linear", nn.Linear(6, 5)),
            ),
            "output_size": "positive_int",
            "vocab_size": _kinds(
                *_ints_from(1)(6)[:-2], ("not the input size", 7)
            ),
        },
    ),
    Call(
        lambda model, x: model(x),
        lambda: {
            "model": variants.SequenceModel(
                variants.make_recurrent("lstm", 6, 5), 3, 6
            ),
            "x": torch.tensor([[1, 2, 3, 0]]),
        },
        {"x": id_tensor(6)},
        label="SequenceModel.forward(ids)",
    ),
    Call(
        lambda model, x: model(x),
        lambda: {
            "model": variants.SequenceModel(
                variants.make_recurrent("gru", 2, 5), 1
            ),
            "x": FLOAT(3, 7, 2),
        },
        {"x": "float_tensor"},
        label="SequenceModel.forward(floats)",
    ),
    Call(
        variants.from_torch_lstm,
        lambda: {"lstm": nn.LSTM(3, 4)},
        {
            "lstm": _kinds(
                ("GRU", nn.GRU(3, 4)),
                ("VariantLSTM", variants.VariantLSTM(3, 4)),
                ("projections", nn.LSTM(3, 4, proj_size=2)),
                ("None", None),
            )
        },
    ),
    Call(
        variants.clamp_cells,
        lambda: {
            "units": [0, 2],
            "values": torch.tensor([1.0, -1.0]),
            "start": torch.tensor([1, 3]),
        },
        {
            "units": _kinds(
                ("empty", []),
                ("negative", [-1]),
                ("float", [1.0]),
                ("bool", [True]),
                ("repeated", [1, 1]),
                ("tensor", torch.tensor([1])),
                ("int", 1),
                ("None", None),
            ),
            "values": _kinds(
                ("bool", True),
                ("nan", math.nan),
                ("inf", math.inf),
                ("list", [1.0, 2.0]),
                ("str", "1"),
                ("int tensor", torch.tensor([1, 2])),
                ("wrong k", torch.zeros(3)),
                ("nan tensor", torch.tensor([math.nan, 0.0])),
                ("3-d", torch.zeros(1, 1, 2)),
                ("None", None),
            ),
            "start": _kinds(
                ("negative", -1),
                ("float", 1.0),
                ("bool", True),
                ("list", [1, 3]),
                ("int32 tensor", torch.tensor([1, 3], dtype=torch.int32)),
                ("negative tensor", torch.tensor([-1, 0])),
                ("2-d", torch.zeros(2, 1).long()),
                ("None", None),
            ),
        },  # fmt: skip
    ),
    Call(
        variants.label_correlation,
        lambda: {
            "states": FLOAT(6, 3),
            "labels": torch.tensor([0, 1, 1, 0, 1, 0]),
        },
        {
            "states": "float_tensor",
            "labels": _kinds(
                ("numpy", np.zeros(6)),
                ("list", [0, 1, 1, 0, 1, 0]),
                ("shorter", torch.ones(5)),
                ("2-d", torch.ones(1, 6)),
                ("nan", torch.full((6,), math.nan)),
                ("None", None),
            ),  # fmt: skip
        },
        # any floating dtype of states is fine: the correlation is computed in float64
        skip=("states:other float dtype",),
    ),
]

WORD_LM_CALLS = [
    Call(
        WordVocab,
        lambda: {"words": (PAD, "<eos>", "a")},
        {
            "words": _kinds(
                ("str", "<pad> a"),
                ("no pad first", ("a", PAD)),
                ("repeated", (PAD, "a", "a")),
                ("non-str word", (PAD, 3)),
                ("empty", ()),
                ("None", None),
            )  # fmt: skip
        },
    ),
    Call(
        WordVocab.from_story_vocab,
        lambda: {"vocab": DEFAULT_VOCAB},
        {
            "vocab": _kinds(
                ("str", "words"), ("None", None), ("WordVocab", VOCAB)
            )
        },
    ),
    Call(
        lambda vocab, tokens: vocab.encode(tokens),
        lambda: {"vocab": VOCAB, "tokens": ["a", "puppy"]},
        {
            "tokens": _kinds(
                ("str", "a puppy"),
                ("unknown word", ["a", "dragon"]),
                ("int", 3),
                ("non-str word", ["a", 3]),
                ("tensor", torch.tensor([1, 2])),
                ("None", None),
            )  # fmt: skip
        },
        label="WordVocab.encode",
    ),
    Call(
        lambda vocab, ids: vocab.decode(ids),
        lambda: {"vocab": VOCAB, "ids": torch.tensor([2, 3])},
        {
            "ids": _kinds(
                ("negative", [-1]),
                ("id == size", [V]),
                ("float", [1.0]),
                ("bool", [True]),
                ("2-d tensor", torch.ones(1, 2, dtype=torch.int64)),
                ("float tensor", torch.ones(2)),
                ("bool tensor", torch.ones(2, dtype=torch.bool)),
                ("negative tensor", torch.tensor([-1])),
                ("str", "ab"),
                ("None", None),
            )  # fmt: skip
        },
        label="WordVocab.decode",
    ),
    Call(
        word_lm.add_keep_bias,
        lambda: {"recurrent": nn.LSTM(3, 4), "value": 2.0},
        {
            "recurrent": _kinds(
                ("RNN", nn.RNN(3, 4)),
                ("no bias", nn.LSTM(3, 4, bias=False)),
                ("None", None),
            ),
            "value": "number",
        },
    ),
    Call(
        WordLM,
        lambda: {
            "vocab_size": V,
            "cell": "gru",
            "embed_size": 4,
            "hidden_size": 4,
            "keep_bias": 1.0,
        },
        {
            "vocab_size": "positive_int",
            "cell": _kinds(
                ("unknown", "cnn"), ("None", None), ("upper", "LSTM")
            ),
            "embed_size": "positive_int",
            "hidden_size": "positive_int",
            "keep_bias": "number",
        },
    ),
    Call(
        lambda model, ids, state: model(ids, state),
        lambda: {
            "model": _model(),
            "ids": torch.tensor([[2, 3, 4], [5, 6, 7]]),
            "state": (FLOAT(1, 2, 4), FLOAT(1, 2, 4)),
        },
        {"ids": id_tensor(V), "state": _hx},
        label="WordLM.forward",
    ),
    Call(
        word_lm.encode_stories,
        lambda: {"stories": STORIES(), "vocab": VOCAB},
        {
            "stories": _stories,
            "vocab": _kinds(
                ("None", None),
                ("StoryVocab", DEFAULT_VOCAB),
                ("no <eos>", WordVocab((PAD, "a"))),
            ),
        },
    ),
    Call(
        word_lm.split_inputs_targets,
        lambda: {"ids": word_lm.encode_stories(STORIES(), VOCAB)},
        {"ids": _encoded()},
    ),
    Call(
        word_lm.story_batches,
        lambda: {
            "ids": word_lm.encode_stories(STORIES(), VOCAB),
            "batch_size": 2,
            "shuffle": True,
        },
        {"ids": _encoded(), "batch_size": "positive_int", "shuffle": "bool"},
    ),
    Call(
        word_lm.lm_loss,
        lambda: {"model": _model(), "batch": _a_batch()},
        {"model": _kinds(("None", None), ("str", "model")), "batch": _batch},
    ),
    Call(
        word_lm.perplexity,
        lambda: {
            "model": _model(),
            "ids": word_lm.encode_stories(STORIES(), VOCAB),
            "batch_size": 2,
        },
        {
            "model": _kinds(("None", None), ("function", len)),
            "ids": _encoded(V),
            "batch_size": "positive_int",
        },
    ),
    Call(
        word_lm.probe_scores,
        lambda: {
            "model": _model(),
            "vocab": VOCAB,
            "stories": STORIES(),
            "kind": "recall",
            "batch_size": 2,
        },  # fmt: skip
        {
            "model": _kinds(("None", None)),
            "vocab": _kinds(
                ("smaller", WordVocab(VOCAB.words[:-1])),
                ("larger", WordVocab((*VOCAB.words, "x"))),
                ("StoryVocab", DEFAULT_VOCAB),
                ("None", None),
            ),  # fmt: skip
            "stories": _stories,
            "kind": _kinds(("unknown", "gap"), ("None", None), ("int", 1)),
            "batch_size": "positive_int",
        },
    ),
    Call(
        word_lm.score_probes,
        lambda: {
            "model": _model(),
            "vocab": VOCAB,
            "stories": STORIES(),
            "batch_size": 3,
        },
        {
            "vocab": _kinds(
                ("smaller", WordVocab(VOCAB.words[:-1])), ("None", None)
            ),
            "stories": _stories,
            "batch_size": "positive_int",
        },
    ),
    Call(
        word_lm.probe_choices,
        lambda: {
            "model": _model(),
            "vocab": VOCAB,
            "stories": STORIES(),
            "kind": "agreement",
        },
        {
            "vocab": _kinds(("smaller", WordVocab(VOCAB.words[:-1]))),
            "stories": _stories,
            "kind": _kinds(("unknown", "gap"), ("None", None)),
        },
    ),
    Call(
        word_lm.generate,
        lambda: {
            "model": _model(),
            "vocab": VOCAB,
            "prompt": "John gave Mary a puppy.",
            "max_new_words": 3,
            "greedy": False,
            "seed": 1,
        },  # fmt: skip
        {
            "vocab": _kinds(
                ("smaller", WordVocab(VOCAB.words[:-1])), ("None", None)
            ),
            "prompt": _kinds(
                ("empty", ""),
                ("blank", "   "),
                ("unknown word", "John gave Mary a dragon."),
                ("digits", "It has 4 legs."),
                ("list", ["John"]),
                ("None", None),
                ("int", 3),
            ),  # fmt: skip
            "max_new_words": "count",
            "greedy": "bool",
            "seed": "seed",
        },
    ),
    Call(
        StoryLMConfig,
        lambda: dataclasses.asdict(StoryLMConfig()),
        {
            "cell": _kinds(("unknown", "lstmm"), ("None", None), ("int", 1)),
            "embed_size": "positive_int",
            "hidden_size": "positive_int",
            "keep_bias": "number",
            "lr": "positive",
            "epochs": "positive_int",
            "batch_size": "positive_int",
            "train_stories": "positive_int",
            "val_stories": "positive_int",
            "max_distance": _ints_from(0, DEFAULT_VOCAB.max_distance),
            "clip_norm": "optional_positive",
            "data_seed": "seed",
            "seed": "seed",
            "version": "positive_int",
        },  # fmt: skip
    ),
    Call(
        StoryLMConfig.tuned,
        lambda: {"cell": "gru", "epochs": 2},
        {
            "cell": _kinds(("unknown", "cnn"), ("None", None)),
            "epochs": "positive_int",
        },
    ),
    Call(
        StoryLMConfig,
        lambda: (
            dataclasses.asdict(StoryLMConfig())
            | {"min_distance": 2, "attractors": 1}
        ),
        {
            "min_distance": lambda v: (
                MUTATIONS["count"](v)
                + [("above max_distance", StoryLMConfig().max_distance + 1)]
            ),
            "distractor": "bool",
            "attractors": lambda v: (
                MUTATIONS["count"](v) + [("above min_distance", v + 2)]
            ),
        },
        label="StoryLMConfig(min_distance, distractor, attractors)",
    ),
    Call(
        word_lm.story_options,
        lambda: {
            "config": StoryLMConfig(
                min_distance=2, distractor=True, attractors=1
            )
        },
        {
            "config": _kinds(
                ("dict", dataclasses.asdict(StoryLMConfig())), ("None", None)
            )
        },
    ),
    Call(
        word_lm.story_data,
        lambda: {
            "config": StoryLMConfig(train_stories=8, val_stories=4),
            "vocab": VOCAB,
        },
        {
            "config": _kinds(
                ("dict", dataclasses.asdict(StoryLMConfig())), ("None", None)
            ),
            "vocab": _kinds(("StoryVocab", DEFAULT_VOCAB), ("None", None)),
        },
    ),
]

#: Calls whose valid form trains a model: only their refusals run here (they raise before
#: any training); test_word_lm.py trains through the valid calls.
TRAINING_CALLS = [
    Call(
        word_lm.train_story_lm,
        lambda: {
            "config": StoryLMConfig(),
            "directory": "checkpoints",
            "device": "cpu",
            "log": None,
        },
        {
            "config": _kinds(
                ("dict", dataclasses.asdict(StoryLMConfig())), ("None", None)
            ),
            "directory": _kinds(
                ("int", 3), ("empty", ""), ("list", ["checkpoints"])
            ),
            "device": DEVICE,
            "log": _kinds(("int", 3), ("str", "print")),
        },
    ),
    Call(
        word_lm.tune_learning_rate,
        lambda: {"cell": "rnn", "grid": (1e-2, 1e-3), "epochs": 1},
        {
            "cell": _kinds(("unknown", "cnn"), ("None", None)),
            "grid": _kinds(
                ("empty", ()),
                ("str", "0.01"),
                ("bool rate", (True,)),
                ("inf", (math.inf,)),
                ("negative", (1e-2, -1e-3)),
                ("repeated", (1e-2, 1e-2)),
                ("numpy", np.array([1e-2])),
                ("None", None),
            ),  # fmt: skip
            "epochs": "positive_int",
        },
    ),
]


def _story_list(valid):
    return [
        ("empty", []),
        ("str", "John gave Mary a puppy."),
        ("one Story", valid[0]),
        ("None inside", [valid[0], None]),
        ("None", None),
    ]


PLAIN = lambda: generate_stories(6, range(1, 4), seed=0)  # noqa: E731 - fresh per case
A_STORY = lambda: generate_story(np.random.default_rng(0), 3)  # noqa: E731


def STORY_FIELDS():  # noqa: N802 - named like the constants beside it
    return {
        f.name: getattr(A_STORY(), f.name) for f in dataclasses.fields(Story)
    }


def _attractors(distance):
    return lambda v: (
        MUTATIONS["count"](v) + [("more than the distance", distance + 1)]
    )


STORIES_CALLS = [
    Call(
        stories.generate_story,
        lambda: {
            "rng": np.random.default_rng(0),
            "distance": 3,
            "plural": None,
            "vocab": DEFAULT_VOCAB,
            "distractor": True,
            "attractors": 2,
        },
        {"rng": "rng", "distractor": "bool", "attractors": _attractors(3)},
        label="generate_story with distractor and attractors",
    ),
    Call(
        stories.generate_stories,
        lambda: {
            "n": 3,
            "distances": range(2, 4),
            "seed": 0,
            "distractor": True,
            "attractors": 2,
        },
        {"distractor": "bool", "attractors": _attractors(2)},
        label="generate_stories with distractor and attractors",
    ),
    Call(
        stories.best_perplexity,
        lambda: {
            "stories": PLAIN(),
            "distances": range(1, 4),
            "vocab": DEFAULT_VOCAB,
            "remember_names": False,
        },
        {
            "stories": lambda v: (
                _story_list(v)
                + [("no log_prob", [dataclasses.replace(v[0], log_prob=None)])]
            ),
            "distances": _kinds(
                ("float", 2.0),
                ("str", "3"),
                ("empty", []),
                ("None", None),
                ("negative inside", [0, -1]),
                ("a distance not drawn", [0]),
            ),
            "vocab": _kinds(("None", None), ("str", "vocab")),
            "remember_names": "bool",
        },  # fmt: skip
    ),
    Call(
        stories.shortcut_scores,
        lambda: {"train": PLAIN(), "test": PLAIN(), "vocab": DEFAULT_VOCAB},
        {
            "train": _story_list,
            "test": _story_list,
            "vocab": _kinds(("None", None), ("str", "vocab")),
        },
    ),
    Call(
        Animal,
        lambda: {
            "singular": "lamb",
            "plural": "lambs",
            "verb_singular": "bleats",
            "verb_plural": "bleat",
        },
        dict.fromkeys(
            ("singular", "plural", "verb_singular", "verb_plural"), "str"
        ),
    ),
    Call(
        StoryVocab,
        lambda: {
            "people": ("Ada", "Bob"),
            "pet_names": ("Pip", "Zed"),
            "fillers": ("woolly",),
        },
        dict.fromkeys(
            ("people", "pet_names", "fillers"),
            lambda valid: [
                ("str", valid[0]),
                ("empty", ()),
                ("None", None),
                ("int word", (*valid, 3)),
                ("two words", (*valid, "Mary Ann")),
                ("word of another role", (*valid, "puppy")),
            ],
        ),  # fmt: skip
    ),
    Call(
        StoryVocab,
        lambda: {"animals": (Animal("lamb", "lambs", "bleats", "bleat"),)},
        {
            "animals": _kinds(
                ("str", "lamb"), ("empty", ()), ("a str inside", ("lamb",))
            )
        },
        label="StoryVocab(animals)",
    ),
    Call(
        Probe,
        lambda: {
            "position": 5,
            "antecedent": 2,
            "correct": "barks",
            "wrong": ("bark",),
        },
        {
            "position": _kinds(*_ints_from(3)(5)),
            "antecedent": "count",
            "correct": "str",
            "wrong": _kinds(
                ("empty", ()),
                ("str", "bark"),
                ("int inside", (3,)),
                ("the correct word", ("barks",)),
            ),
        },
    ),
    Call(
        Story,
        STORY_FIELDS,
        {
            "tokens": _kinds(
                ("str", "John gave"), ("empty", ()), ("int inside", ("John", 3))
            ),
            "distance": "count",
            "plural": "bool",
            "name": "str",
            "agreement": _kinds(
                ("None", None),
                ("str", "barks"),
                ("past the end", Probe(99, 2, "a", ("b",))),
            ),
            "recall": _kinds(("None", None)),
            "fillers": _kinds(("str", "small"), ("int inside", (3,))),
        },
    ),
    Call(
        generate_story,
        lambda: {
            "rng": np.random.default_rng(0),
            "distance": 3,
            "plural": None,
            "vocab": DEFAULT_VOCAB,
        },
        {
            "rng": "rng",
            "distance": _ints_from(0, DEFAULT_VOCAB.max_distance),
            "plural": _kinds(("int", 1), ("str", "yes")),
            "vocab": _kinds(("None", None), ("WordVocab", VOCAB)),
        },
    ),
    Call(
        generate_stories,
        lambda: {
            "n": 3,
            "distances": range(4),
            "seed": 0,
            "vocab": DEFAULT_VOCAB,
        },
        {
            "n": "positive_int",
            "distances": _kinds(
                ("float", 2.0),
                ("bool", True),
                ("str", "3"),
                ("empty", []),
                ("None", None),
                ("negative inside", [0, -1]),
                ("too large", [DEFAULT_VOCAB.max_distance + 1]),
                ("float inside", [1.5]),
                ("bool inside", [True]),
                ("dict", {1: 2}),
            ),  # fmt: skip
            "seed": _kinds(
                ("negative", -1),
                ("float", 1.5),
                ("bool", True),
                ("str", "0"),
                ("None", None),
                ("legacy RandomState", np.random.RandomState(0)),  # noqa: NPY002 - refused
            ),  # fmt: skip
            "vocab": _kinds(("None", None)),
        },
    ),
    Call(
        corpus_statistics, lambda: {"stories": STORIES()}, {"stories": _stories}
    ),
    Call(
        bigram_scores,
        lambda: {"train": STORIES(), "test": STORIES()},
        {"train": _stories, "test": _stories},
    ),
    Call(
        accuracy_by_distance,
        lambda: {
            "scores": {
                "distance": np.array([2, 0, 2]),
                "agreement": np.array([True, False, False]),
                "recall": np.array([1, 1, 0]),
            }
        },
        {"scores": _scores},
    ),
    Call(
        _plot_probes,
        lambda: {"story": A_STORY(), "ax": None},
        {
            "story": _kinds(("None", None), ("str", "story")),
            "ax": _kinds(("str", "ax"), ("int", 3)),
        },
        label="plot_probes",
    ),
]

TASK_CALLS = [
    Call(
        tasks.adding_problem,
        lambda: {"n": 3, "T": 20, "rng": np.random.default_rng(0)},
        {"n": "positive_int", "T": _ints_from(4), "rng": "rng"},
    ),
    Call(
        tasks.adding_correct,
        lambda: {
            "prediction": np.full(4, 0.5, np.float32),
            "target": np.full(4, 0.5, np.float32),
        },
        {
            "prediction": "float_array_any",
            "target": _kinds(
                ("list", [0.5] * 4),
                ("int", np.ones(4, int)),
                ("nan", np.full(4, math.nan)),
                ("shorter", np.ones(3)),
                ("2-d", np.ones((1, 4))),
                ("tensor", torch.ones(4)),
            ),
        },  # fmt: skip
    ),
    Call(
        tasks.reber_string,
        lambda: {"rng": np.random.default_rng(0)},
        {"rng": "rng"},
    ),
    Call(
        tasks.embedded_reber,
        lambda: {"n": 2, "rng": np.random.default_rng(0)},
        {"n": "positive_int", "rng": "rng"},
    ),
    Call(
        tasks.embedded_reber,
        lambda: {
            "n": 2,
            "rng": np.random.default_rng(0),
            "exclude": {"BTBTXSETE"},
        },
        {
            "exclude": _kinds(
                ("str", "BTBTXSETE"),
                ("bytes", b"BTBTXSETE"),
                ("int", 3),
                ("None", None),
                ("int inside", ["BTBTXSETE", 3]),
            )  # fmt: skip
        },
        label="embedded_reber(exclude)",
    ),
    Call(
        tasks.reber_legal_next,
        lambda: {"string": "BTBTXSETE"},
        {
            "string": _kinds(
                ("int", 3),
                ("None", None),
                ("not Reber", "BTX"),
                ("list", ["B", "T"]),
            )
        },
    ),
    Call(
        tasks.encode_reber,
        lambda: {"strings": ["BTBTXSETE", "BPBPVVEPE"]},
        {
            "strings": _kinds(
                ("str", "BTBTXSETE"),
                ("empty", []),
                ("not Reber inside", ["BTBTXSETE", "BTX"]),
                ("int inside", [3]),
                ("None", None),
            )  # fmt: skip
        },
    ),
    Call(
        tasks.reber_correct,
        lambda: {
            "scores": REBER.legal.astype(np.float64),
            "legal": REBER.legal.copy(),
            "lengths": REBER.lengths.copy(),
        },
        {
            "scores": "float_array_any",
            "legal": lambda legal: [
                ("int", legal.astype(int)),
                ("list", legal.tolist()),
                ("fewer symbols", legal[..., :6]),
                ("2-d", legal[0]),
                ("None", None),
            ],  # fmt: skip
            "lengths": lambda lengths: [
                ("float", lengths.astype(float)),
                ("list", lengths.tolist()),
                ("zero", lengths * 0),
                ("too long", lengths + 100),
                ("one fewer", lengths[1:]),
            ],  # fmt: skip
        },
    ),
    Call(
        tasks.copy_memory,
        lambda: {
            "n": 2,
            "T": 5,
            "rng": np.random.default_rng(0),
            "n_symbols": 4,
            "length": 3,
        },
        {
            "n": "positive_int",
            "T": "positive_int",
            "rng": "rng",
            "n_symbols": "positive_int",
            "length": "positive_int",
        },  # fmt: skip
    ),
    Call(
        tasks.copy_correct,
        lambda: {
            "predicted": np.zeros((3, 8), np.int64),
            "y": np.zeros((3, 8), np.int64),
            "length": 2,
        },
        {"predicted": _int_array, "y": _int_array, "length": _ints_from(1, 8)},
    ),
]

HELPER_CALLS = [
    Call(seeding.seed_everything, lambda: {"seed": 3}, {"seed": "seed"}),
    Call(
        display.show_source,
        lambda: {"obj": story.tokenize, "docstring": False},
        {
            "obj": _kinds(
                ("int", 42),
                ("str", "tokenize"),
                ("builtin", len),
                ("None", None),
                ("partial", functools.partial(story.tokenize, "a")),
            ),  # fmt: skip
            "docstring": "bool",
        },
    ),
    Call(
        display.SourceCode,
        lambda: {"code": "x = 1", "title": "t"},
        {
            "code": _kinds(("int", 3), ("None", None), ("bytes", b"x")),
            "title": _kinds(("int", 3)),
        },
    ),
    Call(
        story.tokenize,
        lambda: {"text": "a puppy."},
        {
            "text": _kinds(
                ("int", 3),
                ("None", None),
                ("bytes", b"a puppy."),
                ("empty", ""),
                ("digits", "4 legs"),
            )
        },
    ),
    Call(
        story.story_dependencies,
        lambda: {"tokens": list(TOKENS)},
        {
            "tokens": _kinds(
                ("str", story.STORY),
                ("empty", []),
                ("int inside", [*TOKENS[:-1], 3]),
                ("a word missing", story.tokenize("John gave Mary a kitten.")),
            )  # fmt: skip
        },
    ),
    Call(
        story.Dependency,
        lambda: {"dependent": 3, "antecedent": 1, "reason": "why"},
        {"dependent": "count", "antecedent": "count", "reason": "str"},
    ),
    Call(
        _plot_dependencies,
        lambda: {
            "tokens": list(TOKENS),
            "dependencies": story.story_dependencies(),
            "long_from": 5,
            "ax": None,
        },
        {
            "tokens": _kinds(
                ("str", story.STORY), ("empty", []), ("shorter", TOKENS[:3])
            ),
            "dependencies": _kinds(("str", "deps"), ("tuple inside", [(3, 1)])),
            "long_from": "positive_int",
            "ax": _kinds(("str", "ax")),
        },
        label="plot_dependencies",
    ),
]

CALLS = (
    TORCH_CALLS
    + VARIANT_CALLS
    + WORD_LM_CALLS
    + STORIES_CALLS
    + TASK_CALLS
    + HELPER_CALLS
)


@pytest.mark.parametrize("call", valid_calls(CALLS))
def test_valid_calls_work(call):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS + TRAINING_CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label):
    check_case(call, arg, label)


# ------------------------------------------------------------------- what the harness cannot


def test_a_state_of_the_wrong_batch_is_refused_not_broadcast():
    cell, lstm = (
        torch_lstm.LSTMCell(3, 4),
        variants.VariantLSTM(3, 4, batch_first=True),
    )
    with pytest.raises(ValueError, match=r"hx\[0\] \(h0\) of shape \(2, 4\)"):
        cell(
            FLOAT(2, 3), (FLOAT(1, 4), FLOAT(1, 4))
        )  # one row would broadcast to two
    with pytest.raises(
        ValueError, match=r"hx\[1\] \(c0\) of shape \(1, 2, 4\)"
    ):
        lstm(FLOAT(2, 5, 3), (FLOAT(1, 2, 4), FLOAT(1, 1, 4)))
    with pytest.raises(
        ValueError, match=r"state\[1\] \(c\) must have shape \(1, 2, 4\)"
    ):
        _model()(
            torch.ones(2, 3, dtype=torch.int64),
            (FLOAT(1, 2, 4), FLOAT(1, 1, 4)),
        )
    gru = WordLM(V, cell="gru", embed_size=4, hidden_size=4)
    with pytest.raises(ValueError, match="state must be a torch.Tensor"):
        gru(
            torch.ones(2, 3, dtype=torch.int64),
            (FLOAT(1, 2, 4), FLOAT(1, 2, 4)),
        )


def test_a_state_of_another_dtype_is_refused_not_upcast():
    lstm = torch_lstm.LSTM(3, 4, dtype=torch.float64)
    with pytest.raises(
        TypeError, match=r"hx\[0\] \(h0\) has dtype torch.float32"
    ):
        lstm(FLOAT(5, 2, 3).double(), (FLOAT(1, 2, 4), FLOAT(1, 2, 4).double()))


@pytest.mark.parametrize(
    "dtype", ["float32", np.float32, np.dtype("float64"), torch.int64]
)
def test_a_dtype_that_is_not_a_floating_torch_dtype_is_refused(dtype):
    for build in (torch_lstm.LSTMCell, torch_lstm.LSTM, variants.VariantLSTM):
        with pytest.raises(
            (TypeError, ValueError),
            match="dtype must be a floating torch dtype",
        ):
            build(3, 4, dtype=dtype)


def test_lstm_and_variant_share_one_set_of_checks():
    assert not hasattr(torch_lstm, "_check_positive_int") and not hasattr(
        torch_lstm, "_check_bool"
    )
    assert variants.VariantLSTM._check_input is torch_lstm.LSTM._check_input
    for build in (torch_lstm.LSTM, variants.VariantLSTM):
        for kwargs, match in (
            ({"dropout": True}, "dropout"),
            ({"dropout": math.nan}, "dropout"),
            ({"device": "gpu-please"}, "device"),
        ):
            with pytest.raises((TypeError, ValueError), match=match):
                build(3, 4, num_layers=2, **kwargs)


def test_clamp_cells_checks_the_cell_it_meets_before_writing():
    model, x = variants.VariantLSTM(3, 4, batch_first=True), FLOAT(2, 5, 3)
    with pytest.raises(
        ValueError, match=r"units \[4\] out of range for a cell of size 4"
    ):
        model(x, cell_hook=variants.clamp_cells([4], 0.5))
    with pytest.raises(
        ValueError, match="values has 3 rows but the batch has 2"
    ):
        model(x, cell_hook=variants.clamp_cells([1], torch.zeros(3, 1)))
    with pytest.raises(
        ValueError, match="start has 3 rows but the batch has 2"
    ):
        model(
            x, cell_hook=variants.clamp_cells([1], 0.0, torch.tensor([0, 1, 2]))
        )


def test_a_cell_hook_must_return_a_cell_state_of_the_same_shape():
    model, x = variants.VariantLSTM(3, 4), FLOAT(5, 2, 3)
    with pytest.raises(
        ValueError, match="cell_hook must return a tensor shaped like c_t"
    ):
        model(x, cell_hook=lambda t, c: c[:1])
    with pytest.raises(TypeError, match="cell_hook returned"):
        model(x, cell_hook=lambda t, c: c.detach().numpy())


def test_token_ids_out_of_range_are_refused_before_the_embedding():
    model = variants.SequenceModel(variants.make_recurrent("lstm", 6, 5), 3, 6)
    with pytest.raises(ValueError, match=r"x must hold ids in \[0, 6\)"):
        model(torch.tensor([[1, 6]]))
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, "):
        _model()(torch.tensor([[1, V]]))
    with pytest.raises(ValueError, match="got -1"):
        _model()(torch.tensor([[-1, 2]]))  # not wrapped to the last word


def test_numpy_ids_get_a_hint_instead_of_a_confusing_message():
    with pytest.raises(
        TypeError, match=r"ids must be a torch.Tensor.*torch.from_numpy\(ids\)"
    ):
        _model()(np.ones((16, 64), dtype=np.int64))


def test_a_vocabulary_that_does_not_fit_the_model_is_refused():
    small = WordVocab(VOCAB.words[:-1])
    with pytest.raises(
        ValueError, match=f"vocab has {V - 1} words but the model reads {V}"
    ):
        word_lm.generate(_model(), small, "John gave Mary a puppy.")
    with pytest.raises(ValueError, match="vocab has"):
        word_lm.score_probes(_model(), small, STORIES())


def test_ids_out_of_range_inside_stories_and_probes_are_refused():
    good = STORIES()[0]
    odd_word = dataclasses.replace(good, tokens=(*good.tokens[:-1], "dragon"))
    with pytest.raises(
        ValueError, match=r"stories\[0\].tokens has words not in the vocabulary"
    ):
        word_lm.encode_stories([odd_word], VOCAB)
    odd_probe = dataclasses.replace(
        good, recall=dataclasses.replace(good.recall, wrong=("Rexy",))
    )
    with pytest.raises(
        ValueError, match=r"stories\[1\].recall has words not in the vocabulary"
    ):
        word_lm.probe_scores(_model(), VOCAB, [good, odd_probe], "recall")


def test_empty_inputs_raise_a_clear_error_not_a_reduction_error():
    with pytest.raises(ValueError, match="ids must not be empty"):
        word_lm.perplexity(_model(), torch.zeros(0, 5, dtype=torch.int64))
    inputs = torch.ones(2, 3, dtype=torch.int64)
    with pytest.raises(ValueError, match="no word to predict"):
        word_lm.lm_loss(_model(), (inputs, torch.full((2, 3), word_lm.IGNORE)))
    with pytest.raises(ValueError, match="must not be empty"):
        word_lm.lm_loss(_model(), (inputs[:, :0], inputs[:, :0]))
    with pytest.raises(ValueError, match="scores"):
        accuracy_by_distance(
            {"distance": np.zeros(0, int), "agreement": [], "recall": []}
        )
    with pytest.raises(ValueError, match="prediction must not be empty"):
        tasks.adding_correct(np.zeros(0), np.zeros(0))


def test_the_config_is_checked_whole_when_it_is_built():
    config = StoryLMConfig()
    for change, name in (
        ({"embed_size": 0}, "embed_size"),
        ({"lr": math.inf}, "lr"),
        ({"lr": True}, "lr"),
        ({"epochs": 2.0}, "epochs"),
        ({"clip_norm": -1.0}, "clip_norm"),
    ):
        with pytest.raises(
            (TypeError, ValueError), match=f"StoryLMConfig.{name}"
        ):
            dataclasses.replace(config, **change)
    with pytest.raises(ValueError, match="changes has unknown keys"):
        StoryLMConfig.tuned("lstm", epoch=3)
    with pytest.raises(ValueError, match="must not set lr"):
        StoryLMConfig.tuned("lstm", lr=0.1)


def test_tuning_checks_every_config_before_training_the_first(monkeypatch):
    trained = []
    monkeypatch.setattr(
        word_lm, "train_story_lm", lambda *a, **k: trained.append(a)
    )
    with pytest.raises(ValueError, match=r"grid\[1\]"):
        word_lm.tune_learning_rate("rnn", grid=(1e-2, 0.0))
    with pytest.raises((TypeError, ValueError), match="StoryLMConfig.epochs"):
        word_lm.tune_learning_rate("rnn", grid=(1e-2, 1e-3), epochs=0)
    with pytest.raises(ValueError, match="changes has unknown keys"):
        word_lm.tune_learning_rate("rnn", epoch=1)
    assert trained == []


def test_training_a_config_changed_behind_its_back_is_refused_before_training(
    tmp_path,
):
    config = StoryLMConfig()
    object.__setattr__(config, "lr", -1.0)  # frozen, but not locked
    with pytest.raises(ValueError, match="StoryLMConfig.lr"):
        word_lm.train_story_lm(config, directory=tmp_path, log=None)
    assert list(Path(tmp_path).iterdir()) == []


def test_story_batches_checks_before_the_first_batch_is_asked_for():
    with pytest.raises(ValueError, match="batch_size"):
        word_lm.story_batches(
            word_lm.encode_stories(STORIES(), VOCAB), 0
        )  # not iterated


def test_scorers_refuse_arrays_whose_shapes_disagree():
    with pytest.raises(
        ValueError, match=r"predicted and y must both have shape \(n, N\)"
    ):
        tasks.copy_correct(np.zeros((3, 8), int), np.zeros((3, 7), int), 2)
    with pytest.raises(ValueError, match="length must be an integer in"):
        tasks.copy_correct(np.zeros((3, 8), int), np.zeros((3, 8), int), 9)
    with pytest.raises(ValueError, match="scores and legal"):
        tasks.reber_correct(
            REBER.legal[1:].astype(float), REBER.legal, REBER.lengths
        )
    with pytest.raises(ValueError, match="lengths must have shape"):
        tasks.reber_correct(
            REBER.legal.astype(float), REBER.legal, REBER.lengths[:2]
        )


def test_the_reber_predicate_answers_false_and_does_not_raise():
    assert tasks.is_embedded_reber("BTBTXSETE")
    assert not tasks.is_embedded_reber(None) and not tasks.is_embedded_reber("")


def test_matching_hidden_size_refuses_a_size_out_of_reach_without_building_1024_layers():
    with pytest.raises(ValueError, match="n_parameters must be at most"):
        variants.matching_hidden_size("rnn", 2, 10**9)
    with pytest.raises(ValueError, match="switches has unknown keys"):
        variants.matching_hidden_size("variant", 2, 1000, peephole=True)


def test_a_probe_must_come_after_its_antecedent_and_stay_inside_the_story():
    with pytest.raises(
        ValueError, match="Probe.position must be an integer >= 3"
    ):
        Probe(2, 2, "barks", ("bark",))
    good = A_STORY()
    with pytest.raises(
        ValueError, match="Story.agreement.position must index a token"
    ):
        dataclasses.replace(good, tokens=good.tokens[:5])


#: Public names with no Call of that exact name, and why.
UNCHECKED = {
    **dict.fromkeys(
        ["lstm_cell_step", "lstm_layer", "VariantLSTM.cell_step"],
        "a teaching function shown line by line; the modules check before calling it",
    ),
    **dict.fromkeys(
        ["LSTMCell.reset_parameters", "LSTMCell.extra_repr", "LSTM.reset_parameters",
         "LSTM.extra_repr", "VariantLSTM.reset_parameters", "VariantLSTM.extra_repr",
         "Animal.words", "StoryVocab.words", "use_book_style"],
        "takes no arguments",
    ),
    "SequenceModel.forward": "called as SequenceModel.forward(ids) and (floats) above",
    **dict.fromkeys(
        ["AddingBatch", "ReberStrings", "ReberBatch", "CopyBatch"], "a result container"
    ),
    "is_embedded_reber": "a predicate: any value is an answerable question (False)",
}  # fmt: skip


@pytest.mark.parametrize(
    "module",
    [
        torch_lstm,
        variants,
        word_lm,
        stories,
        story,
        tasks,
        seeding,
        display,
        plotting,
    ],
    ids=lambda m: m.__name__,
)
def test_every_public_function_class_and_method_has_a_call(module):
    calls = CALLS + TRAINING_CALLS
    missing = (
        set(public_api(module)) - {call.id for call in calls} - set(UNCHECKED)
    )
    assert not missing, (
        f"no Call (and no stated exemption) for {sorted(missing)}"
    )
