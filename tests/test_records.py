"""The recorded experiments (lstm_tutorial/records/) still come out of the code.

For every group of ``make experiments``: the records were made by the code as it is now
(the hash of the modules that compute them), the grid the code would run is the grid that
was recorded, and a small sample of the recorded runs, re-run here, reaches the same verdict
with the same count of training sequences within one evaluation interval (the language
models: the same loss within 1%). A failure says which command renews the records.
"""

from __future__ import annotations

import pytest

from lstm_tutorial import experiments


@pytest.mark.parametrize("name", list(experiments.GROUPS))
def test_records_are_current_and_reproduce(name):
    stored = experiments.load_records(name)
    assert not stored["stale"], (
        f"{name} records are stale: run `make experiments`"
    )
    if not experiments.same_data_python(stored):
        pytest.skip(
            f"{name} was recorded on Python {stored['versions']['python']}, whose "
            "corpus (pydoc's help topics) differs from this Python's"
        )
    rerun = experiments.check_records(name, sample=2, log=None)
    assert len(rerun) == 2


def test_every_group_has_records_with_their_configs():
    for name in experiments.GROUPS:
        stored = experiments.load_records(name)
        assert stored["command"] == "make experiments"
        assert stored["runs"], f"{name} has no runs"
        for record in stored["tuning"] + stored["runs"]:
            assert {"config", "metrics", "seconds"} <= set(record)
            assert "seed" in record["config"] and "lr" in record["config"]
