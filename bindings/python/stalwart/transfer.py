"""Transferability: few-shot linear evaluation, full linear probes and correlations.

Every estimator runs in the library (``include/stalwart_transfer.h``); features are ``(n, d)``
arrays (converted to float32, must be finite), labels ``(n,)`` non-negative integers::

    >>> from stalwart import transfer
    >>> transfer.fewshot_lsr(train_x, train_y, test_x, test_y)                  # accuracy, λ = 1024
    >>> transfer.fewshot_lsr(train_x, train_y, test_x, test_y, [1, 32, 1024])  # λ sweep, one eigh
    >>> r = transfer.fewshot(features, labels, shots=(1, 5, 10, 25), seeds=3)
    >>> r.per_seed[(5, 0)], r.mean[5], r.std[5]
    >>> transfer.linear_probe(train_x, train_y, test_x, test_y, l2=1.0).accuracy
    >>> transfer.correlation(robustness, transfer_acc, kind="kendall")       # (τ, low, high)

**Few-shot** (``fewshot_lsr``) is big_vision's ``fewshot_lsr`` evaluator: features whitened with
the training set's mean and population std (+ 1e-5, the same statistics applied to the test
features), a bias column of constant 100, targets ``2·onehot − 1``, ridge regression in closed
form through one symmetric eigendecomposition (of XᵀX when N ≥ D + 1, of XXᵀ otherwise), so a
sweep over λ costs one decomposition; prediction = argmax. big_vision runs this in JAX float32;
a float32 eigendecomposition of XᵀX has errors ≈ ε₃₂·‖XᵀX‖ and the bias of 100 makes ‖XᵀX‖ ≈ N·10⁴,
so float32 weights are only accurate to ≈ ε₃₂·N·10⁴/λ (measured on digits: 2.6e-4 relative at
λ = 1024, 7e-2 at λ = 1). Stalwart therefore solves in float64 by default (``precision="float64"``:
the same formulation, the exact values the float32 arithmetic approximates);
``precision="float32"`` runs big_vision's float32 arithmetic (LAPACK ssyevd through OpenBLAS).

**The few-shot protocol** (``fewshot``): for each shots value and seed ``s`` in ``range(seeds)``,
``shots`` examples per class train and the accuracy on the test set is recorded. Splits use a
portable generator so any language can reproduce them:

* SplitMix64: ``state += 0x9E3779B97F4A7C15``; output ``mix(state)`` with
  ``mix(z) = z3 ^ (z3 >> 31)``, ``z2 = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9``,
  ``z3 = (z2 ^ (z2 >> 27)) * 0x94D049BB133111EB`` (mod 2⁶⁴). The stream for (seed, tag, class)
  starts at ``state = mix(mix(seed ^ tag) ^ class)``; tags ``0x73706C6974`` (split),
  ``0x73686F7473`` (shots), ``0x626F6F74`` (bootstrap, class 0).
* ``below(b)``: draw ``r`` until ``r >= (2⁶⁴ − b) mod b``, return ``r % b``.
* Shuffle (Fisher–Yates): for ``i`` from ``len − 1`` down to 1, swap items ``i`` and ``below(i + 1)``.
* Without ``test_features``: each class's row indices (ascending) are shuffled with the split
  stream of ``split_seed``; the first ``max(1, floor(n_c · test_fraction))`` are the test set —
  the same for every shots and seed, so accuracies are comparable — the rest (in shuffled order)
  the class's training pool. With ``test_features``, the pool is every row of the class,
  ascending, and the given set tests.
* Seed ``s`` shuffles each class's pool with the shots stream of ``s``; its first ``shots`` rows
  train (smaller shots are subsets of larger ones, as in big_vision); the training set is the
  classes' draws concatenated in label order.

A class with fewer pool rows than the largest shots, a single class, NaN/inf features or
mismatched lengths raise :class:`stalwart.InvalidArgument`.

**The linear probe** (``linear_probe``) is multinomial logistic regression minimizing
``Σᵢ −log softmax(xᵢW + b)[yᵢ] + l2/2 · ‖W‖²`` — scikit-learn's
``LogisticRegression(C=1/l2, solver="lbfgs")`` — by L-BFGS in float64 on unstandardized features.

**Correlations** (``correlation``): Kendall τ-b, Spearman ρ and Pearson r as SciPy defines them,
with a seeded percentile-bootstrap interval (pairs resampled with replacement from the bootstrap
stream, constant resamples skipped, NumPy-default linear quantiles).

Thread-safety: every function may be called from many threads (ctypes releases the GIL).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _lib
from ._lib_transfer import (
    CORRELATION_KENDALL,
    CORRELATION_PEARSON,
    CORRELATION_SPEARMAN,
    PRECISION_FLOAT32,
    PRECISION_FLOAT64,
)
from .errors import InvalidArgument

__all__ = [
    "fewshot_lsr", "fewshot_fit", "fewshot", "linear_probe", "correlation", "FewShotResult", "RidgeFit",
    "ProbeResult", "DEFAULT_SHOTS", "BIAS_CONSTANT",
]

#: big_vision's shots per class.
DEFAULT_SHOTS = (1, 5, 10, 25)
#: The constant bias feature.
BIAS_CONSTANT = 100.0

_PRECISIONS = {"float32": PRECISION_FLOAT32, "float64": PRECISION_FLOAT64}
_KINDS = {"kendall": CORRELATION_KENDALL, "spearman": CORRELATION_SPEARMAN, "pearson": CORRELATION_PEARSON}
_fp = ctypes.POINTER(ctypes.c_float)
_ip = ctypes.POINTER(ctypes.c_int64)
_dp = ctypes.POINTER(ctypes.c_double)


def _features(x, name: str, dim: int | None = None) -> np.ndarray:
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise InvalidArgument(f"{name} must be a non-empty 2-D (n, d) array, got shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise InvalidArgument(f"{name} has {a.shape[1]} columns, the training features {dim}")
    return a


def _labels(y, n: int, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1 or a.shape[0] != n:
        raise InvalidArgument(f"{name} must be a 1-D array of {n} labels, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise InvalidArgument(f"{name} must be integers, got {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= 1 << 24):
        raise InvalidArgument(f"{name} must be in 0 .. 2^24 - 1, got values in [{a.min()}, {a.max()}]")
    return np.ascontiguousarray(a, dtype=np.int64)


def _precision(p: str) -> int:
    if p not in _PRECISIONS:
        raise InvalidArgument(f"precision must be one of {tuple(_PRECISIONS)}, got {p!r}")
    return _PRECISIONS[p]


def _l2s(l2_reg) -> tuple[np.ndarray, bool]:
    scalar = np.ndim(l2_reg) == 0
    a = np.ascontiguousarray(np.atleast_1d(np.asarray(l2_reg, dtype=np.float64)))
    if a.ndim != 1 or a.size == 0:
        raise InvalidArgument("l2_reg must be a number or a non-empty sequence of numbers")
    return a, scalar


def fewshot_lsr(train_x, train_y, test_x, test_y, l2_reg=1024.0, *, num_classes: int | None = None,
                precision: str = "float64"):
    """Accuracy on ``(test_x, test_y)`` of big_vision's few-shot ridge classifier fitted on
    ``(train_x, train_y)``. ``l2_reg``: λ > 0, or a sequence of λ (one eigendecomposition; returns
    a float64 array of accuracies, one per λ). ``num_classes``: one-hot width (default: max label
    over train and test + 1)."""
    x = _features(train_x, "train_x")
    y = _labels(train_y, x.shape[0], "train_y")
    t = _features(test_x, "test_x", x.shape[1])
    ty = _labels(test_y, t.shape[0], "test_y")
    lams, scalar = _l2s(l2_reg)
    out = np.empty(lams.size, np.float64)
    _lib.lib.stalwart_fewshot_lsr(x.ctypes.data_as(_fp), y.ctypes.data_as(_ip), x.shape[0], x.shape[1],
                                  t.ctypes.data_as(_fp), ty.ctypes.data_as(_ip), t.shape[0],
                                  lams.ctypes.data_as(_dp), lams.size, int(num_classes or 0), _precision(precision),
                                  out.ctypes.data_as(_dp))
    return float(out[0]) if scalar else out


@dataclass(frozen=True)
class RidgeFit:
    """A fitted few-shot ridge classifier: ``weights`` (D + 1, C) on whitened features (the last
    row multiplies the bias constant 100), whitening ``mean`` and ``std`` (D,) (std includes the
    + 1e-5), and ``predictions`` (n_test,) int64 (empty without a test set)."""

    weights: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    predictions: np.ndarray

    def decision(self, x) -> np.ndarray:
        """Scores (n, C) of features ``x`` (float64: whitened, bias-augmented, times ``weights``)."""
        a = np.asarray(x, dtype=np.float64)
        z = (a - self.mean) / self.std
        return np.hstack([z, np.full((a.shape[0], 1), BIAS_CONSTANT)]) @ self.weights


def fewshot_fit(train_x, train_y, l2_reg: float = 1024.0, test_x=None, *, num_classes: int | None = None,
                precision: str = "float64") -> RidgeFit:
    """Fits one few-shot ridge classifier (as :func:`fewshot_lsr` with a single λ) and returns its
    weights, whitening statistics and, when ``test_x`` is given, its predictions."""
    x = _features(train_x, "train_x")
    y = _labels(train_y, x.shape[0], "train_y")
    t = None if test_x is None else _features(test_x, "test_x", x.shape[1])
    c = int(num_classes) if num_classes else int(y.max()) + 1
    d = x.shape[1]
    w = np.empty((d + 1, max(c, 1)), np.float64)
    mean = np.empty(d, np.float64)
    std = np.empty(d, np.float64)
    pred = np.empty(0 if t is None else t.shape[0], np.int64)
    got = ctypes.c_size_t(0)
    _lib.lib.stalwart_fewshot_lsr_fit(x.ctypes.data_as(_fp), y.ctypes.data_as(_ip), x.shape[0], d,
                                      None if t is None else t.ctypes.data_as(_fp), 0 if t is None else t.shape[0],
                                      float(l2_reg), int(num_classes or 0), _precision(precision),
                                      w.ctypes.data_as(_dp), w.size, mean.ctypes.data_as(_dp), std.ctypes.data_as(_dp),
                                      pred.ctypes.data_as(_ip) if pred.size else None, ctypes.byref(got))
    return RidgeFit(weights=w[:, : got.value], mean=mean, std=std, predictions=pred)


@dataclass(frozen=True)
class FewShotResult:
    """Accuracies of the shots × seeds × λ protocol.

    ``accuracies[i, s, j]`` is the accuracy for ``shots[i]``, seed ``s`` and ``l2_regs[j]``.
    ``per_seed`` maps ``(shots, seed)`` to the accuracy (``(shots, seed, l2)`` when several λ
    were given); ``mean`` and ``std`` map ``shots`` (``(shots, l2)``) to the mean and the sample
    standard deviation (ddof = 1; 0.0 for a single seed) over seeds."""

    shots: tuple[int, ...]
    seeds: int
    l2_regs: tuple[float, ...]
    accuracies: np.ndarray
    per_seed: dict = field(repr=False)
    mean: dict = field(repr=False)
    std: dict = field(repr=False)

    def records(self) -> list[dict]:
        """One dict per (shots, seed, l2): keys ``shots``, ``seed``, ``l2``, ``accuracy``."""
        return [{"shots": k, "seed": s, "l2": lam, "accuracy": float(self.accuracies[i, s, j])}
                for i, k in enumerate(self.shots) for s in range(self.seeds) for j, lam in enumerate(self.l2_regs)]


def fewshot(features, labels, shots: Sequence[int] = DEFAULT_SHOTS, seeds: int = 3, l2_reg=1024.0,
            test_features=None, test_labels=None, *, test_fraction: float = 0.5, split_seed: int = 0,
            precision: str = "float64") -> FewShotResult:
    """The few-shot protocol (see the module docstring for the exact splits): ``features``
    (n, d) and ``labels`` (n,) are the labelled pool; with ``test_features``/``test_labels`` they
    are the training pool and those test, otherwise a fixed ``test_fraction`` of every class
    (seeded by ``split_seed``) is held out. ``l2_reg`` is λ or a sequence of λ."""
    x = _features(features, "features")
    y = _labels(labels, x.shape[0], "labels")
    if (test_features is None) != (test_labels is None):
        raise InvalidArgument("give both test_features and test_labels, or neither")
    t = ty = None
    if test_features is not None:
        t = _features(test_features, "test_features", x.shape[1])
        ty = _labels(test_labels, t.shape[0], "test_labels")
    shots_t = tuple(int(s) for s in np.atleast_1d(np.asarray(shots)).ravel())
    if not shots_t:
        raise InvalidArgument("shots must not be empty")
    sh = np.ascontiguousarray(shots_t, dtype=np.int64)
    lams, scalar = _l2s(l2_reg)
    seeds = int(seeds)
    if seeds < 1:
        raise InvalidArgument(f"seeds must be ≥ 1, got {seeds}")
    if not 0 <= int(split_seed) < 1 << 64:
        raise InvalidArgument(f"split_seed must be in 0 .. 2^64 - 1, got {split_seed}")
    out = np.empty(len(shots_t) * seeds * lams.size, np.float64)
    _lib.lib.stalwart_fewshot_evaluate(x.ctypes.data_as(_fp), y.ctypes.data_as(_ip), x.shape[0], x.shape[1],
                                       None if t is None else t.ctypes.data_as(_fp),
                                       None if ty is None else ty.ctypes.data_as(_ip), 0 if t is None else t.shape[0],
                                       sh.ctypes.data_as(_ip), sh.size, seeds, lams.ctypes.data_as(_dp), lams.size,
                                       float(test_fraction), int(split_seed), _precision(precision),
                                       out.ctypes.data_as(_dp), out.size)
    acc = out.reshape(len(shots_t), seeds, lams.size)
    l2t = tuple(float(v) for v in lams)
    per_seed, mean, std = {}, {}, {}
    for i, k in enumerate(shots_t):
        for j, lam in enumerate(l2t):
            key = k if scalar else (k, lam)
            col = acc[i, :, j]
            mean[key] = float(col.mean())
            std[key] = float(col.std(ddof=1)) if seeds > 1 else 0.0
            for s in range(seeds):
                per_seed[(k, s) if scalar else (k, s, lam)] = float(col[s])
    return FewShotResult(shots_t, seeds, l2t, acc, per_seed, mean, std)


@dataclass(frozen=True)
class ProbeResult:
    """A fitted linear probe: ``accuracy`` on the test set (NaN without test labels),
    ``predictions`` (n_test,), ``classes`` (K,) the training labels ascending, ``weights`` (D, K),
    ``bias`` (K,), L-BFGS ``iterations`` and whether it ``converged``."""

    accuracy: float
    predictions: np.ndarray
    classes: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    iterations: int
    converged: bool


def linear_probe(train_x, train_y, test_x=None, test_y=None, l2: float = 1.0, max_iter: int = 5000,
                 tol: float = 1e-6) -> ProbeResult:
    """Multinomial logistic regression with L2 (``l2 = 1/C`` of scikit-learn's
    ``LogisticRegression(solver="lbfgs")``), fitted by L-BFGS until the max-norm of the gradient of
    the objective divided by n is ≤ ``tol`` or ``max_iter`` iterations; predicts ``test_x``."""
    x = _features(train_x, "train_x")
    y = _labels(train_y, x.shape[0], "train_y")
    t = None if test_x is None else _features(test_x, "test_x", x.shape[1])
    k = int(np.unique(y).size)
    d = x.shape[1]
    pred = np.empty(0 if t is None else t.shape[0], np.int64)
    classes = np.empty(max(k, 1), np.int64)
    w = np.empty((d, max(k, 1)), np.float64)
    b = np.empty(max(k, 1), np.float64)
    kk, it, conv = ctypes.c_size_t(0), ctypes.c_size_t(0), ctypes.c_int64(0)
    if not 1 <= int(max_iter) < 1 << 31:
        raise InvalidArgument(f"max_iter must be in 1 .. 2^31 - 1, got {max_iter}")
    _lib.lib.stalwart_linear_probe(x.ctypes.data_as(_fp), y.ctypes.data_as(_ip), x.shape[0], d,
                                   None if t is None else t.ctypes.data_as(_fp), 0 if t is None else t.shape[0],
                                   float(l2), int(max_iter), float(tol),
                                   pred.ctypes.data_as(_ip) if pred.size else None, classes.ctypes.data_as(_ip),
                                   w.ctypes.data_as(_dp), b.ctypes.data_as(_dp), classes.size,
                                   ctypes.byref(kk), ctypes.byref(it), ctypes.byref(conv))
    acc = math.nan
    if test_y is not None:
        if t is None:
            raise InvalidArgument("test_y given without test_x")
        ty = _labels(test_y, t.shape[0], "test_y")
        acc = float(np.mean(pred == ty))
    return ProbeResult(acc, pred, classes[: kk.value], w[:, : kk.value], b[: kk.value], it.value, bool(conv.value))


def correlation(x, y, kind: str = "kendall", bootstrap: int = 1000, confidence: float = 0.95,
                seed: int = 0) -> tuple[float, float, float]:
    """``(value, low, high)``: the ``kind`` ("kendall" τ-b, "spearman", "pearson") coefficient of
    ``x`` and ``y`` and its percentile-bootstrap ``confidence`` interval over ``bootstrap``
    resamples of the pairs (``bootstrap=0``: low and high are NaN)."""
    if kind not in _KINDS:
        raise InvalidArgument(f"kind must be one of {tuple(_KINDS)}, got {kind!r}")
    a = np.ascontiguousarray(x, dtype=np.float64)
    b = np.ascontiguousarray(y, dtype=np.float64)
    if a.ndim != 1 or b.shape != a.shape:
        raise InvalidArgument(f"x and y must be 1-D arrays of the same length, got shapes {a.shape} and {b.shape}")
    value = ctypes.c_double()
    _lib.lib.stalwart_correlation(a.ctypes.data_as(_dp), b.ctypes.data_as(_dp), a.size, _KINDS[kind], ctypes.byref(value))
    if int(bootstrap) == 0:
        return value.value, math.nan, math.nan
    if not 0 <= int(seed) < 1 << 64:
        raise InvalidArgument(f"seed must be in 0 .. 2^64 - 1, got {seed}")
    low, high = ctypes.c_double(), ctypes.c_double()
    _lib.lib.stalwart_correlation_bootstrap(a.ctypes.data_as(_dp), b.ctypes.data_as(_dp), a.size, _KINDS[kind],
                                            int(bootstrap), float(confidence), int(seed), ctypes.byref(low),
                                            ctypes.byref(high))
    return value.value, low.value, high.value
