"""The helpers of the chapter "Truncated BPTT in PyTorch": the stream picture, the count
of what autograd keeps, the growth of a kept graph, evaluation from zeros, the exercise
check, and the bad input each refuses."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from badinput import MUTATIONS, Call, cases, check_case, check_valid, public_api
from matplotlib.text import Text

from lstm_tutorial import tbptt_demo, use_book_style
from lstm_tutorial.tbptt_demo import (
    Growth,
    SavedTensors,
    check_stream_batches,
    error_text,
    evaluate_from_zeros,
    graph_growth,
    growth_figure,
    source_lines,
    stream_figure,
)
from lstm_tutorial.text import StreamBatches
from lstm_tutorial.textlm import TextLM, evaluate, fit_lm, lm_loss

TEXT = 'The "for" statement is used to iterate over the elements of a sequence'


@pytest.fixture(autouse=True)
def close_figures():
    use_book_style()
    yield
    plt.close("all")


def tiny_model(seed=0, vocab_size=11):
    torch.manual_seed(seed)
    return TextLM(vocab_size, num_layers=1, embed_size=4, hidden_size=6)


def tiny_batches(n=200, batch_size=3, seq_len=5, vocab_size=11, seed=1):
    ids = torch.randint(
        0, vocab_size, (n,), generator=torch.Generator().manual_seed(seed)
    )
    return StreamBatches(ids, batch_size, seq_len)


# -------------------------------------------------------------------- the picture


def test_the_stream_figure_is_legible_and_fits_the_page():
    fig = stream_figure(TEXT + "\n(s", batch_size=3, seq_len=10)
    width, _ = fig.get_size_inches()
    assert width <= 10
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert min(t.get_fontsize() for t in texts) >= 9
    labels = {t.get_text() for t in texts}
    # S = 72 // 3 = 24: windows of 10, 10 and 4 columns
    assert {"window 1: 3 \u00d7 10", "window 3: 3 \u00d7 4"} <= labels
    assert any("S = 24" in label for label in labels)


def test_the_stream_figure_draws_the_rows_streambatches_reads():
    fig = stream_figure(TEXT, batch_size=2, seq_len=12)
    drawn = [t.get_text() for t in fig.findobj(Text)]
    S = (len(TEXT) - 1) // 2
    # the grid holds each stream's characters once, after the top line
    first_row = TEXT[:S].replace(" ", "\u2423")
    grid = "".join(d for d in drawn if len(d) == 1)
    assert first_row in grid


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"text": "x" * 200, "batch_size": 2, "seq_len": 5}, "text"),
        ({"text": "abcdef", "batch_size": 2, "seq_len": 5}, "text"),
        ({"text": TEXT, "batch_size": 7, "seq_len": 2}, "batch_size"),
        ({"text": "x" * 120, "batch_size": 1, "seq_len": 119}, "wide"),
    ],
)
def test_the_stream_figure_refuses_what_it_cannot_draw(kwargs, word):
    with pytest.raises(ValueError, match=word):
        stream_figure(**kwargs)


# ---------------------------------------------------------- what autograd keeps


def test_saved_tensors_counts_what_a_product_saves_until_backward():
    a = torch.randn(1000, requires_grad=True)
    b = torch.randn(1000, requires_grad=True)
    saved = SavedTensors()
    with saved:
        loss = (a * b).sum()  # mul saves a and b: 2 x 4000 bytes
    assert saved.bytes == 8000
    loss.backward()  # frees them
    assert saved.bytes == 0


def test_saved_tensors_counts_a_storage_once_and_skips_excluded_ones():
    a = torch.randn(1000, requires_grad=True)
    b = torch.randn(1000, requires_grad=True)
    saved = SavedTensors()
    with saved:
        loss = (a * a).sum()  # a saved twice: one storage
    assert saved.bytes == 4000
    del loss  # the graph goes, and with it what it saved
    assert saved.bytes == 0
    only_b = SavedTensors(exclude=[a])
    with only_b:
        loss = (a * b).sum()
    assert only_b.bytes == 4000
    with only_b:  # entered again: the counts add up
        other = (b * 2.0 * a).sum()
    assert only_b.bytes > 4000
    loss.backward()
    other.backward()
    assert only_b.bytes == 0


def test_saved_tensors_leaves_the_hooks_on_exit():
    saved = SavedTensors()
    with saved:
        pass
    a = torch.randn(10, requires_grad=True)
    (a * a).sum()
    assert saved.bytes == 0


# ------------------------------------------------------------- growth of a graph


def test_a_detached_state_keeps_the_cost_of_a_step_flat():
    model, batches = tiny_model(), tiny_batches()
    growth = graph_growth(model, batches, 4, detach=True)
    assert len(growth.seconds) == len(growth.saved_mb) == 4
    assert len(set(growth.nodes)) == 1
    assert max(growth.saved_mb) == pytest.approx(min(growth.saved_mb))
    assert all(s > 0 for s in growth.seconds)


def test_a_kept_graph_grows_by_one_window_per_step():
    model, batches = tiny_model(), tiny_batches()
    before = [p.detach().clone() for p in model.parameters()]
    threads = torch.get_num_threads()
    growth = graph_growth(model, batches, 5, detach=False)
    steps = [
        b - a for a, b in zip(growth.nodes, growth.nodes[1:], strict=False)
    ]
    assert len(set(steps)) == 1 and steps[0] > 0  # the same nodes per window
    mb = growth.saved_mb
    assert all(b > a for a, b in zip(mb, mb[1:], strict=False))
    # the parameters are never updated, and the thread count is restored
    for p, q in zip(before, model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert torch.get_num_threads() == threads


def test_growth_starts_where_the_detached_run_starts():
    detached = graph_growth(tiny_model(), tiny_batches(), 3, detach=True)
    kept = graph_growth(tiny_model(), tiny_batches(), 3, detach=False)
    assert kept.nodes[0] == detached.nodes[0]
    assert kept.saved_mb[0] == pytest.approx(detached.saved_mb[0])


def test_graph_growth_refuses_more_steps_than_windows():
    batches = tiny_batches(n=40)  # 13 ids per stream: windows of 5, 5 and 3
    assert len(batches) == 3
    with pytest.raises(ValueError, match="steps"):
        graph_growth(tiny_model(), batches, 4)


def test_the_growth_figure_has_two_panels_of_one_line_per_run():
    runs = {
        "detached": Growth([0.01, 0.01], [2.0, 2.0], [5, 5]),
        "kept": Growth([0.01, 0.02], [2.0, 4.0], [5, 9]),
    }
    fig = growth_figure(runs)
    assert fig.get_size_inches()[0] <= 10
    left, right = fig.axes
    assert len(left.lines) == len(right.lines) == 2
    assert list(right.lines[1].get_ydata()) == pytest.approx([10.0, 20.0])


# ------------------------------------------------------------ evaluation from zeros


def test_evaluation_from_zeros_is_evaluate_for_a_single_window():
    model = tiny_model()
    ids = torch.arange(31) % 11
    one = StreamBatches(ids, 3, 10)  # S = 10: one window
    assert len(one) == 1
    assert evaluate_from_zeros(model, one) == pytest.approx(
        evaluate(model, one)
    )


def test_evaluation_from_zeros_resets_every_window():
    model, batches = tiny_model(), tiny_batches()
    fit_lm(model, batches, epochs=1, lr=1e-2, log=None)
    result = evaluate_from_zeros(model, batches)
    model.eval()
    with torch.no_grad():
        losses = [
            float(lm_loss(model, x, y, None)[0]) * y.numel() for x, y in batches
        ]
    want = sum(losses) / batches.targets
    assert result["loss"] == pytest.approx(want)
    assert result["bits_per_token"] == pytest.approx(want / math.log(2))
    assert result["tokens"] == batches.targets
    assert result["loss"] != pytest.approx(evaluate(model, batches)["loss"])


# ------------------------------------------------------------------- small helpers


def test_error_text_keeps_the_first_clause_on_one_line():
    err = RuntimeError(
        "Trying to backward through the graph a second time (or directly "
        "access saved tensors after they have already been freed). Saved ..."
    )
    assert error_text(err) == (
        "RuntimeError: Trying to backward through the graph a second time"
    )
    long = RuntimeError("word " * 40 + ": details")
    lines = error_text(long, width=40).splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 40
    assert error_text(ValueError()) == "ValueError"


def test_source_lines_shows_the_lines_between_the_markers():
    excerpt = source_lines(fit_lm, "for epoch in range", "state = detach_state")
    lines = excerpt.code.splitlines()
    assert lines[0].startswith("for epoch in range")
    assert lines[-1].strip() == "state = detach_state(out.state)"
    assert max(map(len, lines)) <= 80
    assert excerpt.title == "lstm_tutorial.textlm.fit_lm (excerpt)"


@pytest.mark.parametrize(
    "first, last, word",
    [("no such line", "state", "first"), ("for epoch", "no such line", "last")],
)
def test_source_lines_refuses_markers_it_cannot_find(first, last, word):
    with pytest.raises(ValueError, match=word):
        source_lines(fit_lm, first, last)


# ------------------------------------------------------------ the exercise check


def reference(ids, batch_size, seq_len):
    S = (len(ids) - 1) // batch_size
    x = ids[: batch_size * S].reshape(batch_size, S)
    y = ids[1 : batch_size * S + 1].reshape(batch_size, S)
    return [
        (x[:, k : k + seq_len], y[:, k : k + seq_len])
        for k in range(0, S, seq_len)
    ]


def test_the_check_passes_a_right_batcher(capsys):
    assert check_stream_batches(reference)
    out = capsys.readouterr().out
    assert "All correct." in out and "stand-in" not in out


def test_the_check_says_when_it_checks_the_stand_in(capsys):
    assert check_stream_batches(StreamBatches)
    assert "stand-in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, says",
    [
        (
            lambda ids, b, t: [(x.T, y.T) for x, y in reference(ids, b, t)],
            "time-major",
        ),
        (
            lambda ids, b, t: [(x, x) for x, _ in reference(ids, b, t)],
            "shifted by one",
        ),
        (
            lambda ids, b, t: [
                w for w in reference(ids, b, t) if w[0].shape[1] == t
            ],
            "expected 3 windows, got 2",
        ),
        (
            lambda ids, b, t: [(x.float(), y) for x, y in reference(ids, b, t)],
            "dtype",
        ),
        (
            lambda ids, b, t: [(x.numpy(), y) for x, y in reference(ids, b, t)],
            "torch tensor",
        ),
        (lambda ids, b, t: [x for x, _ in reference(ids, b, t)], "a pair"),
        (lambda ids, b, t: None, "a list or a generator"),
        (
            lambda ids, b, t: [(x + 1, y + 1) for x, y in reference(ids, b, t)],
            "wrong ids, first at [0, 0]",
        ),
    ],
)
def test_the_check_says_what_is_wrong(wrong, says, capsys):
    assert not check_stream_batches(wrong)
    out = capsys.readouterr().out
    assert says in out and "Not yet" in out


# -------------------------------------------------------------------- bad input


def tensors(valid):
    return [("int", 3), ("one tensor inside a list of ints", [valid[0], 3])]


def runs_kind(valid):
    return [
        ("list", list(valid.values())),
        ("empty", {}),
        ("not a Growth", {"a": (1, 2, 3)}),
        ("int key", {3: next(iter(valid.values()))}),
    ]


def an_error(valid):
    return [("str", "error"), ("None", None), ("class", RuntimeError)]


def a_model(valid):
    return [("str", "model"), ("None", None), ("function", lambda x: x)]


def a_batches(valid):
    return [("list", list(valid)), ("None", None), ("tensor", valid.x)]


def steps_kind(valid):
    return MUTATIONS["positive_int"](valid) + [("more than the windows", 1000)]


GROWTH = Growth([0.01], [1.0], [3])

CALLS = [
    Call(
        stream_figure,
        lambda: {"text": TEXT, "batch_size": 3, "seq_len": 8},
        {
            "text": lambda v: MUTATIONS["str"](v) + [("too short", "ab")],
            "batch_size": "positive_int",
            "seq_len": "positive_int",
        },
    ),
    Call(
        SavedTensors,
        lambda: {"exclude": list(tiny_model().parameters())},
        {"exclude": tensors},
    ),
    Call(Growth, lambda: {"seconds": [], "saved_mb": [], "nodes": []}, {}),
    Call(
        graph_growth,
        lambda: {
            "model": tiny_model(),
            "batches": tiny_batches(),
            "steps": 2,
            "detach": True,
            "flush_denormal": False,
        },
        {
            "model": a_model,
            "batches": a_batches,
            "steps": steps_kind,
            "detach": "bool",
            "flush_denormal": "bool",
        },
    ),
    Call(
        growth_figure, lambda: {"runs": {"kept": GROWTH}}, {"runs": runs_kind}
    ),
    Call(
        evaluate_from_zeros,
        lambda: {"model": tiny_model(), "batches": tiny_batches()},
        {"model": a_model, "batches": a_batches},
    ),
    Call(
        source_lines,
        lambda: {"obj": fit_lm, "first": "for epoch", "last": "state ="},
        {
            "obj": lambda v: [("str", "fit_lm"), ("None", None), ("int", 3)],
            "first": "str",
            "last": "str",
        },
    ),
    Call(
        error_text,
        lambda: {"error": RuntimeError("x"), "width": 80},
        {
            "error": an_error,
            "width": lambda v: [
                ("bool", True),
                ("float", 80.0),
                ("str", "80"),
                ("too narrow", 5),
            ],
        },
    ),
    Call(
        check_stream_batches,
        lambda: {"fn": reference},
        {"fn": "callable"},
    ),
]


@pytest.mark.parametrize("call", [pytest.param(c, id=c.id) for c in CALLS])
def test_valid_calls_work(call, capsys):
    check_valid(call)


@pytest.mark.parametrize("call, arg, label", cases(CALLS))
def test_bad_input_is_refused_naming_the_argument(call, arg, label, capsys):
    check_case(call, arg, label)


def test_every_public_function_class_and_method_has_a_call():
    missing = set(public_api(tbptt_demo)) - {call.id for call in CALLS}
    assert not missing, f"no Call in this file for {sorted(missing)}"
