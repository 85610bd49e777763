"""Tests of the multi-seed experiments: the tuning rule, the verdict, the code hash, the
cached parallel runner, the records files, the command, and the story runs' sizes."""

from __future__ import annotations

import ast
import functools
import json
import shutil
from pathlib import Path

import pytest

from lstm_tutorial import experiments, story_experiments, sweep
from lstm_tutorial.experiments import (
    LR_GRID,
    SEEDS,
    SOLVED_IF,
    TUNE_SEEDS,
    UNSOLVED_PENALTY,
    code_hash,
    load_records,
    run_configs,
    run_function,
    select,
    spread,
    tuned_rates,
    tuning_score,
    verdict,
)
from lstm_tutorial.store import digest, write_json
from lstm_tutorial.variants import count_parameters, make_recurrent

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --------------------------------------------------------------------------- tuning


def _config(lr=1e-2, model="lstm", task="adding", **settings):
    return sweep.run_config(
        task, model, 10, lr=lr, max_sequences=1000, **settings
    )


def _record(lr, sequences, solved=True, model="lstm"):
    return {
        "config": _config(lr, model),
        "metrics": {"solved": solved, "sequences": sequences},
    }


def test_tuning_score_counts_sequences_and_penalises_an_unsolved_run():
    config = _config()
    assert tuning_score(config, {"solved": True, "sequences": 300}) == 300.0
    unsolved = tuning_score(config, {"solved": False, "sequences": 1000})
    assert unsolved == UNSOLVED_PENALTY * 1000 == 2000.0
    story = sweep.story_config("lstm")
    assert (
        tuning_score(story, {"loss": 1.25, "accuracy": 0.5}) == 1.25
    )  # a language model
    assert (
        tuning_score(story, {"loss": 1.25, "val_ppl": 3.5}) == 1.25
    )  # the held-out loss


def test_tuned_rates_picks_the_lowest_median_and_flags_the_grid_edge():
    tuning = [
        *(
            _record(1e-3, n) for n in (900, 800, 100)
        ),  # median 800 (one lucky seed)
        *(_record(3e-3, n) for n in (300, 400, 500)),  # median 400: the best
        *(_record(1e-2, n) for n in (600, 700, 650)),
        *(_record(3e-2, n, solved=False) for n in (1000, 1000, 1000)),
        *(
            _record(1e-3, n, model="gru") for n in (100, 200, 300)
        ),  # best at the edge
        *(_record(1e-2, n, model="gru") for n in (500, 500, 500)),
    ]
    rates = tuned_rates(tuning)
    assert set(rates) == {("adding", "lstm"), ("adding", "gru")}
    lstm = rates["adding", "lstm"]
    assert lstm["scores"] == {
        1e-3: 800.0,
        3e-3: 400.0,
        1e-2: 650.0,
        3e-2: 2000.0,
    }
    assert lstm["best"] == 3e-3 and not lstm["edge"]
    gru = rates["adding", "gru"]
    assert gru["best"] == 1e-3 and gru["edge"]


def test_tuned_rates_breaks_a_tie_towards_the_smaller_rate():
    tuning = [_record(lr, 500) for lr in (3e-2, 1e-2, 3e-3)]
    row = tuned_rates(tuning)["adding", "lstm"]
    assert row["best"] == 3e-3 and row["edge"]
    assert tuned_rates([]) == {}


# ------------------------------------------------------------------ verdict and tables


def test_spread_prints_the_median_and_the_range():
    assert spread([1, 2, 3]) == "2 [1-3]"
    assert spread([3000, 1000, 2000.0]) == "2,000 [1,000-3,000]"
    assert spread([5]) == "5"


def test_verdict_needs_four_of_five_seeds():
    assert SOLVED_IF == 4 and len(SEEDS) == 5

    def runs(k):
        return [{"config": {}, "metrics": {"solved": i < k}} for i in range(5)]

    assert verdict(runs(5)) and verdict(runs(4))
    assert not verdict(runs(3)) and not verdict(runs(0))
    strict = [
        {"config": {}, "metrics": {"solved": True, "strict_solved": i < 3}}
        for i in range(5)
    ]
    assert verdict(strict) and not verdict(strict, key="strict_solved")


def test_select_keeps_the_records_whose_config_matches():
    records = [
        _record(1e-3, 1),
        _record(1e-2, 2),
        _record(1e-2, 3, model="gru"),
    ]
    assert select(records, lr=1e-2) == records[1:]
    assert select(records, lr=1e-2, model="gru") == records[2:]
    assert select(records) == records and select(records, model="rnn") == []


def test_run_function_goes_by_the_task():
    assert run_function(_config()) is sweep.train_on_task
    assert run_function(sweep.story_config("lstm")) is sweep.train_on_stories
    story = story_experiments.story_run_config("gru", 0, 1e-2)
    assert run_function(story) is story_experiments.train_story_run


