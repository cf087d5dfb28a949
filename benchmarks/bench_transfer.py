"""Few-shot ridge (big_vision fewshot_lsr): Stalwart vs the NumPy reference.

The problem of issue 9: 25 shots × 10 classes (N = 250) of D = 1280 features, a test set of
1,000, and a sweep of 8 λ values. Features are scikit-learn's real digits embedded by a fixed
random ReLU layer (64 → 1280), so they have the rank structure of real embeddings. The NumPy
reference (Tests/python/transfer_oracle.py) does the same mathematics the straightforward way —
whitening, bias column, one `np.linalg.eigh` of XXᵀ (N < D + 1), then for each λ the weights
`(lhs * 1/(eigs + λ)) @ rhs` and `argmax(x_test @ w)` — exactly big_vision's code in NumPy.
Both sides run alternately for --rounds rounds; medians and the ratio are reported, for float64
(Stalwart's default) and float32 (big_vision's precision).

Threads: both sides use OpenBLAS (NumPy its bundled scipy-openblas, Stalwart the system
libopenblas) with their default thread count (all cores) unless --threads N sets
OPENBLAS_NUM_THREADS for both.

    python benchmarks/bench_transfer.py [--rounds 15] [--threads N] [--probe]

`--probe` also times the full-data linear probe (digits, 898 train / 899 test, l2 = 1) against
scikit-learn's LogisticRegression(lbfgs) with the same objective.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=0, help="OPENBLAS_NUM_THREADS for both sides (0 = default)")
    ap.add_argument("--probe", action="store_true")
    a = ap.parse_args()
    if a.threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
    sys.path.insert(0, os.path.join(REPO, "Tests", "python"))
    import numpy as np
    import stalwart
    from stalwart import transfer as T
    import transfer_oracle as O
    from digits import digits_arrays

    X, y = digits_arrays()
    rng = np.random.default_rng(0)
    proj = rng.normal(size=(64, 1280)).astype(np.float32) / 8
    F = np.maximum(X @ proj, 0).astype(np.float32)
    train = np.concatenate([np.flatnonzero(y == k)[:25] for k in range(10)])
    rest = np.setdiff1d(np.arange(len(y)), train)
    test = rng.choice(rest, 1000, replace=False)
    xtr, ytr, xte, yte = F[train], y[train], F[test], y[test]
    lams = [2.0 ** k for k in range(-4, 20, 3)]   # 8 values
    print(f"stalwart {stalwart.__version__} ({stalwart.library_path}); numpy {np.__version__}")
    print(f"N = {len(train)} (25 shots × 10 classes), D = {F.shape[1]}, test = {len(test)}, {len(lams)} λ values")

    for prec, dt in (("float64", np.float64), ("float32", np.float32)):
        def ours():
            return T.fewshot_lsr(xtr, ytr, xte, yte, lams, precision=prec)

        def ref():
            return O.fewshot_lsr(xtr, ytr, xte, yte, lams, num_classes=10, dtype=dt)

        a1, a2 = ours(), ref()   # warm-up, and the answers
        ts, tr_ = [], []
        for _ in range(a.rounds):
            t0 = time.perf_counter(); ours(); ts.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); ref(); tr_.append(time.perf_counter() - t0)
        ms, mr = 1e3 * float(np.median(ts)), 1e3 * float(np.median(tr_))
        same = "identical" if np.array_equal(a1, a2) else f"max |Δacc| {np.abs(a1 - a2).max():.4f}"
        print(f"{prec}: Stalwart {ms:7.2f} ms  NumPy {mr:7.2f} ms  speed-up ×{mr / ms:.2f}  (accuracies {same})")

    if a.probe:
        import warnings
        from sklearn.linear_model import LogisticRegression

        tr, te = np.arange(0, len(y), 2), np.arange(1, len(y), 2)
        t0 = time.perf_counter()
        r = T.linear_probe(X[tr], y[tr], X[te], y[te], l2=1.0, max_iter=5000)
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk = LogisticRegression(C=1.0, solver="lbfgs", max_iter=5000, tol=1e-8).fit(X[tr], y[tr])
        t2 = time.perf_counter()
        print(f"probe: Stalwart {t1 - t0:.2f} s ({r.iterations} it, acc {r.accuracy:.4f})  "
              f"scikit-learn {t2 - t1:.2f} s ({int(sk.n_iter_[0])} it, acc {sk.score(X[te], y[te]):.4f})")


if __name__ == "__main__":
    main()
