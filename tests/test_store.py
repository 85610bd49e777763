"""Caches and checkpoints that survive corruption, interruption and read-only folders; training
that never returns a broken model."""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lstm_tutorial import store, sweep, train_numpy, training
from lstm_tutorial.store import CacheWarning, CorruptFile, atomic_write, digest
from lstm_tutorial.train_numpy import TrainConfig

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60

# ------------------------------------------------------------------------- the three caches


def numpy_config(tmp_path: Path, **changes) -> TrainConfig:
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    settings = dict(
        hidden_size=8,
        embed_size=4,
        text_path=str(text),
        val_chars=None,
        steps=4,
        batch_size=2,
        seq_len=8,
        eval_every=2,
        sample_every=0,
    )
    return TrainConfig(**(settings | changes))


class NumpyCache:
    """``train_numpy.train_or_load`` behind a common interface."""

    suffix = ".npz"

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.path = tmp_path / "cache" / "lm.npz"
        self.trained = 0

    def run(self, log, seed: int = 0):
        config = numpy_config(self.tmp_path, seed=seed)
        before = train_numpy.train

        def counting(config, log=None):
            self.trained += 1
            return before(config, log=None)

        train_numpy.train = counting
        try:
            result = train_numpy.train_or_load(config, self.path, log=log)
        finally:
            train_numpy.train = before
        return result.model.parameters()

    def load(self):
        train_numpy.load_checkpoint(self.path)

    def write_older_format(self):
        with np.load(self.path) as data:
            arrays = {k: data[k] for k in data.files if k != "digest"}
        arrays["format"] = np.array(1)
        with open(self.path, "wb") as handle:
            np.savez(handle, **arrays)

    def write_pickle(
        self,
    ):  # sealed, so that the pickle itself is what gets refused
        evil = np.array([object()], dtype=object)
        write = store.sealed_writer(
            lambda buffer: np.savez(buffer, format=np.array(2), evil=evil)
        )
        atomic_write(self.path, write)


class TorchCache:
    """``training.train_or_load`` behind a common interface."""

    suffix = ".pt"

    def __init__(self, tmp_path: Path):
        self.directory = tmp_path / "cache"
        self.trained = 0

    def config(self, seed: int = 0) -> dict:
        return {"seed": seed, "epochs": 2}

    @property
    def path(self) -> Path:
        return training.checkpoint_path("reg", self.config(), self.directory)

    def run(self, log, seed: int = 0):
        def build():
            return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))

        def train(model, device):
            self.trained += 1
            g = torch.Generator().manual_seed(0)
            x = torch.randn(32, 3, generator=g)
            batches = [(x, x.sum(1, keepdim=True))]
            return training.fit(
                model, batches, loss=_mse, epochs=2, device=device, log=None
            )

        model, _ = training.train_or_load(
            "reg", self.config(seed), build, train, directory=self.directory, device="cpu",
            log=log,
        )  # fmt: skip
        if seed != 0:  # another config, written under this config's name
            other = training.checkpoint_path(
                "reg", self.config(seed), self.directory
            )
            os.replace(other, self.path)
        return {k: v.numpy().copy() for k, v in model.state_dict().items()}

    def load(self):
        training.load_checkpoint(self.path)

    def write_older_format(self):
        payload = torch.load(self.path, weights_only=True)
        payload = {k: v for k, v in payload.items() if k != "digest"} | {
            "format": 1
        }
        torch.save(payload, self.path)

    def write_pickle(
        self,
    ):  # sealed, so that the pickle itself is what gets refused
        payload = {"format": 2, "model": nn.Linear(2, 2)}
        atomic_write(
            self.path,
            store.sealed_writer(lambda buffer: torch.save(payload, buffer)),
        )


def _mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