def test_the_grids_use_the_protocols_seeds_and_starts():
    tuning = experiments.long_lag_tuning()
    assert {c["seed"] for c in tuning} == set(TUNE_SEEDS)
    assert {c["lr"] for c in tuning} == set(LR_GRID)
    assert all(
        c["strict_n_val"] is None for c in tuning
    )  # tuned on the book's rule only
    assert all(c["update_bias"] == 3.0 for c in tuning if c["model"] == "gru")
    assert all(c["orthogonal"] for c in tuning if c["model"] == "rnn")
    rates = {key: 1e-2 for key in {(c["task"], c["model"]) for c in tuning}}
    runs = experiments.long_lag_runs(rates)
    assert {c["seed"] for c in runs} == set(SEEDS) and {
        c["lr"] for c in runs
    } == {1e-2}
    assert {c["strict_n_val"] for c in runs if c["task"] == "adding"} == {2000}


# ----------------------------------------------------------------------------- code hash


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of tasks.py in a folder that code_hash takes for the package's."""
    source = Path(experiments.__file__).with_name("tasks.py")
    shutil.copy(source, tmp_path / "tasks.py")
    monkeypatch.setattr(
        experiments, "__file__", str(tmp_path / "experiments.py")
    )
    return tmp_path / "tasks.py"


def test_code_hash_is_stable_and_reads_the_packages_modules():
    first = code_hash(["tasks", "sweep"])
    assert first == code_hash(("tasks", "sweep")) and len(first) == 16
    assert (
        code_hash(["tasks"]) != first and code_hash(["sweep", "tasks"]) != first
    )


def test_code_hash_ignores_docstrings_and_comments_but_not_code(package_copy):
    before = code_hash(["tasks"])
    text = package_copy.read_text(encoding="utf-8")
    assert text.startswith('"""')
    module_doc_end = text.index('"""', 3) + 3
    package_copy.write_text(
        '"""Another module docstring, two lines\nlong."""'
        + text[module_doc_end:]
        + "\n# a comment\n",
        encoding="utf-8",
    )
    assert code_hash(["tasks"]) == before
    function_doc = '    """Draw ``n`` strings of the embedded Reber grammar'
    assert function_doc in text
    package_copy.write_text(
        text.replace(
            function_doc,
            '    """Draw n strings (an edited docstring).\n\n   ',
            1,
        ),
        encoding="utf-8",
    )
    assert code_hash(["tasks"]) == before
    package_copy.write_text(text + "\nANSWER = 42\n", encoding="utf-8")
    assert code_hash(["tasks"]) != before
    package_copy.write_text(
        text.replace("rng.integers(2)", "rng.integers(0, 2)", 1), "utf-8"
    )
    assert code_hash(["tasks"]) != before


def test_code_hash_ignores_layout_but_not_code(package_copy):
    before = code_hash(["tasks"])
    text = package_copy.read_text(encoding="utf-8")
    line = "from lstm_tutorial import checks"
    assert line in text
    wrapped = "from lstm_tutorial import (\n    checks,\n)"
    package_copy.write_text(text.replace(line, wrapped, 1), encoding="utf-8")
    assert code_hash(["tasks"]) == before
    package_copy.write_text(
        text.replace(line, "from lstm_tutorial import checks as c", 1), "utf-8"
    )
    assert code_hash(["tasks"]) != before


def test_code_hash_text_of_f_strings_is_the_same_however_the_parser_splits_them():
    split = ast.JoinedStr(
        values=[
            ast.Constant(value="a"),
            ast.Constant(value="b"),
            ast.FormattedValue(
                value=ast.Name(id="x", ctx=ast.Load()), conversion=-1
            ),
            ast.Constant(value=""),
        ]
    )
    whole = ast.parse('f"ab{x}"').body[0].value
    assert experiments._canonical(split) == experiments._canonical(whole)
    other = ast.parse('f"ab{x}c"').body[0].value
    assert experiments._canonical(other) != experiments._canonical(whole)


# ------------------------------------------------------------------------ the runner


def _tiny_configs():
    settings = {
        "hidden_size": 4,
        "batch_size": 8,
        "eval_every": 16,
        "max_sequences": 32,
    }
    return [
        sweep.run_config(
            "adding", "lstm", 4, seed, lr=1e-2, n_val=8, **settings
        )
        for seed in (0, 1)
    ]


@pytest.fixture
def counted(monkeypatch):
    """train_on_task with a call counter (same name, so the same cache key)."""
    calls = []
    real = sweep.train_on_task

    @functools.wraps(real)
    def counting(config, log=None):
        calls.append(config["seed"])
        return real(config, log)

    monkeypatch.setattr(experiments, "train_on_task", counting)
    return calls


def test_run_configs_caches_every_run_and_reads_the_cache_back(
    tmp_path, counted
):
    lines = []
    first = run_configs(
        _tiny_configs(), jobs=1, cache_dir=tmp_path, log=lines.append
    )
    assert counted == [0, 1] and len(list(tmp_path.glob("*.json"))) == 2
    assert [r["config"] for r in first] == _tiny_configs()
    assert all(
        "_seconds" not in r["metrics"] and r["seconds"] >= 0 for r in first
    )
    assert "2 runs: 0 cached, 2 to run" in lines[0]
    lines.clear()
    second = run_configs(
        _tiny_configs(), jobs=1, cache_dir=tmp_path, log=lines.append
    )
    assert counted == [0, 1]  # nothing trained again
    assert second == first and lines == [
        "2 runs: 2 cached, 0 to run on 1 processes"
    ]


