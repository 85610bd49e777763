"""Mistakes found by an adversarial probe of the public API, written by someone who had not
seen the other tests: each is refused now, naming the argument, before any work."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
import torch
from torch import nn

from lstm_tutorial import checks, store, sweep, timings, training
from lstm_tutorial.optim import Adam
from lstm_tutorial.store import CorruptFile, digest
from lstm_tutorial.stories import generate_stories
from lstm_tutorial.variants import set_gate_bias
from lstm_tutorial.word_lm import add_keep_bias


def _mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


BATCHES = [(torch.ones(4, 3), torch.zeros(4, 1))]


@pytest.mark.parametrize(
    "check", [checks.number, checks.positive_number, checks.fraction]
)
def test_an_int_too_large_for_a_float_is_a_value_error_not_an_overflow(check):
    with pytest.raises(ValueError, match="lr must be a finite number"):
        check("lr", 10**400)


def test_seeds_beyond_what_torch_takes_are_refused_before_any_generator_is_seeded():
    with pytest.raises(
        ValueError,
        match=r"seed must be an integer in \[0, 9223372036854775807\]",
    ):
        checks.seed("seed", 2**64)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="this machine has a CUDA GPU"
)
def test_a_device_torch_cannot_use_is_refused_at_once():
    with pytest.raises(ValueError, match="device='cuda' is not available here"):
        checks.torch_device("device", "cuda")
    with pytest.raises(ValueError, match="device='cuda' is not available"):
        training.fit(
            nn.Linear(3, 1),
            BATCHES,
            loss=_mse,
            epochs=1,
            device="cuda",
            log=None,
        )


def test_numbers_that_overflow_the_parameters_dtype_are_refused():
    with pytest.raises(
        ValueError, match="value holds 1e[+]39, too large for torch.float32"
    ):
        set_gate_bias(nn.LSTM(3, 4), "f", 1e39)
    with pytest.raises(ValueError, match="value holds 1e[+]39, too large"):
        add_keep_bias(nn.LSTM(3, 4), 1e39)
    adam = Adam({"w": np.ones(3, np.float32)})
    state = adam.state_dict() | {"m.w": np.full(3, 1e300)}
    with pytest.raises(
        ValueError, match=r"state\['m.w'\] holds 1e\+300, too large for float32"
    ):
        adam.load_state_dict(state)


def test_add_keep_bias_reaches_both_directions_of_a_bidirectional_layer():
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    add_keep_bias(layer, 2.0)
    for name, p in layer.named_parameters():
        shift = p.detach() - before[name]
        expected = torch.zeros_like(shift)
        if name.startswith("bias_ih_"):
            expected[4:8] = 2.0
        torch.testing.assert_close(shift, expected)


def test_fit_refuses_an_optimizer_built_for_another_model():
    model, other = nn.Linear(3, 1), nn.Linear(3, 1)
    optimizer = torch.optim.SGD(other.parameters(), lr=0.1)
    with pytest.raises(
        ValueError, match="optimizer must update this model's parameters"
    ):
        training.fit(
            model, BATCHES, loss=_mse, epochs=1, optimizer=optimizer, log=None
        )


@pytest.mark.parametrize("bad", [1.0, torch.ones(2)], ids=["float", "vector"])
def test_fit_refuses_a_loss_that_is_not_a_scalar_tensor(bad):
    with pytest.raises(
        TypeError, match="loss\\(model, batch\\) must return a scalar tensor"
    ):
        training.fit(
            nn.Linear(3, 1), BATCHES, loss=lambda m, b: bad, epochs=1, log=None
        )


def test_fit_refuses_an_infinite_metric():
    with pytest.raises(
        ValueError, match="metric 'm' after epoch 1 must be a finite number"
    ):
        training.fit(
            nn.Linear(3, 1), BATCHES, loss=_mse, epochs=1, log=None,
            metrics={"m": lambda model: math.inf},
        )  # fmt: skip


def test_load_checkpoint_blames_a_bad_map_location_not_the_file(tmp_path):
    path = training.save_checkpoint(tmp_path / "m.pt", nn.Linear(3, 2))
    with pytest.raises(ValueError, match="map_location must be a device"):
        training.load_checkpoint(path, map_location=5)


def test_a_model_holding_nan_is_not_saved(tmp_path):
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.fill_(math.nan)
    with pytest.raises(training.TrainingDiverged, match="before it was saved"):
        training.save_checkpoint(tmp_path / "m.pt", model)
    assert not list(tmp_path.iterdir())


def test_a_checkpoint_path_that_is_a_folder_is_refused_before_serialising(
    tmp_path,
):
    with pytest.raises(
        ValueError, match="path must be a file, but .* is a folder"
    ):
        training.save_checkpoint(tmp_path, nn.Linear(3, 1))


def test_config_keys_must_be_strings_so_1_and_1_do_not_collide():
    with pytest.raises(
        ValueError, match="config must have string keys, got the key 1"
    ):
        training.config_key({1: "a"})
    assert digest({1: "a"}) != digest({"1": "a"})


def test_a_checkpoint_copied_under_another_models_name_is_not_trusted(tmp_path):
    def train(model, device):
        return training.fit(
            model, BATCHES, loss=_mse, epochs=1, device=device, log=None
        )

    def build():
        return nn.Linear(3, 1)

    config = {"seed": 0}
    training.train_or_load(
        "a", config, build, train, directory=tmp_path, log=None
    )
    path_a = training.checkpoint_path("a", config, tmp_path)
    path_b = training.checkpoint_path("b", config, tmp_path)
    os.replace(path_a, path_b)
    lines = []
    training.train_or_load(
        "b", config, build, train, directory=tmp_path, log=lines.append
    )
    assert lines and "another name or config" in lines[0]


def test_a_sweep_record_of_another_run_function_is_not_trusted(tmp_path):
    def run_a(config):
        return {"solved": True, "sequences": 111}

    def run_b(config):
        return {"solved": True, "sequences": 222}

    configs = [{"task": "adding", "T": 5}]
    sweep.run_sweep(configs, run_a, cache_dir=tmp_path / "a", log=None)
    sweep.run_sweep(configs, run_b, cache_dir=tmp_path / "b", log=None)
    (file_a,) = (tmp_path / "a").iterdir()
    (file_b,) = (tmp_path / "b").iterdir()
    os.replace(file_a, file_b)
    lines = []
    (result,) = sweep.run_sweep(
        configs, run_b, cache_dir=tmp_path / "b", log=lines.append
    )
    assert (
        result["sequences"] == 222
        and "another config or run function" in lines[0]
    )


def test_a_sweep_checks_every_config_before_the_first_run(tmp_path):
    calls = []
    good = sweep.run_config("adding", "lstm", 10)
    with pytest.raises(
        ValueError, match=r"config\['lr'\] must be a finite number > 0"
    ):
        sweep.run_sweep(
            [good, good | {"lr": -1.0}],
            cache_dir=tmp_path / "c",
            log=calls.append,
        )
    assert not calls and not (tmp_path / "c").exists()
    with pytest.raises(TypeError, match=r"configs\[1\] must be a config dict"):
        sweep.run_sweep(
            [{"a": 1}, "bad"],
            lambda c: calls.append(c) or {},
            cache_dir=tmp_path,
        )
    assert not calls


def test_a_sweep_cache_file_that_breaks_the_json_parser_is_reported(tmp_path):
    def run(config):
        return {"solved": True, "sequences": 1}

    configs = [{"task": "adding", "T": 5}]
    sweep.run_sweep(configs, run, cache_dir=tmp_path, log=None)
    (path,) = tmp_path.iterdir()
    path.write_text("[" * 100_000)
    lines = []
    sweep.run_sweep(configs, run, cache_dir=tmp_path, log=lines.append)
    assert "unusable" in lines[0]


def test_the_adding_task_needs_at_least_four_steps():
    with pytest.raises(
        ValueError, match=r"T \(the sequence length of the adding task\)"
    ):
        sweep.run_config("adding", "lstm", 3)


def test_a_story_config_beyond_the_filler_words_is_refused():
    with pytest.raises(
        ValueError, match=r"config\['max_distance'\] must be at most 30"
    ):
        sweep.story_config("lstm", max_distance=100)


def test_a_story_whose_name_or_distance_disagrees_with_its_parts_is_refused():
    story = generate_stories(1, 3, seed=0)[0]
    with pytest.raises(
        ValueError, match="Story.recall.correct must be the pet's name"
    ):
        dataclasses.replace(story, name="Rex")
    with pytest.raises(
        ValueError, match="Story.distance must be the number of filler words"
    ):
        dataclasses.replace(story, distance=7)


def test_timings_checks_the_json_path_before_running_any_notebook(
    tmp_path, monkeypatch
):
    ran = []
    monkeypatch.setattr(timings, "run_cold", lambda nb: ran.append(nb) or 1.0)
    (tmp_path / "a.ipynb").write_text("{}")
    with pytest.raises(SystemExit):
        timings.main([str(tmp_path / "a.ipynb"), "--json", str(tmp_path)])
    assert not ran


def test_a_resealed_checkpoint_with_garbage_inside_is_reported_not_crashed_on(
    tmp_path,
):
    """A file with a valid seal but impossible content (as a buggy writer would make)."""
    path = tmp_path / "m.pt"
    payload = {
        "format": training.CHECKPOINT_FORMAT,
        "state_dict": {},
        "config": {},
        "history": {},
    }
    store.atomic_write(
        path, store.sealed_writer(lambda buffer: torch.save(payload, buffer))
    )
    with pytest.raises(CorruptFile, match="damaged history"):
        training.load_checkpoint(path)


def test_a_dependency_points_backwards_in_the_text():
    from lstm_tutorial.story import Dependency

    with pytest.raises(ValueError, match="antecedent must come before"):
        Dependency(1, 5, "x")


def test_a_temperature_so_small_that_dividing_overflows_is_refused():
    from lstm_tutorial.decoding import adjust_log_probs

    with pytest.raises(
        ValueError, match="temperature must be a finite number >= 1e-06"
    ):
        adjust_log_probs(np.log(np.full(4, 0.25)), temperature=5e-324)