class SweepCache:
    """``sweep.run_sweep`` with a fake run behind a common interface."""

    suffix = ".json"

    def __init__(self, tmp_path: Path):
        self.directory = tmp_path / "cache"
        self.trained = 0

    def _run(self, config):
        self.trained += 1
        return {
            "solved": True,
            "sequences": 10 * config["T"],
            "accuracy": 1.0,
            "error": 0.0,
        }

    def config(self, seed: int = 0) -> dict:
        return {"task": "adding", "model": "lstm", "T": 10, "seed": seed}

    @property
    def path(self) -> Path:
        (path,) = [
            p for p in self.directory.iterdir() if p.name == self._name()
        ]
        return path

    def _name(self) -> str:
        run = f"{self._run.__module__}.{type(self).__qualname__}._run"
        return training.config_key({"run": run, **self.config()}) + ".json"

    def run(self, log, seed: int = 0):
        (result,) = sweep.run_sweep(
            [self.config(seed)], self._run, cache_dir=self.directory, log=log
        )
        if seed != 0:
            other = [
                p for p in self.directory.iterdir() if p.name != self._name()
            ]
            os.replace(other[0], self.directory / self._name())
        return {"sequences": np.array(result["sequences"])}

    def load(self):
        lines = []
        sweep._read_json(self.path, self.config(), lines.append)
        if lines:
            raise CorruptFile(lines[0])

    def write_older_format(self):
        stored = json.loads(self.path.read_text())
        self.path.write_text(
            json.dumps(
                {"config": stored["config"], "metrics": stored["metrics"]}
            )
        )

    def write_pickle(self):
        self.path.write_bytes(
            b"\x80\x04\x95"
        )  # a pickle header is no JSON either


CACHES = [NumpyCache, TorchCache, SweepCache]


def _flip_a_byte(path: Path, where: float) -> None:
    data = bytearray(path.read_bytes())
    data[min(int(where * len(data)), len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))


CORRUPTIONS = {
    "truncated": lambda c: c.path.write_bytes(
        c.path.read_bytes()[: len(c.path.read_bytes()) // 2]
    ),
    "empty": lambda c: c.path.write_bytes(b""),
    # a byte in a header, in the data, in the central directory and in the seal itself
    **{
        f"byte {where:.0%} flipped": lambda c, where=where: _flip_a_byte(
            c.path, where
        )
        for where in (0.0, 0.3, 0.5, 0.97, 1.0)
    },
    "older format": lambda c: c.write_older_format(),
    "pickled payload": lambda c: c.write_pickle(),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS))
@pytest.mark.parametrize("kind", CACHES, ids=lambda k: k.__name__)
def test_a_damaged_cache_file_is_reported_in_one_line_and_trained_again(
    tmp_path, kind, corrupt
):
    cache = kind(tmp_path)
    first = cache.run(log=None)
    CORRUPTIONS[corrupt](cache)
    lines: list[str] = []
    again = cache.run(log=lines.append)
    problems = [line for line in lines if "unusable" in line]
    assert len(problems) == 1 and str(cache.path) in problems[0], lines
    assert "\n" not in problems[0] and problems[0].endswith("training again")
    assert cache.trained == 2
    for (
        name,
        value,
    ) in first.items():  # the same model as the first run, trained again
        np.testing.assert_array_equal(again[name], value)
    cache.load()  # and the file is whole again


@pytest.mark.parametrize("kind", CACHES, ids=lambda k: k.__name__)
def test_a_cache_file_of_another_config_is_reported_and_replaced(
    tmp_path, kind
):
    cache = kind(tmp_path)
    cache.run(log=None)
    cache.run(
        log=lambda line: None, seed=1
    )  # puts seed 1's file where seed 0's belongs
    lines: list[str] = []
    cache.run(log=lines.append)
    assert any("another" in line and "config" in line for line in lines), lines
    assert cache.trained == 3


