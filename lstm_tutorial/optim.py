"""Adam, written in NumPy, for models whose parameters are a dict of arrays.

Adam (Kingma and Ba, 2015) keeps two running averages per parameter entry: ``m``, of the
gradient (its direction, smoothed), and ``v``, of the squared gradient (its typical size).
Each step moves a parameter by ``lr * m_hat / (sqrt(v_hat) + eps)``, where the hats undo the
bias of averages that start at zero. Dividing by ``sqrt(v_hat)`` gives every entry a step of
about ``lr`` whatever the scale of its gradient, which is what makes Adam forgiving.

The update is written exactly as ``torch.optim.Adam`` computes it (default options, no
weight decay, no amsgrad), so the two agree to rounding; ``tests/test_optim.py`` checks it.

Every public method checks its arguments before it changes anything, with
:mod:`lstm_tutorial.checks` (see ``Adam``); ``Adam.step``, shown in the book, does it in one
line, ``self._check_grads(grads)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lstm_tutorial import checks

Array = NDArray[np.floating]


class Adam:
    """Adam over a dict of parameter arrays, updated in place.

    ``params``: name -> float array (the model's own arrays, not copies: ``step`` writes
    into them). ``lr`` is the step size, ``betas`` the decay rates of the two averages and
    ``eps`` keeps the division finite. The averages ``m`` and ``v`` have the parameters'
    shapes and dtypes.

    Every argument is checked first (with :mod:`lstm_tutorial.checks`): the parameters must
    be distinct, writeable, finite floating-point NumPy arrays; ``lr`` and ``eps`` finite
    numbers > 0 (not booleans); ``betas`` two numbers in [0, 1). ``step`` (shown in the book)
    checks its gradients with one call to ``_check_grads``: the parameters' keys, each a NumPy
    array of its parameter's shape and dtype, finite. ``load_state_dict`` checks the whole
    state before it changes anything.
    """

    def __init__(
        self,
        params: Mapping[str, Array],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = _check_params(params)
        self.lr = checks.positive_number("lr", lr)
        betas = checks.sequence("betas", betas)
        if len(betas) != 2:
            raise ValueError(
                f"betas must be two numbers (beta1, beta2), got {betas!r}"
            )
        self.beta1, self.beta2 = (
            checks.fraction(f"betas[{k}]", beta, open_high=True)
            for k, beta in enumerate(betas)
        )
        self.eps = checks.positive_number("eps", eps)
        self.t = 0  # number of steps taken
        self.m = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.v = {name: np.zeros_like(p) for name, p in self.params.items()}

    def step(self, grads: Mapping[str, Array]) -> None:
        """One Adam update of every parameter, in place.

        grads: name -> gradient, the parameters' keys, shapes and dtypes.
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

    def _check_grads(self, grads: Any) -> None:
        checks.mapping("grads", grads)
        if set(grads) != set(self.params):
            missing = sorted(set(self.params) - set(grads), key=str)
            extra = sorted(set(grads) - set(self.params), key=str)
            raise ValueError(
                f"grads must have the parameters' keys: missing {missing}, extra {extra}"
            )
        for name, p in self.params.items():
            checks.array(
                f"grads[{name!r}]",
                grads[name],
                dtype=p.dtype,
                shape=p.shape,
                nonempty=False,
            )
            if not np.isfinite(grads[name]).all():
                raise ValueError(
                    f"grads[{name!r}] must hold finite numbers, but it contains NaN or inf: "
                    "an update with it would ruin the parameter"
                )

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the optimizer's state as plain arrays: ``t``, ``m.<name>``, ``v.<name>``."""
        state: dict[str, np.ndarray] = {"t": np.array(self.t, dtype=np.int64)}
        for name in self.params:
            state[f"m.{name}"] = self.m[name].copy()
            state[f"v.{name}"] = self.v[name].copy()
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what ``state_dict`` returned: keys and shapes must match exactly, ``t`` is
        a count of steps, ``m`` and ``v`` finite floating-point arrays (``v``, an average of
        squares, >= 0); the values are cast to the parameters' dtypes. Nothing changes unless
        the whole state is valid."""
        checks.mapping("state", state)
        expected = {"t"} | {f"{k}.{name}" for k in "mv" for name in self.params}
        if set(state) != expected:
            raise ValueError(
                f"state (the optimizer state) must have keys {sorted(expected)}, "
                f"got {sorted(state, key=str)}"
            )
        t = state["t"]
        if isinstance(t, np.ndarray) and t.ndim == 0:
            t = t[()]
        t = checks.count("state['t']", t)
        for name, p in self.params.items():
            for key in (f"m.{name}", f"v.{name}"):
                value = checks.array(
                    f"state[{key!r}]",
                    state[key],
                    kind="float",
                    shape=p.shape,
                    nonempty=False,
                    finite=True,
                )
                checks.fits_dtype(f"state[{key!r}]", value, p.dtype)
                if key[0] == "v" and value.size and value.min() < 0:
                    raise ValueError(
                        f"state[{key!r}] must be >= 0 (an average of squared gradients), "
                        f"got {value.min()}"
                    )
        for name in self.params:
            self.m[name][...] = state[f"m.{name}"]
            self.v[name][...] = state[f"v.{name}"]
        self.t = t


def _check_params(params: Any) -> dict[str, Array]:
    """A non-empty mapping of names to distinct, writeable, finite float arrays."""
    params = dict(checks.mapping("params", params))
    if not params:
        raise ValueError(
            "params must be a non-empty dict of name -> parameter array, got {}"
        )
    arrays: list[tuple[str, Array]] = []
    for name, p in params.items():
        checks.string("each key of params (a parameter's name)", name)
        where = f"params[{name!r}]"
        checks.array(where, p, kind="float", nonempty=False, finite=True)
        if not p.flags.writeable:
            raise ValueError(
                f"{where} must be writeable: Adam updates it in place"
            )
        for other, q in arrays:
            if np.shares_memory(p, q):
                raise ValueError(
                    f"{where} shares memory with params[{other!r}]: Adam would update the "
                    "shared entries twice; give each parameter its own array"
                )
        arrays.append((name, p))
    return params
