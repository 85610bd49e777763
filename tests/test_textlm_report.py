"""Part V's tables, its verdict rule and its exercise check."""

from __future__ import annotations

import pytest

from lstm_tutorial import textlm_report as tr
from lstm_tutorial.baselines import compressor_bits_per_char
from lstm_tutorial.textlm_exercises import check_compressor_bits


def _run(model, seed, lr, bits, loss=1.0):
    return {
        "config": {
            "task": "textlm_cells",
            "model": model,
            "seed": seed,
            "lr": lr,
        },
        "metrics": {"test_bits": bits, "test_accuracy": 0.5, "loss": loss},
    }


def test_the_rule_needs_every_seed_below_every_other():
    assert tr.separated([1.0, 1.1, 1.2], [1.3, 1.4, 1.5])
    assert not tr.separated([1.0, 1.1, 1.35], [1.3, 1.4, 1.5])  # overlap
    assert not tr.separated([1.3, 1.4], [1.0, 1.1])  # the wrong way round
    with pytest.raises(ValueError, match="a"):
        tr.separated([], [1.0])


def test_tables_print_medians_ranges_and_the_best_rate():
    runs = [_run("lstm", s, 1e-2, b) for s, b in enumerate([1.9, 1.7, 1.8])]
    lines = tr.result_lines(runs, ["lstm"], ["test_bits"])
    assert "1.800 [1.700-1.900]" in lines[1] and lines[1].endswith("3")
    tuning = [_run("lstm", 100, lr, 0, loss) for lr, loss in
              [(1e-3, 2.0), (2e-3, 1.5), (4e-3, 1.7)]]  # fmt: skip
    table = tr.tuning_lines(tuning)
    assert "1.500*" in table[1] and "edge" not in table[1]
    edge = tr.tuning_lines(tuning[:2])
    assert "edge" in edge[1]
    assert all(len(line) <= 76 for line in table + lines)
    with pytest.raises(ValueError, match="no run"):
        tr.values(runs, "gru", "test_bits")


def test_the_compressor_check_passes_the_reference_and_names_a_bytes_slip(
    capsys,
):
    def reference(a, b):
        return compressor_bits_per_char(a, b, "lzma")

    assert check_compressor_bits(reference)

    def per_byte(a, b):
        return reference(a, b) * len(b) / len(b.encode())

    assert not check_compressor_bits(per_byte)
    assert "per byte" in capsys.readouterr().out

    def in_bytes(a, b):
        return reference(a, b) / 8

    assert not check_compressor_bits(in_bytes)
    assert "bytes, not bits" in capsys.readouterr().out


def test_the_locked_mask_check_passes_a_right_mask_and_names_mistakes(capsys):
    import torch

    from lstm_tutorial.textlm_exercises import check_locked_mask

    def right(x, p, g):
        shape = (x.shape[0], 1, x.shape[2])
        return torch.empty(shape).bernoulli_(1 - p, generator=g) / (1 - p)

    assert check_locked_mask(right)
    capsys.readouterr()

    def per_step(x, p, g):
        return torch.empty(x.shape).bernoulli_(1 - p, generator=g) / (1 - p)

    assert not check_locked_mask(per_step)
    assert "ordinary dropout" in capsys.readouterr().out

    def keep_p(x, p, g):
        return torch.empty(x.shape[0], 1, x.shape[2]).bernoulli_(p, generator=g)

    assert not check_locked_mask(keep_p)
    out = capsys.readouterr().out
    assert "1/(1-p)" in out and "not of keeping" in out


def test_the_locked_mask_stand_in_is_a_locked_mask_that_its_check_passes(
    capsys,
):
    import torch

    from lstm_tutorial.regularize import LockedDropout
    from lstm_tutorial.textlm_exercises import check_locked_mask, locked_mask

    x = torch.ones(3, 7, 40)
    mask = locked_mask(x, 0.25, torch.Generator().manual_seed(2))
    assert mask.shape == (3, 1, 40)
    kept = torch.tensor(1 / 0.75)  # in float32, as the mask
    assert set(torch.unique(mask).tolist()) <= {0.0, float(kept)}
    torch.manual_seed(5)
    dropped = LockedDropout(0.25).train()(x)
    assert ((dropped == 0) == (dropped[:, :1] == 0)).all()  # locked over time
    assert check_locked_mask(locked_mask)
    assert "stand-in" in capsys.readouterr().out
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="p"):
            locked_mask(x, bad, torch.Generator())
    with pytest.raises(ValueError, match="x"):
        locked_mask(torch.ones(3, 4), 0.5, torch.Generator())


def test_baseline_lines_apply_the_rule_to_every_seed():
    from lstm_tutorial.textlm_report import baseline_lines

    lines = baseline_lines(
        {"LSTM": [1.41, 1.43, 1.42], "GRU": [1.39, 1.45]},
        {"lzma": 1.44},
    )
    assert lines == [
        "LSTM beats lzma (1.440): -0.020 [-0.030, -0.010]",
        "GRU does not beat lzma (1.440): -0.020 [-0.050, +0.010]",
    ]  # GRU's median is below, one seed is not: not beaten by the rule
    with pytest.raises(ValueError, match="bits"):
        baseline_lines({}, {"lzma": 1.44})
