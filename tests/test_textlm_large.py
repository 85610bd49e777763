"""The larger LSTM of Part V (group textlm_large) and the recorded baselines.

The grid is the one the module states; a run adds dynamic evaluation whose rate is the
best on the validation text; the partial check re-runs exactly a run's first epoch; the
recorded baselines come out of the code again (on the Python that recorded them).
"""

from __future__ import annotations

import json
import math

import pytest

from lstm_tutorial import experiments
from lstm_tutorial import textlm_baselines as tb
from lstm_tutorial import textlm_experiments as tx
from lstm_tutorial import textlm_large as tl
from lstm_tutorial.dynamic_eval import dynamic_evaluate
from lstm_tutorial.textlm_experiments import heldout, train_textlm_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(seed=0, epochs=2):
    """A run of the group's kind, small enough for a test: 8 units, two epochs."""
    config = tl.large_config(seed, 1e-2)
    config["lm"].update(layers=1, hidden_size=8, embed_size=8, epochs=epochs)
    return config


def test_the_tuning_grid_is_the_stated_one_on_the_tuning_seed():
    tuning = tl.large_tuning()
    assert [c["lr"] for c in tuning] == list(tl.LARGE_LR_GRID)
    for config in tuning:
        assert config["seed"] in tl.LARGE_TUNE_SEEDS
        lm = {
            **config["lm"],
            "lr": tl.LARGE_BASE.lr,
            "seed": tl.LARGE_BASE.seed,
        }
        assert lm == tl.LARGE_BASE.to_dict()
    runs = tl.large_runs({("textlm_large", "lstm"): 8e-3})
    assert [c["seed"] for c in runs] == list(experiments.SEEDS[:3])
    assert {c["lr"] for c in runs} == {8e-3}
    with pytest.raises(ValueError, match="rates"):
        tl.large_runs({("textlm_cells", "lstm"): 8e-3})


def test_the_larger_model_has_several_times_the_recurrent_weights():
    base = tl.LARGE_BASE
    sizes = [base.embed_size] + [base.hidden_size] * base.layers
    large = sum(
        tx.recurrent_weights("lstm", sizes[k], sizes[k + 1])
        for k in range(base.layers)
    )
    cells = tx.recurrent_weights("lstm", tx.CELL_BASE.embed_size, 256)
    assert large > 5 * cells


def test_a_run_adds_dynamic_evaluation_at_the_best_validation_rate():
    config = tiny()
    metrics = tl.train_large_run(config)
    rates = [lr for lr, _ in metrics["dynamic_valid"]]
    assert rates == list(tl.DYNAMIC_LR_GRID)
    best = min(metrics["dynamic_valid"], key=lambda pair: pair[1])
    assert metrics["dynamic_lr"] == best[0]
    model, plain = train_textlm_model(config)  # the same run again
    assert plain["test_loss"] == metrics["test_loss"]
    test = heldout("char").test
    again = dynamic_evaluate(model, test, lr=metrics["dynamic_lr"])
    assert math.isclose(
        again["bits_per_token"], metrics["dynamic_test_bits"], rel_tol=1e-9
    )
    static = dynamic_evaluate(model, test, lr=0.0)["bits_per_token"]
    assert math.isclose(static, metrics["stream_test_bits"], rel_tol=1e-9)
    json.dumps(metrics)  # plain data, as a record holds


def test_the_partial_check_re_runs_exactly_the_first_epoch():
    config = tiny(epochs=3)
    _, metrics = train_textlm_model(config)
    now, recorded = tl.check_first_epoch({"config": config, "metrics": metrics})
    assert recorded == metrics["val_loss"][0]
    assert math.isclose(now, recorded, rel_tol=1e-9)
    other = tiny(seed=1, epochs=3)  # another seed: another first epoch
    changed, _ = tl.check_first_epoch({"config": other, "metrics": metrics})
    assert changed != recorded


def test_a_run_of_another_group_is_refused():
    config = tx.cell_config("lstm", 0, 1e-2)
    with pytest.raises(ValueError, match="textlm_large"):
        tl.train_large_run(config)


def test_the_recorded_baselines_come_out_again():
    stored = experiments.load_records(tb.NAME)
    assert not stored["stale"], "run `make experiments` to renew the baselines"
    if not experiments.same_data_python(stored):
        pytest.skip("recorded on another Python minor version")
    for run in stored["runs"]:
        level, m = run["config"]["level"], run["metrics"]
        dev = dict((n, bits) for n, bits in m["dev"])
        assert m["order"] == min(dev, key=lambda n: (dev[n], n))
        assert not m["edge"], f"{level}: the best order is at the grid's edge"
        again = tb.measure_test(level, m["order"])
        for key in ("kneser_ney", "lzma", "bz2", "zlib"):
            if key in m:
                assert math.isclose(again[key], m[key], rel_tol=1e-9), key


def test_recording_the_baselines_writes_a_records_file(tmp_path):
    tb.record_baselines(tmp_path, orders=(1, 2), log=None)
    stored = experiments.load_records(tb.NAME, tmp_path)
    assert [r["config"]["level"] for r in stored["runs"]] == ["char", "word"]
    char = stored["runs"][0]["metrics"]
    assert char["edge"] and char["order"] == 2  # 2 beats 1 on any real text
    assert char["uniform"] > char["unigram"] > char["kneser_ney"]
