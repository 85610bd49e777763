"""Tests of the sweep helper: configs, the on-disk cache, and short real training runs."""

from __future__ import annotations

import json
import math

import pytest
import torch

from lstm_tutorial.sweep import (
    DEFAULTS,
    STORY_DEFAULTS,
    build_model,
    grid,
    largest_solved,
    reber_facts,
    run_config,
    run_sweep,
    story_config,
    summarise,
    task_grid,
    train_on_stories,
    train_on_task,
)
from lstm_tutorial.variants import VARIANTS, count_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class CountingRun:
    """A fake training run that counts its calls and returns metrics made from the config."""

    def __init__(self):
        self.calls = 0

    def __call__(self, config):
        self.calls += 1
        return {
            "solved": config["T"] < 50,
            "sequences": 10 * config["T"],
            "accuracy": 0.5,
            "error": 0.1,
        }


# ------------------------------------------------------------------------------- configs


def test_run_config_fills_in_every_default():
    config = run_config("adding", "lstm", 100, seed=2, lr=3e-3)
    assert (
        config["task"] == "adding"
        and config["T"] == 100
        and config["seed"] == 2
    )
    assert config["lr"] == 3e-3
    assert set(DEFAULTS) <= set(config)
    reber = run_config("reber", "gru", None)
    assert reber["threshold"] == 1.0  # every string right, as in the paper
    assert json.loads(json.dumps(config)) == config  # plain JSON data


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("sorting", "lstm", 10), {}, "task must be"),
        (("adding", "transformer", 10), {}, "model must be"),
        (("reber", "lstm", 10), {}, "has no T"),
        (
            ("adding", "lstm", None),
            {},
            r"T \(the sequence length of the adding task\) must be",
        ),
        (("adding", "lstm", 10), {"seed": -1}, "seed"),
        (
            ("adding", "lstm", 10),
            {"learning_rate": 0.1},
            "settings has unknown keys",
        ),
    ],
)
def test_run_config_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_config(*args, **kwargs)


def test_defaults_are_version_2_with_the_new_start_settings():
    assert DEFAULTS["version"] == 2 and STORY_DEFAULTS["version"] == 2
    config = run_config("adding", "gru", 10)
    assert (
        config["update_bias"],
        config["orthogonal"],
        config["strict_n_val"],
    ) == (
        None,
        False,
        None,
    )


@pytest.mark.parametrize(
    "task, model, T, settings, match",
    [
        (
            "adding",
            "lstm",
            10,
            {"update_bias": 1.0},
            r"config\['update_bias'\].*'gru' only",
        ),
        (
            "adding",
            "gru",
            10,
            {"forget_bias": 1.0},
            r"config\['forget_bias'\].*'lstm' only",
        ),
        (
            "adding",
            "gru",
            10,
            {"orthogonal": True},
            r"config\['orthogonal'\].*'rnn' only",
        ),
        (
            "copy",
            "rnn",
            10,
            {"update_bias": 3.0},
            r"config\['update_bias'\].*'gru' only",
        ),
        (
            "adding",
            "CIFG",
            10,
            {"update_bias": 1.0},
            r"config\['update_bias'\]",
        ),
        (
            "reber",
            "lstm",
            None,
            {"strict_n_val": 100},
            r"config\['strict_n_val'\]",
        ),
        (
            "adding",
            "lstm",
            10,
            {"strict_n_val": 0},
            r"config\['strict_n_val'\]",
        ),
        ("adding", "rnn", 10, {"orthogonal": 1}, r"config\['orthogonal'\]"),
        (
            "adding",
            "gru",
            10,
            {"update_bias": float("nan")},
            r"config\['update_bias'\]",
        ),
    ],
)
def test_start_and_strict_settings_are_refused_where_they_do_not_apply(
    task, model, T, settings, match
):
    with pytest.raises((TypeError, ValueError), match=match):
        run_config(task, model, T, **settings)


def test_start_settings_reach_the_models_layer():
    gru = build_model(
        run_config("adding", "gru", 10, update_bias=3.0)
    ).recurrent
    H = gru.hidden_size
    z_bias = (
        gru.bias_ih_l0.detach()[H : 2 * H] + gru.bias_hh_l0.detach()[H : 2 * H]
    )
    torch.testing.assert_close(z_bias, torch.full((H,), 3.0))
    rnn = build_model(
        run_config("adding", "rnn", 10, orthogonal=True)
    ).recurrent
    W = rnn.weight_hh_l0.detach().double()
    torch.testing.assert_close(
        W @ W.T, torch.eye(W.shape[0], dtype=torch.float64), atol=1e-5, rtol=0
    )


