"""Adam, written in NumPy, for models whose parameters are a dict of arrays.

Adam (Kingma and Ba, 2015) keeps two running averages per parameter entry: ``m``, of the
gradient (its direction, smoothed), and ``v``, of the squared gradient (its typical size).
Each step moves a parameter by ``lr * m_hat / (sqrt(v_hat) + eps)``, where the hats undo the
bias of averages that start at zero. Dividing by ``sqrt(v_hat)`` gives every entry a step of
about ``lr`` whatever the scale of its gradient, which is what makes Adam forgiving.

The update is written exactly as ``torch.optim.Adam`` computes it (default options, no
weight decay, no amsgrad), so the two agree to rounding; ``tests/test_optim.py`` checks it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


class Adam:
    """Adam over a dict of parameter arrays, updated in place.

    ``params``: name -> float array (the model's own arrays, not copies: ``step`` writes
    into them). ``lr`` is the step size, ``betas`` the decay rates of the two averages and
    ``eps`` keeps the division finite. The averages ``m`` and ``v`` have the parameters'
    shapes and dtypes.
    """

    def __init__(
        self,
        params: Mapping[str, Array],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(params, Mapping) or not params:
            raise ValueError("params must be a non-empty dict of name -> parameter array")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise ValueError(f"params[{name!r}] must be a floating-point NumPy array")
        if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"betas must both lie in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.params = dict(params)
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), eps
        self.t = 0  # number of steps taken
        self.m = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.v = {name: np.zeros_like(p) for name, p in self.params.items()}

    def step(self, grads: Mapping[str, Array]) -> None:
        """One Adam update of every parameter, in place.

        grads: name -> gradient, the parameters' keys and shapes.
        """
        self._check_grads(grads)
        self.t += 1
        beta1, beta2, t = self.beta1, self.beta2, self.t
        correction1 = 1 - beta1**t  # m_hat = m / correction1
        correction2 = 1 - beta2**t  # v_hat = v / correction2
        for name, p in self.params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= beta1  # m = beta1 m + (1 - beta1) g
            m += (1 - beta1) * g
            v *= beta2  # v = beta2 v + (1 - beta2) g^2
            v += (1 - beta2) * g * g
            # p -= lr * m_hat / (sqrt(v_hat) + eps), in torch's order
            denom = np.sqrt(v) / math.sqrt(correction2) + self.eps
            p -= (self.lr / correction1) * (m / denom)

    def _check_grads(self, grads: Mapping[str, Array]) -> None:
        if set(grads) != set(self.params):
            missing = sorted(set(self.params) - set(grads))
            extra = sorted(set(grads) - set(self.params))
            raise ValueError(
                f"grads must have the parameters' keys: missing {missing}, extra {extra}"
            )
        for name, p in self.params.items():
            if grads[name].shape != p.shape:
                raise ValueError(
                    f"grads[{name!r}] has shape {grads[name].shape}, expected {p.shape}"
                )

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the optimizer's state as plain arrays: ``t``, ``m.<name>``, ``v.<name>``."""
        state: dict[str, np.ndarray] = {"t": np.array(self.t, dtype=np.int64)}
        for name in self.params:
            state[f"m.{name}"] = self.m[name].copy()
            state[f"v.{name}"] = self.v[name].copy()
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what ``state_dict`` returned (keys and shapes must match exactly)."""
        expected = {"t"} | {f"{k}.{name}" for k in "mv" for name in self.params}
        if set(state) != expected:
            raise ValueError(
                f"optimizer state must have keys {sorted(expected)}, got {sorted(state)}"
            )
        for name, p in self.params.items():
            for key in (f"m.{name}", f"v.{name}"):
                if np.shape(state[key]) != p.shape:
                    raise ValueError(
                        f"optimizer state {key!r} has shape {np.shape(state[key])}, "
                        f"expected {p.shape}"
                    )
        for name in self.params:
            self.m[name][...] = state[f"m.{name}"]
            self.v[name][...] = state[f"v.{name}"]
        self.t = int(state["t"])
