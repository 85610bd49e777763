"""The showcase model shipped beside the records is the recorded run, and is guarded."""

from __future__ import annotations

import math
import shutil

import pytest

from lstm_tutorial import showcase
from lstm_tutorial.showcase import SHOWCASE_PATH, load_showcase, showcase_record
from lstm_tutorial.store import CorruptFile


def test_the_shipped_model_reproduces_its_recorded_test_loss():
    model, vocab, config = load_showcase()
    record = showcase_record()
    assert config.to_dict() == record["config"]["lm"]
    assert vocab.size == record["metrics"]["vocab_size"]
    got = showcase.test_loss(model, config)
    assert math.isclose(got, record["metrics"]["test_loss"], rel_tol=1e-5)


def test_a_damaged_copy_is_refused(tmp_path):
    copy = tmp_path / "model.pt"
    shutil.copy(SHOWCASE_PATH, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 3] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(CorruptFile):
        load_showcase(copy)
    with pytest.raises(FileNotFoundError, match="make experiments"):
        load_showcase(tmp_path / "missing.pt")