def test_a_damaged_cache_file_is_reported_and_its_run_redone(tmp_path, counted):
    first = run_configs(_tiny_configs(), jobs=1, cache_dir=tmp_path, log=None)
    damaged = sorted(tmp_path.glob("*.json"))[0]
    damaged.write_bytes(damaged.read_bytes()[:-20])
    lines = []
    again = run_configs(
        _tiny_configs(), jobs=1, cache_dir=tmp_path, log=lines.append
    )
    assert len(counted) == 3  # one run redone
    assert any(damaged.name in line for line in lines), lines

    def timeless(r):
        return {k: v for k, v in r["metrics"].items() if "seconds" not in k}

    assert list(map(timeless, again)) == list(
        map(timeless, first)
    )  # seeded: the same run
    assert json.loads(damaged.read_text())  # rewritten whole


# ------------------------------------------------------------------------ the records


def _write_records(folder: Path, name: str = "tiny", **changes) -> Path:
    content = {
        "group": name,
        "modules": ["tasks"],
        "code_hash": code_hash(["tasks"]),
    }
    content |= {"tuning": [], "runs": []} | changes
    record = {
        "format": experiments.RECORDS_FORMAT,
        **content,
        "digest": digest(content),
    }
    path = folder / f"{name}.json"
    write_json(path, record)
    return path


def test_load_records_checks_the_file(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="make experiments"):
        load_records("long_lag", tmp_path)
    _write_records(tmp_path)
    stored = load_records("tiny", tmp_path)
    assert stored["stale"] is False and stored["modules"] == ["tasks"]
    _write_records(tmp_path, "old", code_hash="0" * 16)
    assert load_records("old", str(tmp_path))["stale"] is True
    assert "old.json was made by other code" in capsys.readouterr().out
    path = _write_records(tmp_path, "damaged")
    data = json.loads(path.read_text())
    data["runs"] = [{"config": {}, "metrics": {}}]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="damaged"):
        load_records("damaged", tmp_path)
    path.write_text(json.dumps(data | {"format": 99}))
    with pytest.raises(ValueError, match="not a records file"):
        load_records("damaged", tmp_path)


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--only", "bogus"], "invalid choice"),
    ],
)
def test_the_command_refuses_bad_arguments_before_running(
    argv, message, capsys, monkeypatch
):
    monkeypatch.setattr(
        experiments, "run_group", lambda *a, **k: pytest.fail("ran a group")
    )
    with pytest.raises(SystemExit) as info:
        experiments.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


# ------------------------------------------------------------------------ story runs


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_story_sizes_match_the_lstms_weight_count(cell):
    E = story_experiments.EMBED
    reference = count_parameters(
        make_recurrent("lstm", E, story_experiments.LSTM_HIDDEN)
    )
    n = count_parameters(
        make_recurrent(cell, E, story_experiments.story_size(cell))
    )
    assert abs(n - reference) / reference < 0.01, (cell, n, reference)
    assert story_experiments.story_size("lstm") == story_experiments.LSTM_HIDDEN


def test_story_run_config_is_checked_whole():
    config = story_experiments.story_run_config(
        "gru", 3, 1e-2, **story_experiments.HARD
    )
    assert config["task"] == "story_lm" and config["seed"] == 3
    assert config["hidden_size"] == story_experiments.story_size("gru")
    assert (
        story_experiments.story_run_config("rnn", 0, 1e-2)["keep_bias"] == 0.0
    )
    with pytest.raises(
        ValueError, match="attractors must be at most min_distance"
    ):
        story_experiments.story_run_config(
            "lstm", 0, 1e-2, min_distance=1, attractors=2
        )
    with pytest.raises(
        ValueError, match="min_distance must be at most max_distance"
    ):
        story_experiments.story_run_config(
            "lstm", 0, 1e-2, min_distance=5, max_distance=3
        )


def test_held_out_stories_cover_every_distance_of_the_config():
    from lstm_tutorial.word_lm import StoryLMConfig

    config = StoryLMConfig(
        min_distance=1, max_distance=3, distractor=True, attractors=1
    )
    held_out = story_experiments.test_stories(config)
    per = story_experiments.TEST_PER_DISTANCE
    assert len(held_out) == 3 * per
    assert [s.distance for s in held_out] == [
        d for d in (1, 2, 3) for _ in range(per)
    ]
    again = story_experiments.test_stories(config)
    assert [s.tokens for s in again] == [s.tokens for s in held_out]


def test_groups_on_pythons_own_text_reproduce_only_on_their_python():
    import platform

    now = platform.python_version()
    charlm = {"group": "charlm", "versions": {"python": now}}
    assert experiments.same_data_python(charlm)
    assert not experiments.same_data_python(
        charlm | {"versions": {"python": "3.0.1"}}
    )
    other = {"group": "long_lag", "versions": {"python": "3.0.1"}}
    assert experiments.same_data_python(other)
    with pytest.raises(TypeError, match="record"):
        experiments.same_data_python(["charlm"])
