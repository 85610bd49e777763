"""Training the NumPy language model: it learns, carries the state across batches, stops
with a clear message when it diverges, and saves, loads and caches checkpoints (no pickle)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lstm_tutorial.chardata import unigram_bits_per_char
from lstm_tutorial.charlm import CharLM
from lstm_tutorial.store import CacheWarning
from lstm_tutorial.train_numpy import (
    TrainConfig,
    TrainingDiverged,
    check_divergence,
    evaluate,
    load_checkpoint,
    prepare_data,
    save_checkpoint,
    train,
    train_or_load,
)

# A text with structure a model can learn in a few dozen steps, and a few unusual characters.
TEXT = "".join(f"def f{k % 7}(x):\n    return x + {k % 5}  # ok é\n" for k in range(300))


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return TrainConfig(
        hidden_size=24,
        embed_size=8,
        text_path=str(path),
        val_chars=None,
        steps=60,
        batch_size=8,
        seq_len=16,
        lr=0.01,
        eval_every=20,
        sample_every=30,
        sample_prompt="def",
        sample_length=20,
    )


def test_training_learns_far_below_the_unigram_baseline_and_reports_progress(config):
    lines = []
    result = train(config, log=lines.append)
    vocab, train_ids, val_ids = prepare_data(config)
    unigram = unigram_bits_per_char(train_ids, val_ids, vocab.size)
    history = result.history
    assert history.step == [0, 20, 40, 60]
    assert history.chars[-1] == 60 * 8 * 16
    assert history.val_bpc[0] > unigram > 2 * history.val_bpc[-1]
    assert math.isnan(history.train_bpc[0]) and history.train_bpc[-1] < history.train_bpc[1]
    assert len(history.loss) == len(history.grad_norm) == 60
    progress = [line for line in lines if line.startswith("step")]
    assert len(progress) == 4 and "bpc" in progress[-1] and "ch/s" in progress[-1]
    assert [s for s, _ in history.samples] == [30, 60]
    assert all(text.startswith("def") and len(text) == 23 for _, text in history.samples)
    assert all(len(line) <= 76 for line in lines)


def test_training_is_deterministic(config):
    short = dataclasses.replace(config, steps=10, sample_every=0)
    a, b = train(short, log=None), train(short, log=None)
    for name, p in a.model.parameters().items():
        np.testing.assert_array_equal(p, b.model.parameters()[name])


def test_the_state_is_carried_from_batch_to_batch(config, monkeypatch):
    seen = []
    original = CharLM.loss_and_grads

    def spy(self, inputs, targets, state=None):
        loss, grads, new_state = original(self, inputs, targets, state)
        seen.append((state, new_state))
        return loss, grads, new_state

    monkeypatch.setattr(CharLM, "loss_and_grads", spy)
    train(dataclasses.replace(config, steps=3, sample_every=0), log=None)
    assert seen[0][0] is None  # the first batch starts from zeros
    for (_, previous_final), (initial, _) in zip(seen, seen[1:], strict=False):
        assert initial is previous_final  # the next batch starts where the last one ended


def test_a_huge_learning_rate_stops_training_with_a_clear_message(config):
    lines = []
    with pytest.raises(TrainingDiverged, match="diverged at step .*smaller learning rate"):
        train(dataclasses.replace(config, lr=50.0, max_grad_norm=1e6), log=lines.append)
    assert not any("nan" in line for line in lines)


def test_non_finite_losses_and_gradients_stop_training():
    config = TrainConfig()
    ok = {"w": np.ones(3)}
    check_divergence(2.0, 1.5, 7, config, ok)  # a little worse than the best is fine
    with pytest.raises(TrainingDiverged, match="step 7: the loss is nan"):
        check_divergence(float("nan"), 1.5, 7, config, ok)
    with pytest.raises(TrainingDiverged, match="gradient of w holds nan or inf"):
        check_divergence(2.0, 1.5, 7, config, {"w": np.array([1.0, np.inf])})


def test_checkpoint_round_trip_without_pickle(config, tmp_path):
    result = train(dataclasses.replace(config, steps=20, sample_every=10), log=None)
    path = save_checkpoint(tmp_path / "ckpt" / "model.npz", result)
    with np.load(path, allow_pickle=False) as data:  # plain arrays and strings only
        assert "config" in data.files and data["vocab"].dtype == np.int32
    loaded = load_checkpoint(path)
    assert loaded.config == result.config
    assert loaded.vocab == result.vocab and "é" in loaded.vocab.chars and "\n" in loaded.vocab.chars
    for name, p in result.model.parameters().items():
        np.testing.assert_array_equal(loaded.model.parameters()[name], p)
        assert loaded.model.parameters()[name].dtype == p.dtype
    for key, value in result.optimizer.state_dict().items():
        np.testing.assert_array_equal(loaded.optimizer.state_dict()[key], value)
    assert loaded.history.samples == result.history.samples
    assert loaded.history.val_bpc == result.history.val_bpc
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]  # no temporary files left


def test_train_or_load_trains_once_then_loads_the_same_model(config, tmp_path):
    short = dataclasses.replace(config, steps=10, sample_every=0)
    path = tmp_path / "cache.npz"
    first_log, second_log = [], []
    first = train_or_load(short, path, log=first_log.append)
    second = train_or_load(short, path, log=second_log.append)
    assert any(line.startswith("step") for line in first_log)
    assert len(second_log) == 1 and second_log[0].startswith("loaded")
    for name, p in first.model.parameters().items():
        np.testing.assert_array_equal(second.model.parameters()[name], p)
    with pytest.warns(CacheWarning, match=r"another config\); training again"):
        other = train_or_load(dataclasses.replace(short, seed=1), path, log=None)  # retrains
    assert not np.array_equal(other.model.decoder_bias, first.model.decoder_bias)


def test_evaluate_matches_the_loss_of_the_batches(config):
    vocab, _, val_ids = prepare_data(config)
    model = CharLM(vocab.size, 8, 24)
    nats = evaluate(model, val_ids, batch_size=4, seq_len=16)
    assert nats == pytest.approx(math.log(vocab.size), rel=0.05)  # untrained: near uniform


def test_config_refuses_bad_values():
    with pytest.raises(ValueError, match="TrainConfig.lr must be a finite number > 0"):
        TrainConfig(lr=0.0)
    with pytest.raises(ValueError, match=r"TrainConfig.steps must be an integer >= 1"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="dtype"):
        TrainConfig(dtype="float16")
    assert TrainConfig.from_json(TrainConfig().to_json()) == TrainConfig()
