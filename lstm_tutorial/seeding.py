"""One call that makes a notebook's random numbers repeatable.

Checks: :func:`seed_everything` checks its seed (an integer >= 0) before seeding anything.
"""

from __future__ import annotations

import os
import random

import numpy as np

from lstm_tutorial import checks


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global state and PyTorch.

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: new code
    should draw from it rather than from the global state.
    """
    seed = checks.seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - older libraries use it
    # String hashing is fixed when Python starts: this reaches only the
    # processes started from here on (e.g. workers), not this one.
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
