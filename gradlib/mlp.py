"""A multilayer perceptron assembled from gradlib's layers, with optional BatchNorm and skip connections.

Shapes: ``N`` examples, ``D`` input features, ``H`` the hidden width, ``C`` outputs, ``L`` the depth
(number of hidden layers). Hidden layer ``k = 1..L`` computes::

    z_k = a_{k-1} @ W_k + b_k                  (affine; W_1 is (D, H), the others (H, H))
    u_k = BN(z_k; gamma_k, beta_k)             (only with batchnorm=True; otherwise u_k = z_k)
    f_k = act(u_k)
    a_k = f_k

with ``a_0 = x``, and the output layer ``k = L + 1`` is ``out = a_L @ W_{L+1} + b_{L+1}`` (logits or
predictions, (N, C)). With ``residual=True``, hidden layers ``k >= 2`` are residual blocks whose branch
*ends* with BatchNorm's scale, so nothing follows gamma before the addition::

    z_k = a_{k-1} @ W_k + b_k
    f_k = act(z_k)
    u_k = BN(f_k; gamma_k, beta_k)             (only with batchnorm=True; otherwise u_k = f_k)
    a_k = a_{k-1} + branch_scale * u_k

The first hidden layer changes the width, so it never has a skip connection. Because gamma is the
branch's last factor, zero-gamma (``init_params(zero_gamma=True)``) makes every block the identity and
still trains: ``dLoss/dgamma_k = sum(da_k * branch_scale * f_hat_k)`` is not zero, so gamma and beta move
at the first step and the branch's W and b, whose gradient is multiplied by gamma, from the second step
on. (With a ReLU after the BN, as in the plain layers, relu'(0) = 0 would give every parameter of a
zero-gamma branch a gradient of exactly 0, forever.)

Parameters live in a plain dict: ``"W1", "b1", ("gamma1", "beta1",) "W2", ...,
"W{L+1}", "b{L+1}"``; BatchNorm running statistics live in a separate ``state`` dict
(``"running_mean{k}", "running_var{k}"``). :meth:`MLP.forward` is pure: it returns a new state
instead of changing the old one, and :meth:`MLP.backward` returns a gradient dict with the same keys as
the parameters. The cache records every layer's ``z_k``, ``u_k``, ``f_k`` and ``a_k`` for diagnostics:
``f_k`` is always the activation's output and ``u_k`` BatchNorm's.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradlib import _validate, activations, batchnorm, init, layers

__all__ = ["INITIALIZERS", "MLP"]

#: Initializer names :class:`MLP` accepts (functions of gradlib.init; a float means normal(std)).
INITIALIZERS = (
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "xavier_normal",
    "xavier_uniform",
    "glorot_normal",
    "glorot_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
    "zeros",
)


def _weight_fn(initializer: object) -> Callable[[tuple[int, int], np.random.Generator], np.ndarray]:
    """Return ``f(shape, rng) -> W`` for an initializer name, a std (float) or a callable."""
    if callable(initializer):
        return lambda shape, rng: np.asarray(initializer(shape, rng=rng), dtype=np.float64)
    if isinstance(initializer, numbers.Real) and not isinstance(initializer, bool):
        std = _validate.number(initializer, "initializer std", at_least=0)
        return lambda shape, rng: init.normal(shape, std=std, rng=rng)
    if initializer == "zeros":
        return lambda shape, rng: init.zeros(shape)
    if isinstance(initializer, str) and initializer in INITIALIZERS:
        fn = getattr(init, initializer)
        return lambda shape, rng: fn(shape, rng=rng)
    raise ValueError(
        f"initializer {initializer!r} is not one of {', '.join(INITIALIZERS)} "
        "(or a float std for a normal, or a callable f(shape, *, rng))"
    )


@dataclass(frozen=True)
class MLP:
    """The architecture of a fully connected network; parameters and state are separate dicts.

    Introduced in lesson 06 (residual connections); used again in lesson 07 (diagnosing and fixing).

    Attributes:
        in_dim: input features D.
        out_dim: outputs C.
        depth: hidden layers L >= 1 (so L + 1 weight matrices).
        width: hidden width H.
        activation: an activation name of gradlib.activations (e.g. "relu", "tanh", "sigmoid").
        initializer: a name from :data:`INITIALIZERS`, a float (normal with that std), or a callable
            ``f(shape, *, rng)``; biases start at 0, gamma at 1, beta at 0.
        batchnorm: insert BatchNorm between every hidden affine layer and its activation.
        residual: add a skip connection around hidden layers 2..L.
        branch_scale: factor on each residual branch (1/sqrt(L) keeps a ReLU stack without BN from
            growing; 0 makes every block the identity).
        momentum: BatchNorm momentum (PyTorch convention).
        eps: BatchNorm eps.
    """

    in_dim: int
    out_dim: int
    depth: int
    width: int
    activation: str = "relu"
    initializer: object = "he_normal"
    batchnorm: bool = False
    residual: bool = False
    branch_scale: float = 1.0
    momentum: float = 0.1
    eps: float = 1e-5

    def __post_init__(self) -> None:
        """Validate the architecture and fail early with the bad value in the message."""
        for name in ("in_dim", "out_dim", "depth", "width"):
            _validate.integer(getattr(self, name), name, at_least=1)
        activations.get(self.activation)  # raises ValueError listing the options
        _weight_fn(self.initializer)
        _validate.number(self.branch_scale, "branch_scale", finite=False)

    @property
    def n_layers(self) -> int:
        """Number of affine layers, L + 1 (hidden layers and the output layer)."""
        return self.depth + 1

    def layer_dims(self) -> list[tuple[int, int]]:
        """Return ``[(fan_in, fan_out)]`` of W_1 .. W_{L+1}."""
        dims = [self.in_dim] + [self.width] * self.depth + [self.out_dim]
        return list(zip(dims[:-1], dims[1:], strict=True))

    def init_params(self, *, rng: np.random.Generator, zero_gamma: bool = False) -> dict:
        """Draw fresh parameters, layer by layer (W_1, W_2, ... in order).

        Args:
            rng: the random generator for the weights.
            zero_gamma: start gamma at 0 in the residual layers (2..L, needs batchnorm and residual),
                so every residual block starts as the identity map.

        Returns:
            A dict of float64 arrays: ``W{k}`` (fan_in, fan_out), ``b{k}`` (fan_out,), and with
            BatchNorm ``gamma{k}``, ``beta{k}`` (H,) for hidden layers.

        Raises:
            ValueError: if ``zero_gamma`` is asked without both batchnorm and residual.
            TypeError: if ``rng`` is not a Generator.
        """
        _validate.generator(rng)
        if zero_gamma and not (self.batchnorm and self.residual):
            raise ValueError("zero_gamma=True needs batchnorm=True and residual=True")
        draw = _weight_fn(self.initializer)
        params = {}
        for k, shape in enumerate(self.layer_dims(), start=1):
            params[f"W{k}"] = draw(shape, rng)
            params[f"b{k}"] = np.zeros(shape[1])
            if self.batchnorm and k <= self.depth:
                start = 0.0 if (zero_gamma and self._skip(k)) else 1.0
                params[f"gamma{k}"] = np.full(shape[1], start)
                params[f"beta{k}"] = np.zeros(shape[1])
        return params

    def init_state(self) -> dict:
        """Return fresh BatchNorm running statistics (mean 0, var 1), or {} without BatchNorm."""
        if not self.batchnorm:
            return {}
        state = {}
        for k in range(1, self.depth + 1):
            state[f"running_mean{k}"] = np.zeros(self.width)
            state[f"running_var{k}"] = np.ones(self.width)
        return state

    def _skip(self, k: int) -> bool:
        """Whether hidden layer k has a skip connection."""
        return self.residual and k >= 2

    def param_keys(self) -> list[str]:
        """Return the parameter names in layer order: W1, b1, (gamma1, beta1,) W2, ..."""
        keys = []
        for k in range(1, self.n_layers + 1):
            keys += [f"W{k}", f"b{k}"]
            if self.batchnorm and k <= self.depth:
                keys += [f"gamma{k}", f"beta{k}"]
        return keys

    def _check(self, params: dict, state: dict | None) -> dict:
        """Raise naming the first missing parameter or state key; return the state to use."""
        for key in self.param_keys():
            if key not in params:
                raise ValueError(f"params has no {key!r}; it has {sorted(params)}")
        if not self.batchnorm:
            return {}
        state = self.init_state() if state is None else state
        for key in self.init_state():
            if key not in state:
                raise ValueError(f"state has no {key!r}; it has {sorted(state)}")
        return state

    def _bn_forward(self, k: int, v: np.ndarray, params: dict, state: dict, new_state: dict, training: bool):
        """BatchNorm of layer k on ``v`` (identity without batchnorm); fills new_state; returns (u, cache)."""
        if not self.batchnorm:
            return v, None
        stats = (state[f"running_mean{k}"], state[f"running_var{k}"])
        gb = (params[f"gamma{k}"], params[f"beta{k}"])
        u, c_bn, rm, rv = batchnorm.batchnorm_forward(
            v, *gb, *stats, training=training, momentum=self.momentum, eps=self.eps
        )
        new_state[f"running_mean{k}"], new_state[f"running_var{k}"] = rm, rv
        return u, c_bn

    @staticmethod
    def _bn_backward(k: int, du: np.ndarray, c_bn, grads: dict) -> np.ndarray:
        """Backward through layer k's BatchNorm (identity without it); stores dgamma, dbeta in grads."""
        if c_bn is None:
            return du
        dv, grads[f"gamma{k}"], grads[f"beta{k}"] = batchnorm.batchnorm_backward(du, c_bn)
        return dv

    def forward(
        self, params: dict, x: np.ndarray, state: dict | None = None, *, training: bool = True
    ) -> tuple[np.ndarray, dict, dict]:
        """Run the network: hidden layers as in the module docstring, then the output layer.

        Args:
            params: the parameter dict (see :meth:`init_params`).
            x: inputs, shape (N, D).
            state: BatchNorm running statistics (see :meth:`init_state`); None means fresh ones.
            training: BatchNorm uses batch statistics (True) or running statistics (False).

        Returns:
            ``(out, cache, new_state)``: out (N, C); the cache for :meth:`backward`, whose
            ``"record"`` holds per hidden layer lists ``"z"``, ``"u"``, ``"f"``, ``"a"`` (each (N, H));
            the new running statistics (a new dict; ``state`` is not modified).

        Raises:
            ValueError: on missing parameters, wrong shapes, or N = 1 with BatchNorm in training.
        """
        state = self._check(params, state)
        new_state = {}
        record = {"z": [], "u": [], "f": [], "a": []}
        caches = []
        a = x
        for k in range(1, self.depth + 1):
            z, c_aff = layers.affine_forward(a, params[f"W{k}"], params[f"b{k}"])
            if self._skip(k):  # branch: affine -> act -> BN, then the addition
                f, c_act = layers.activation_forward(z, self.activation)
                u, c_bn = self._bn_forward(k, f, params, state, new_state, training)
                a = a + self.branch_scale * u
            else:  # affine -> BN -> act
                u, c_bn = self._bn_forward(k, z, params, state, new_state, training)
                f, c_act = layers.activation_forward(u, self.activation)
                a = f
            caches.append((c_aff, c_bn, c_act))
            for key, value in zip("zufa", (z, u, f, a), strict=True):
                record[key].append(value)
        L1 = self.n_layers
        out, c_out = layers.affine_forward(a, params[f"W{L1}"], params[f"b{L1}"])
        cache = {"layers": caches, "out": c_out, "record": record}
        return out, cache, new_state

    def backward(self, dout: np.ndarray, cache: dict, *, return_dx: bool = False):
        """Backpropagate ``dout = dLoss/dout`` (N, C) and return the gradient of every parameter.

        A skip connection adds the gradient of ``a_k`` straight into ``a_{k-1}``:
        ``da_{k-1} = da_k + branch_scale * (df_k back through act, BN, affine)``.

        Args:
            dout: upstream gradient, shape (N, C).
            cache: the cache from :meth:`forward`.
            return_dx: also return the gradient with respect to the input x.

        Returns:
            A dict with the same keys, in the same order, as the parameters (``dLoss/dW1`` under
            ``"W1"``, ...); with ``return_dx`` the pair ``(grads, dx)``, dx of shape (N, D).

        Raises:
            ValueError: if ``dout`` does not have the output's shape.
        """
        grads = {}
        L1 = self.n_layers
        da, grads[f"W{L1}"], grads[f"b{L1}"] = layers.affine_backward(dout, cache["out"])
        for k in range(self.depth, 0, -1):
            c_aff, c_bn, c_act = cache["layers"][k - 1]
            if self._skip(k):
                df = self._bn_backward(k, self.branch_scale * da, c_bn, grads)
                dz = layers.activation_backward(df, c_act)
            else:
                du = layers.activation_backward(da, c_act)
                dz = self._bn_backward(k, du, c_bn, grads)
            dprev, grads[f"W{k}"], grads[f"b{k}"] = layers.affine_backward(dz, c_aff)
            da = dprev + da if self._skip(k) else dprev
        grads = {key: grads[key] for key in self.param_keys()}
        return (grads, da) if return_dx else grads