@pytest.mark.parametrize("kind", CACHES, ids=lambda k: k.__name__)
def test_without_a_log_a_damaged_cache_file_gives_a_warning_not_silence(
    tmp_path, kind
):
    cache = kind(tmp_path)
    cache.run(log=None)
    cache.path.write_bytes(b"")
    with pytest.warns(CacheWarning, match="is unusable"):
        cache.run(log=None)


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS))
@pytest.mark.parametrize(
    "kind", [NumpyCache, TorchCache], ids=lambda k: k.__name__
)
def test_loading_a_damaged_checkpoint_explicitly_raises_a_value_error_naming_it(
    tmp_path, kind, corrupt
):
    cache = kind(tmp_path)
    cache.run(log=None)
    CORRUPTIONS[corrupt](cache)
    with pytest.raises(ValueError, match=str(cache.path.name)) as info:
        cache.load()
    assert isinstance(info.value, CorruptFile)
    if corrupt == "pickled payload":
        assert "pickle" in str(info.value) or "Object arrays" in str(info.value)


def test_a_flipped_byte_in_the_weights_is_caught_even_when_the_zip_would_not_notice(
    tmp_path,
):
    """A seal over the whole file, not only the container's CRCs: rewrite a valid zip with
    one weight changed, so that every CRC is right but the content is not what was saved."""
    cache = NumpyCache(tmp_path)
    cache.run(log=None)
    with np.load(cache.path) as data:
        arrays = {k: data[k] for k in data.files}
    key = next(k for k in arrays if k.startswith("param/"))
    arrays[key] = arrays[key].copy()
    arrays[key].flat[0] = 1.5e16
    with open(cache.path, "wb") as handle:
        np.savez(handle, **arrays)
    assert (
        zipfile.ZipFile(cache.path).testzip() is None
    )  # the zip itself is fine
    with pytest.raises(CorruptFile, match="no integrity seal"):
        cache.load()


# -------------------------------------------------------------------- writes and read-only


def test_atomic_write_flushes_to_disk_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1]
    )
    monkeypatch.setattr(
        os,
        "replace",
        lambda a, b: (events.append("replace"), real_replace(a, b))[1],
    )
    atomic_write(tmp_path / "f.bin", lambda handle: handle.write(b"data"))
    assert events[:2] == ["fsync", "replace"]
    assert (tmp_path / "f.bin").read_bytes() == b"data"


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path,
):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def interrupted(handle):
        handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert [p.name for p in tmp_path.iterdir()] == [
        "f.bin"
    ] and target.read_bytes() == b"old"


def test_temporary_files_of_a_killed_writer_are_removed_by_the_next_write(
    tmp_path,
):
    dead = tmp_path / ".f.bin.pid999999999.abc.tmp"  # no such process
    alive = (
        tmp_path / f".g.bin.pid{os.getpid()}.abc.tmp"
    )  # a write in progress: kept
    dead.write_bytes(b"x")
    alive.write_bytes(b"x")
    atomic_write(tmp_path / "f.bin", lambda handle: handle.write(b"new"))
    assert not dead.exists() and alive.exists()


