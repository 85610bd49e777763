"""The showcase model shipped beside the records is the recorded run, and is guarded."""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from lstm_tutorial import showcase
from lstm_tutorial.dynamic_eval import dynamic_evaluate
from lstm_tutorial.experiments import load_records, same_data_python
from lstm_tutorial.showcase import SHOWCASE_PATH, load_showcase, showcase_record
from lstm_tutorial.store import CorruptFile
from lstm_tutorial.textlm_experiments import heldout


@pytest.mark.parametrize("name", list(showcase.KEPT))
def test_the_shipped_model_reproduces_its_recorded_test_loss(name):
    model, vocab, config = load_showcase(name=name)
    record = showcase_record(name)
    assert config.to_dict() == record["config"]["lm"]
    assert vocab.size == record["metrics"]["vocab_size"]
    got = showcase.test_loss(model, config, vocab)
    if not same_data_python(load_records(showcase.KEPT[name][0])):
        # another Python's help topics: the model reads them, the number differs
        assert math.isfinite(got) and got < 2 * record["metrics"]["test_loss"]
        pytest.skip(
            "recorded on another Python minor version, other help topics"
        )
    assert math.isclose(got, record["metrics"]["test_loss"], rel_tol=1e-5)
    assert math.isclose(
        showcase.test_loss(model, config), got, rel_tol=1e-12
    )  # on the recording Python, showcase_text is heldout


@pytest.mark.usefixtures("one_torch_thread")  # as recorded: one thread
def test_the_large_model_reproduces_its_recorded_dynamic_evaluation():
    model, vocab, config = load_showcase(name="large")
    record = showcase_record("large")["metrics"]
    if not same_data_python(load_records("textlm_large")):
        pytest.skip("recorded on another Python minor version")
    data = showcase.showcase_text(vocab, config)
    got = dynamic_evaluate(model, data.test, lr=record["dynamic_lr"])
    assert math.isclose(
        got["bits_per_token"], record["dynamic_test_bits"], rel_tol=1e-5
    )


def test_a_kept_name_must_be_one_of_the_kept_runs():
    for call in (showcase.showcase_record, showcase.load_showcase):
        with pytest.raises(ValueError, match="name"):
            call(name="small") if call is showcase.load_showcase else call(
                "small"
            )
    with pytest.raises(SystemExit):
        showcase.main(["--path", "x.pt"])  # --path needs --name


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
