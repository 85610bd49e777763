"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest

from lstm_tutorial.sweep import one_thread


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one torch thread is faster, and immune to a busy shared machine (a file
    opts in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    with one_thread():
        yield
