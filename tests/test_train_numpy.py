"""Training the NumPy language model: it learns, carries the state across batches, stops
with a clear message when it diverges, and saves, loads and caches checkpoints (no pickle)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lstm_tutorial.chardata import dropped_characters, unigram_bits_per_char
from lstm_tutorial.charlm import MODELS, CharLM, CharRNN
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
TEXT = "".join(
    f"def f{k % 7}(x):\n    return x + {k % 5}  # ok é\n" for k in range(300)
)


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


def test_training_learns_far_below_the_unigram_baseline_and_reports_progress(
    config,
):
    lines = []
    result = train(config, log=lines.append)
    vocab, train_ids, val_ids = prepare_data(config)
    unigram = unigram_bits_per_char(train_ids, val_ids, vocab.size)
    history = result.history
    assert history.step == [0, 20, 40, 60]
    assert history.chars[-1] == 60 * 8 * 16
    assert history.val_bpc[0] > unigram > 2 * history.val_bpc[-1]
    assert (
        math.isnan(history.train_bpc[0])
        and history.train_bpc[-1] < history.train_bpc[1]
    )
    assert len(history.loss) == len(history.grad_norm) == 60
    progress = [line for line in lines if line.startswith("step")]
    assert (
        len(progress) == 4 and "bpc" in progress[-1] and "ch/s" in progress[-1]
    )
    assert [s for s, _ in history.samples] == [30, 60]
    assert all(
        text.startswith("def") and len(text) == 23
        for _, text in history.samples
    )
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
        assert (
            initial is previous_final
        )  # the next batch starts where the last one ended


def test_a_huge_learning_rate_stops_training_with_a_clear_message(config):
    lines = []
    with pytest.raises(
        TrainingDiverged, match="diverged at step .*smaller learning rate"
    ):
        train(
            dataclasses.replace(config, lr=50.0, max_grad_norm=1e6),
            log=lines.append,
        )
    assert not any("nan" in line for line in lines)


def test_non_finite_losses_and_gradients_stop_training():
    config = TrainConfig()
    ok = {"w": np.ones(3)}
    check_divergence(
        2.0, 1.5, 7, config, ok
    )  # a little worse than the best is fine
    with pytest.raises(TrainingDiverged, match="step 7: the loss is nan"):
        check_divergence(float("nan"), 1.5, 7, config, ok)
    with pytest.raises(
        TrainingDiverged, match="gradient of w holds nan or inf"
    ):
        check_divergence(2.0, 1.5, 7, config, {"w": np.array([1.0, np.inf])})


def test_checkpoint_round_trip_without_pickle(config, tmp_path):
    result = train(
        dataclasses.replace(config, steps=20, sample_every=10), log=None
    )
    path = save_checkpoint(tmp_path / "ckpt" / "model.npz", result)
    with np.load(
        path, allow_pickle=False
    ) as data:  # plain arrays and strings only
        assert "config" in data.files and data["vocab"].dtype == np.int32
    loaded = load_checkpoint(path)
    assert loaded.config == result.config
    assert (
        loaded.vocab == result.vocab
        and "é" in loaded.vocab.chars
        and "\n" in loaded.vocab.chars
    )
    for name, p in result.model.parameters().items():
        np.testing.assert_array_equal(loaded.model.parameters()[name], p)
        assert loaded.model.parameters()[name].dtype == p.dtype
    for key, value in result.optimizer.state_dict().items():
        np.testing.assert_array_equal(loaded.optimizer.state_dict()[key], value)
    assert loaded.history.samples == result.history.samples
    assert loaded.history.val_bpc == result.history.val_bpc
    assert [p.name for p in path.parent.iterdir()] == [
        "model.npz"
    ]  # no temporary files left


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
        other = train_or_load(
            dataclasses.replace(short, seed=1), path, log=None
        )  # retrains
    assert not np.array_equal(
        other.model.decoder_bias, first.model.decoder_bias
    )


def test_evaluate_matches_the_loss_of_the_batches(config):
    vocab, _, val_ids = prepare_data(config)
    model = CharLM(vocab.size, 8, 24)
    nats = evaluate(model, val_ids, batch_size=4, seq_len=16)
    assert nats == pytest.approx(
        math.log(vocab.size), rel=0.05
    )  # untrained: near uniform


def test_config_refuses_bad_values():
    with pytest.raises(
        ValueError, match="TrainConfig.lr must be a finite number > 0"
    ):
        TrainConfig(lr=0.0)
    with pytest.raises(
        ValueError, match=r"TrainConfig.steps must be an integer >= 1"
    ):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="dtype"):
        TrainConfig(dtype="float16")
    assert TrainConfig.from_json(TrainConfig().to_json()) == TrainConfig()


# ---------------------------------------------------------------------------------------------
# Every character evaluated once; epochs; the plain RNN
# ---------------------------------------------------------------------------------------------


def _direct_loss(model, ids, batch_size):
    """The mean loss over every target, each stream read in one piece (no windows)."""
    stream_len = (len(ids) - 1) // batch_size
    total, count = 0.0, 0
    for b in range(batch_size):
        start = b * stream_len
        end = start + stream_len if b < batch_size - 1 else len(ids) - 1
        x, y = ids[start:end, None], ids[start + 1 : end + 1, None]
        total += model.loss(x, y)[0] * len(x)
        count += len(x)
    assert count == len(ids) - 1  # every character after the first, once
    return total / count


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_evaluate_reads_every_character_whatever_the_window(cell):
    rng = np.random.default_rng(0)
    ids = rng.integers(
        0, 6, 203
    )  # 202 targets: 4 streams of 50 and 2 left over
    model = MODELS[cell](6, 3, 5, dtype=np.float64, seed=1)
    direct = _direct_loss(model, ids, batch_size=4)
    for seq_len in (7, 16, 50):
        assert evaluate(model, ids, 4, seq_len) == pytest.approx(
            direct, abs=1e-12
        )
    whole = model.loss(ids[:-1, None], ids[1:, None])[
        0
    ]  # one stream, one piece
    assert evaluate(model, ids, 1, 9) == pytest.approx(whole, abs=1e-12)


def test_training_reports_its_epochs_and_what_an_epoch_leaves_out(config):
    lines = []
    result = train(
        dataclasses.replace(config, sample_every=0), log=lines.append
    )
    _, train_ids, _ = prepare_data(config)
    batches = (len(train_ids) - 1) // 8 // 16
    assert result.history.batches_per_epoch == batches
    assert result.history.epochs == pytest.approx(60 / batches)
    left_out = dropped_characters(len(train_ids), 8, 16)
    assert (
        lines[0]
        == f"one epoch = {batches} batches of 8 streams x 16 characters;"
    )
    assert lines[1] == (
        f"it leaves out {left_out:,} of the {len(train_ids) - 1:,} training targets"
    )
    assert lines[2] == f"60 steps = {60 / batches:.2f} epochs"


def test_the_plain_rnn_trains_with_the_same_loop_and_round_trips(
    config, tmp_path
):
    rnn = dataclasses.replace(config, cell="rnn", sample_every=30)
    result = train(rnn, log=None)
    assert isinstance(result.model, CharRNN)
    vocab, train_ids, val_ids = prepare_data(rnn)
    unigram = unigram_bits_per_char(train_ids, val_ids, vocab.size)
    assert result.history.val_bpc[-1] < unigram
    assert all(text.startswith("def") for _, text in result.history.samples)
    loaded = load_checkpoint(save_checkpoint(tmp_path / "rnn.npz", result))
    assert isinstance(loaded.model, CharRNN) and loaded.config.cell == "rnn"
    for name, p in result.model.parameters().items():
        np.testing.assert_array_equal(loaded.model.parameters()[name], p)
    with pytest.raises(ValueError, match="TrainConfig.cell must be one of"):
        TrainConfig(cell="gru")