def test_grid_is_the_product_of_the_axes():
    configs = grid({"task": "adding"}, model=["lstm", "rnn"], T=[10, 100])
    assert [(c["model"], c["T"]) for c in configs] == [
        ("lstm", 10),
        ("lstm", 100),
        ("rnn", 10),
        ("rnn", 100),
    ]
    assert all(c["task"] == "adding" for c in configs)
    with pytest.raises(ValueError, match="list"):
        grid(model=[])
    with pytest.raises(ValueError, match="list"):
        grid(model="lstm")


def test_task_grid_orders_by_T_and_applies_per_model_settings():
    configs = task_grid(
        "adding",
        {"lstm": [100, 10], "rnn": [10]},
        [0, 1],
        per_model={"lstm": {"forget_bias": 5.0}},
        max_sequences=99,
    )
    assert [(c["T"], c["model"], c["seed"]) for c in configs] == [
        (10, "lstm", 0),
        (10, "lstm", 1),
        (10, "rnn", 0),
        (10, "rnn", 1),
        (100, "lstm", 0),
        (100, "lstm", 1),
    ]
    assert all(c["max_sequences"] == 99 for c in configs)
    assert [c["forget_bias"] for c in configs] == [
        5.0,
        5.0,
        None,
        None,
        5.0,
        5.0,
    ]
    assert len(task_grid("reber", {"gru": [None]}, [0, 1, 2])) == 3


def test_models_of_similar_size():
    sizes = {
        m: count_parameters(build_model(run_config("adding", m, 10)).recurrent)
        for m in ("lstm", "gru", "rnn")
    }
    assert max(sizes.values()) / min(sizes.values()) < 1.05
    assert build_model(run_config("adding", "CIFG", 10)).recurrent.gates == (
        "i",
        "g",
        "o",
    )


@pytest.mark.parametrize(
    "task, T", [("adding", 10), ("copy", 5), ("reber", None)]
)
def test_every_variant_gets_the_standard_lstms_parameter_count(task, T):
    reference = count_parameters(
        build_model(run_config(task, "lstm", T)).recurrent
    )
    for model in (*VARIANTS, "gru", "rnn"):
        n = count_parameters(build_model(run_config(task, model, T)).recurrent)
        assert abs(n - reference) / reference < 0.05, (model, n, reference)


# --------------------------------------------------------------------------------- cache


def test_second_sweep_reads_the_cache_and_trains_nothing(tmp_path):
    run = CountingRun()
    configs = grid({"task": "adding", "model": "lstm", "seed": 0}, T=[10, 100])
    lines = []
    first = run_sweep(configs, run, cache_dir=tmp_path, log=lines.append)
    assert run.calls == 2 and [r["cached"] for r in first] == [False, False]
    second = run_sweep(configs, run, cache_dir=tmp_path, log=lines.append)
    assert run.calls == 2 and [r["cached"] for r in second] == [True, True]
    for a, b in zip(first, second, strict=True):
        assert {k: v for k, v in a.items() if k != "cached"} == {
            k: v for k, v in b.items() if k != "cached"
        }
    assert lines[0].startswith(
        "[1/2] adding T=10 lstm seed 0: solved after 100 seq"
    )
    assert "not solved in 1,000 seq" in lines[1]
    assert lines[2].endswith("(cached)")
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2 and all(
        f.suffix == ".json" for f in files
    )  # no temporary files
    stored = json.loads(files[0].read_text())
    assert set(stored) == {"run", "config", "metrics", "format", "digest"}


def test_a_changed_config_or_run_function_trains_again(tmp_path):
    run = CountingRun()
    config = {"task": "adding", "model": "lstm", "T": 10, "seed": 0}
    run_sweep([config], run, cache_dir=tmp_path, log=None)
    run_sweep([config | {"seed": 1}], run, cache_dir=tmp_path, log=None)
    assert run.calls == 2

    def other_run(config):
        return {"accuracy": 1.0}

    result = run_sweep([config], other_run, cache_dir=tmp_path, log=None)
    assert result[0]["accuracy"] == 1.0 and not result[0]["cached"]