def _make_unwritable(folder: Path, monkeypatch) -> None:
    """A read-only folder: chmod where that binds (not as root); else the OS's answer."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
    else:  # root writes anywhere: make the temporary file fail as it would

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(store.tempfile, "mkstemp", refuse)


@pytest.mark.parametrize("kind", CACHES, ids=lambda k: k.__name__)
def test_a_read_only_cache_folder_does_not_lose_the_finished_run(
    tmp_path, kind, monkeypatch
):
    cache = kind(tmp_path)
    folder = tmp_path / "cache"
    _make_unwritable(folder, monkeypatch)
    try:
        with pytest.warns(
            CacheWarning, match="could not cache .*Permission denied"
        ):
            result = cache.run(log=None)
    finally:
        folder.chmod(0o755)
    assert cache.trained == 1 and result  # trained and returned
    assert not any(folder.iterdir())  # nothing half-written


def test_digest_depends_on_content_dtype_and_shape_not_on_container():
    a = {"w": np.arange(4, dtype=np.float32), "n": 3}
    assert digest(a) == digest(
        {"n": 3, "w": torch.arange(4, dtype=torch.float32)}
    )
    assert digest(a) != digest({"w": np.arange(4, dtype=np.float64), "n": 3})
    assert digest(a) != digest(
        {"w": np.arange(4, dtype=np.float32).reshape(2, 2), "n": 3}
    )


# ------------------------------------------------------------------ no broken model returned


class PoisonOnStep(torch.optim.SGD):
    """SGD that writes NaN into the weights at its ``at``-th step: a blow-up on the last step."""

    def __init__(self, params, at: int):
        super().__init__(params, lr=1e-3)
        self.at, self.steps = at, 0

    def step(self, closure=None):
        super().step(closure)
        self.steps += 1
        if self.steps == self.at:
            with torch.no_grad():
                self.param_groups[0]["params"][0].fill_(math.nan)


def _batches():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, generator=g)
    return [(x, x.sum(1, keepdim=True))] * 3


def test_fit_catches_weights_broken_by_the_very_last_update():
    model = nn.Linear(3, 1)
    optimizer = PoisonOnStep(
        model.parameters(), at=3
    )  # 3 batches, 1 epoch: the last step
    with pytest.raises(
        training.TrainingDiverged, match="parameter weight holds NaN or inf"
    ):
        training.fit(
            model,
            _batches(),
            loss=_mse,
            epochs=1,
            optimizer=optimizer,
            log=None,
        )


def test_fit_reports_a_nan_validation_loss_as_divergence():
    bad_val = [(torch.full((4, 3), math.nan), torch.zeros(4, 1))]
    with pytest.raises(
        training.TrainingDiverged, match="validation loss is nan"
    ):
        training.fit(
            nn.Linear(3, 1),
            _batches(),
            loss=_mse,
            epochs=1,
            val=bad_val,
            log=None,
        )


def test_fit_does_not_record_a_nan_metric():
    with pytest.raises(
        ValueError, match="metric 'acc' after epoch 1 must be a finite number"
    ):
        training.fit(
            nn.Linear(3, 1), _batches(), loss=_mse, epochs=1, log=None,
            metrics={"acc": lambda model: math.nan},
        )  # fmt: skip


def test_an_overflow_inside_the_optimiser_is_reported_as_divergence():
    with pytest.raises(
        training.TrainingDiverged, match="overflowed.*smaller learning rate"
    ):
        training.fit(
            nn.Linear(3, 1), _batches(), loss=_mse, epochs=1, lr=1e300, log=None
        )


def test_a_sweep_records_an_optimiser_overflow_as_a_diverged_run(tmp_path):
    config = sweep.run_config(
        "adding", "lstm", 10, lr=1e300, eval_every=64, max_sequences=128
    )
    (result,) = sweep.run_sweep([config], cache_dir=tmp_path, log=None)
    assert result["diverged"] and not result["solved"]


def test_a_sweep_refuses_a_nan_metric_that_is_not_flagged_as_divergence(
    tmp_path,
):
    def run(config):
        return {
            "solved": False,
            "sequences": 1,
            "accuracy": math.nan,
            "error": 0.0,
        }

    with pytest.raises(ValueError, match="NaN for \\['accuracy'\\]"):
        sweep.run_sweep(
            [{"task": "adding", "T": 5}], run, cache_dir=tmp_path, log=None
        )
    assert not list(tmp_path.iterdir())


def test_numpy_training_catches_weights_broken_by_the_last_update(
    tmp_path, monkeypatch
):
    config = numpy_config(tmp_path)
    real_step = train_numpy.Adam.step
    calls = []

    def poisoned(self, grads):
        real_step(self, grads)
        calls.append(1)
        if len(calls) == config.steps:
            next(iter(self.params.values()))[...] = np.nan

    monkeypatch.setattr(train_numpy.Adam, "step", poisoned)
    with pytest.raises(train_numpy.TrainingDiverged, match="diverged"):
        train_numpy.train(config, log=None)


def test_numpy_config_is_checked_whole_before_any_text_is_read(tmp_path):
    with pytest.raises(
        ValueError, match="sample_prompt .* holds characters the text lacks"
    ):
        train_numpy.train(
            numpy_config(tmp_path, sample_every=1, sample_prompt="Zebra"),
            log=None,
        )
    with pytest.raises(ValueError, match="too few for one batch"):
        train_numpy.train(
            numpy_config(tmp_path, batch_size=64, seq_len=64), log=None
        )
