"""One call that makes a notebook's random numbers repeatable."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global state and PyTorch (if installed).

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: new code should draw
    from it rather than from the global state.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - older code and libraries still use it
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but keep NumPy chapters light
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
