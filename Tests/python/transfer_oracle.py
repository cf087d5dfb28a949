"""NumPy reference for the transfer tests: big_vision's few-shot ridge (fewshot_lsr) written the
straightforward way, the portable split generator (SplitMix64 + Fisher–Yates), the few-shot
protocol and the percentile bootstrap — independent re-implementations of the specification in
``bindings/python/stalwart/transfer.py``, not calls into the library."""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
SPLIT_TAG = 0x73706C6974
SHOTS_TAG = 0x73686F7473
BOOT_TAG = 0x626F6F74
BIAS = 100.0


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class SplitMix64:
    def __init__(self, state: int):
        self.state = state & MASK

    @classmethod
    def stream(cls, seed: int, tag: int, index: int) -> "SplitMix64":
        return cls(mix(mix((seed ^ tag) & MASK) ^ index))

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & MASK
        return mix(self.state)

    def below(self, bound: int) -> int:
        if bound <= 1:
            return 0
        threshold = ((1 << 64) - bound) % bound
        while True:
            r = self.next()
            if r >= threshold:
                return r % bound

    def shuffle(self, items: list) -> list:
        a = list(items)
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]
        return a


# ---------------------------------------------------------------------------------------------
# big_vision's fewshot_lsr.
# ---------------------------------------------------------------------------------------------

def whiten_stats(x: np.ndarray, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std + 1e-5 (computed in float64, then cast to ``dtype``)."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=0)
    std = np.sqrt(((x64 - mean) ** 2).mean(axis=0)) + 1e-5
    return mean.astype(dtype), std.astype(dtype)


def augment(x: np.ndarray, mean, std, dtype) -> np.ndarray:
    z = (x.astype(dtype) - mean) / std
    return np.hstack([z, np.full((x.shape[0], 1), BIAS, dtype)]).astype(dtype)


def lsr_fit(train_x, train_y, num_classes: int, dtype=np.float64):
    """The cache of big_vision's ``_precompute_cache``: (eigs, lhs, rhs, mean, std)."""
    mean, std = whiten_stats(train_x, dtype)
    x = augment(train_x, mean, std, dtype)
    y = (2.0 * np.eye(num_classes, dtype=dtype)[train_y] - 1.0).astype(dtype)
    n, d = x.shape
    if n >= d:
        eigs, q = np.linalg.eigh(x.T @ x)
        rhs = q.T @ (x.T @ y)
        lhs = q
    else:
        eigs, q = np.linalg.eigh(x @ x.T)
        rhs = q.T @ y
        lhs = x.T @ q
    return eigs, lhs, rhs, mean, std


def lsr_weights(cache, l2: float) -> np.ndarray:
    eigs, lhs, rhs, _, _ = cache
    scaling = (1.0 / (eigs + np.asarray(l2, eigs.dtype))).reshape(1, -1)
    return (lhs * scaling) @ rhs


def lsr_predict(cache, w, test_x) -> np.ndarray:
    _, _, _, mean, std = cache
    xt = augment(test_x, mean, std, w.dtype)
    return np.argmax(xt @ w, axis=1)


def fewshot_lsr(train_x, train_y, test_x, test_y, l2_regs, num_classes=None, dtype=np.float64):
    """Accuracies per λ (one eigendecomposition)."""
    c = num_classes or int(max(train_y.max(), test_y.max())) + 1
    cache = lsr_fit(train_x, train_y, c, dtype)
    return np.array([np.mean(lsr_predict(cache, lsr_weights(cache, l2), test_x) == test_y) for l2 in l2_regs])


# ---------------------------------------------------------------------------------------------
# The protocol's splits.
# ---------------------------------------------------------------------------------------------

def holdout_split(labels, test_fraction=0.5, split_seed=0):
    """(pools per class, test indices) as specified in stalwart.transfer."""
    labels = np.asarray(labels)
    c = int(labels.max()) + 1
    pools, test = [], []
    for k in range(c):
        rows = [int(i) for i in np.flatnonzero(labels == k)]
        if not rows:
            pools.append([])
            continue
        rows = SplitMix64.stream(split_seed, SPLIT_TAG, k).shuffle(rows)
        t = max(1, int(np.floor(len(rows) * test_fraction)))
        test += rows[:t]
        pools.append(rows[t:])
    return pools, test


def fewshot_protocol(features, labels, shots, seeds, l2_regs, test_features=None, test_labels=None,
                     test_fraction=0.5, split_seed=0, dtype=np.float32):
    """Accuracies (len(shots), seeds, len(l2_regs))."""
    labels = np.asarray(labels)
    c = int(labels.max()) + 1
    if test_features is None:
        pools, test = holdout_split(labels, test_fraction, split_seed)
        tx, ty = features[test], labels[test]
    else:
        pools = [[int(i) for i in np.flatnonzero(labels == k)] for k in range(c)]
        tx, ty = test_features, np.asarray(test_labels)
        c = max(c, int(ty.max()) + 1)
    out = np.zeros((len(shots), seeds, len(l2_regs)))
    for s in range(seeds):
        perms = [SplitMix64.stream(s, SHOTS_TAG, k).shuffle(p) for k, p in enumerate(pools)]
        for i, k in enumerate(shots):
            rows = [r for p in perms if p for r in p[:k]]
            out[i, s] = fewshot_lsr(features[rows], labels[rows], tx, ty, l2_regs, c, dtype)
    return out


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    g = SplitMix64.stream(seed, BOOT_TAG, 0)
    return np.array([[g.below(n) for _ in range(n)] for _ in range(resamples)], dtype=np.int64)
