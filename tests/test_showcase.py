"""The showcase model shipped beside the records is the recorded run, and is guarded."""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from lstm_tutorial import showcase
from lstm_tutorial.experiments import load_records, same_data_python
from lstm_tutorial.showcase import SHOWCASE_PATH, load_showcase, showcase_record
from lstm_tutorial.store import CorruptFile
from lstm_tutorial.textlm_experiments import heldout


def test_the_shipped_model_reproduces_its_recorded_test_loss():
    model, vocab, config = load_showcase()
    record = showcase_record()
    assert config.to_dict() == record["config"]["lm"]
    assert vocab.size == record["metrics"]["vocab_size"]
    got = showcase.test_loss(model, config, vocab)
    if not same_data_python(load_records(showcase.SHOWCASE[0])):
        # another Python's help topics: the model reads them, the number differs
        assert math.isfinite(got) and got < 2 * record["metrics"]["test_loss"]
        pytest.skip(
            "recorded on another Python minor version, other help topics"
        )
    assert math.isclose(got, record["metrics"]["test_loss"], rel_tol=1e-5)
    assert math.isclose(
        showcase.test_loss(model, config), got, rel_tol=1e-12
    )  # on the recording Python, showcase_text is heldout


def test_showcase_text_is_the_recorded_split_on_the_recording_python():
    model, vocab, config = load_showcase()
    data = showcase.showcase_text(vocab, config)
    if not same_data_python(load_records(showcase.SHOWCASE[0])):
        assert int(data.test.max()) < vocab.size  # encodable on any Python
        pytest.skip(
            "recorded on another Python minor version, other help topics"
        )
    want = heldout(config.level, config.min_count)
    assert want.vocab.tokens == vocab.tokens
    for part in ("train", "valid", "test"):
        assert torch.equal(getattr(data, part), getattr(want, part))


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