def test_a_corrupt_cache_file_is_replaced(tmp_path):
    run = CountingRun()
    config = {"task": "adding", "model": "lstm", "T": 10, "seed": 0}
    run_sweep([config], run, cache_dir=tmp_path, log=None)
    (path,) = tmp_path.iterdir()
    path.write_text("{not json")
    lines = []
    result = run_sweep([config], run, cache_dir=tmp_path, log=lines.append)
    assert lines[0].startswith(f"cache file {path} is unusable (")
    assert run.calls == 2 and not result[0]["cached"]
    assert json.loads(path.read_text())["metrics"]["sequences"] == 100


def test_skip_harder_skips_longer_lags_after_a_failure(tmp_path):
    run = CountingRun()  # solves T < 50 only
    configs = grid(
        {"task": "adding", "seed": 0}, model=["lstm", "rnn"], T=[10, 60, 100]
    )
    configs = sorted(configs, key=lambda c: c["T"])
    lines = []
    results = run_sweep(
        configs, run, cache_dir=tmp_path, log=lines.append, skip_harder=True
    )
    assert (
        run.calls == 4
    )  # T=10 twice, T=60 twice; T=100 skipped for both models
    skipped = [r for r in results if r["skipped"]]
    assert [(r["model"], r["T"]) for r in skipped] == [
        ("lstm", 100),
        ("rnn", 100),
    ]
    assert all(not r["solved"] and math.isnan(r["accuracy"]) for r in skipped)
    assert "skipped (not solved at T=60)" in lines[-1]
    rows = summarise(results, "adding")
    assert [r["skipped"] for r in rows if r["T"] == 100] == [1, 1]
    assert largest_solved(results)[("adding", "lstm")] == 10
    # Without the rule every config runs.
    run_sweep(configs, run, cache_dir=tmp_path / "all", log=None)
    assert run.calls == 10


def test_sweep_errors(tmp_path):
    run = CountingRun()
    with pytest.raises(ValueError, match="list"):
        run_sweep([], run, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="list"):
        run_sweep({"T": 1}, run, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="must be a config dict"):
        run_sweep([("T", 1)], run, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="must return a dict"):
        run_sweep([{"T": 1}], lambda c: 3.0, cache_dir=tmp_path, log=None)
    with pytest.raises(TypeError):
        run_sweep([{"T": object()}], run, cache_dir=tmp_path, log=None)
    with pytest.raises(ValueError, match="run must be"):
        run_sweep([{"T": 1}], "train", cache_dir=tmp_path)


def test_largest_solved_and_summarise():
    results = [
        {
            "task": "adding",
            "model": "lstm",
            "T": 10,
            "solved": True,
            "sequences": 5,
        },
        {
            "task": "adding",
            "model": "lstm",
            "T": 100,
            "solved": True,
            "sequences": 50,
        },
        {
            "task": "adding",
            "model": "rnn",
            "T": 10,
            "solved": True,
            "sequences": 40,
        },
        {
            "task": "adding",
            "model": "rnn",
            "T": 100,
            "solved": False,
            "sequences": 90,
        },
        {
            "task": "adding",
            "model": "gru",
            "T": 10,
            "solved": False,
            "sequences": 90,
        },
        {
            "task": "reber",
            "model": "gru",
            "T": None,
            "solved": True,
            "sequences": 7,
        },
    ]
    for r in results:
        r |= {"accuracy": float(r["solved"]), "error": 1.0 - r["solved"]}
    assert largest_solved(results) == {
        ("adding", "lstm"): 100,
        ("adding", "rnn"): 10,
        ("adding", "gru"): None,
        ("reber", "gru"): 1,
    }
    rows = summarise(results, "adding")
    assert rows[0] == {
        "model": "lstm",
        "T": 10,
        "seeds": 1,
        "success": 1.0,
        "skipped": 0,
        "accuracy": 1.0,
        "error": 0.0,
        "sequences": 5.0,
    }
    assert [r["sequences"] for r in rows if r["model"] == "gru"] == [None]


# ---------------------------------------------------------------------------- real runs


@pytest.mark.parametrize(
    "task, T, model",
    [
        ("adding", 6, "lstm"),
        ("copy", 4, "gru"),
        ("reber", None, "rnn"),
        ("adding", 6, "CIFG"),
    ],
)
def test_train_on_task_returns_repeatable_plain_metrics(task, T, model):
    config = run_config(
        task, model, T, max_sequences=256, eval_every=128, batch_size=32
    )
    first, second = train_on_task(config), train_on_task(config)
    assert json.loads(json.dumps(first)) == first  # plain data, cacheable
    assert {
        "solved",
        "sequences",
        "accuracy",
        "error",
        "loss",
        "curve",
        "parameters",
    } <= set(first)
    assert 0 < first["sequences"] <= 256 and 0.0 <= first["accuracy"] <= 1.0
    seen = [point[0] for point in first["curve"]]
    assert seen == sorted(seen) and seen[-1] == first["sequences"]
    assert seen[0] == (
        256 if task == "reber" else 128
    )  # Reber: one pass over its strings
    for key in ("sequences", "accuracy", "error", "loss", "curve"):
        assert first[key] == second[key], key  # seeded: the same numbers again


def test_train_on_task_stops_when_solved():
    config = run_config(
        "adding", "lstm", 4, threshold=0.0, max_sequences=10_000
    )
    result = train_on_task(config)
    assert result["solved"] and result["sequences"] == config["eval_every"]


def test_train_on_stories_returns_the_table_columns():
    config = story_config(
        "no forget gate", train_stories=40, test_stories=20, epochs=1
    )
    assert set(STORY_DEFAULTS) <= set(config)
    result = train_on_stories(config)
    assert set(result) == {
        "loss",
        "accuracy",
        "recall",
        "parameters",
        "seconds_per_epoch",
    }
    assert math.isfinite(result["loss"]) and 0.0 <= result["accuracy"] <= 1.0
    with pytest.raises(ValueError, match="settings has unknown keys"):
        story_config("lstm", hidden=3)


def _tiny_adding(seed=0, **settings):
    settings = {
        "hidden_size": 8,
        "eval_every": 256,
        "max_sequences": 4096,
    } | settings
    return run_config("adding", "lstm", 6, seed, **settings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strict_n_val_trains_on_until_the_second_held_out_set_is_all_right(
    seed,
):
    # threshold 0 passes the book's check at once; a strict set of one sequence is soon right
    result = train_on_task(_tiny_adding(seed, threshold=0.0, strict_n_val=1))
    assert (
        result["solved"] and result["sequences"] == 256
    )  # when the book's check passed
    assert {
        "strict_solved",
        "strict_sequences",
        "strict_accuracy",
        "trained",
    } <= set(result)
    assert result["strict_sequences"] >= result["sequences"]
    assert result["trained"] >= result["strict_sequences"]
    assert result["curve"][-1][0] == result["trained"]
    if result["strict_solved"]:
        assert result["strict_accuracy"] == 1.0
        assert (
            result["trained"] == result["strict_sequences"]
        )  # it stopped there
    else:
        assert result["trained"] == result["strict_sequences"] == 4096


def test_without_strict_n_val_there_are_no_strict_metrics_and_trained_counts_all():
    result = train_on_task(_tiny_adding(threshold=0.0, max_sequences=1024))
    assert result["solved"] and result["sequences"] == result["trained"] == 256
    assert not {"strict_solved", "strict_sequences", "strict_accuracy"} & set(
        result
    )
    unsolved = train_on_task(_tiny_adding(threshold=1.0, max_sequences=512))
    assert (
        not unsolved["solved"]
        and unsolved["sequences"] == unsolved["trained"] == 512
    )


def test_strict_n_val_on_the_copy_task():
    config = run_config(
        "copy", "gru", 4, hidden_size=8, eval_every=256, max_sequences=1024, threshold=0.0,
        strict_n_val=8,
    )  # fmt: skip
    result = train_on_task(config)
    assert result["solved"] and 0.0 <= result["strict_accuracy"] <= 1.0
    assert (
        result["sequences"]
        <= result["strict_sequences"]
        <= result["trained"]
        <= 1024
    )


def test_reber_test_strings_are_disjoint_from_the_training_strings():
    config = run_config(
        "reber", "lstm", None, max_sequences=256, n_train=64, n_test=64
    )
    result = train_on_task(config)
    assert result["shared"] == 0
    assert (
        0 < result["train_distinct"] <= 64 and 0 < result["test_distinct"] <= 64
    )
    assert result["test_longest_lag"] >= 3


def test_reber_facts_counts_the_strings_of_each_set():
    train = ["BTBTXSETE", "BTBTXSETE", "BPBPVVEPE"]
    test = ["BPBPVVEPE", "BTBTSSXXVVETE"]
    assert reber_facts(train, test) == {
        "train_distinct": 2,
        "test_distinct": 2,
        "shared": 1,
        "test_longest_lag": len("BTBTSSXXVVETE") - 3,
    }
