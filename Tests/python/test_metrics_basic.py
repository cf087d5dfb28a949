"""Accuracy, top-k, NLL, Brier, agreement and the aggregates (mCE, pm-k, factor accuracy,
effective robustness) against independent NumPy/SciPy implementations written here from the
reference definitions (robustness_metrics `metrics/uncertainty.py` and
`reports/imagenet_variants.py`, Hendrycks & Dietterich's mCE, the imagenet-vid-robust pm-k
scorer, Taori et al.'s effective robustness), plus hand-worked fixtures, the accumulator
contract (shards merged = one pass, serialize → deserialize lossless) and bad input.
Tolerance: 1e-6 absolute (the issue's bar); most agree to ~1e-12."""
import numpy as np
import pytest
from scipy.special import log_softmax, softmax

import stalwart
from stalwart import metrics
from stalwart.errors import InvalidArgument, ShapeError, StalwartError

TOL = 1e-6


def batch(n=400, k=10, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, (n, k)).astype(np.float32)
    if ties:
        z = np.round(z)  # many exact ties
    y = rng.integers(0, k, n)
    return z, y


def ref_top1(z, y):
    return float(np.mean(np.argmax(z, axis=1) == y))


def ref_in_top_k(z, y, k):
    # TensorFlow in_top_k: fewer than k classes strictly above the label's score.
    above = (z > z[np.arange(len(y)), y][:, None]).sum(axis=1)
    return float(np.mean(above < k))


def ref_nll(z, y):
    return float(-np.mean(log_softmax(z.astype(np.float64), axis=1)[np.arange(len(y)), y]))


def ref_brier(p, y):
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("k", [1, 2, 10, 1000])
def test_basic_metrics_match_numpy(ties, k):
    z, y = batch(n=300, k=k, seed=k, ties=ties)
    p = softmax(z.astype(np.float64), axis=1)
    assert metrics.accuracy(z, y) == pytest.approx(ref_top1(z, y), abs=TOL)
    for kk in sorted({1, min(5, k), k}):
        assert metrics.top_k_accuracy(z, y, kk) == pytest.approx(ref_in_top_k(z, y, kk), abs=TOL)
    assert metrics.nll(z, y) == pytest.approx(ref_nll(z, y), abs=TOL)
    assert metrics.brier(z, y) == pytest.approx(ref_brier(p, y), abs=TOL)
    pf = p.astype(np.float32)
    pf /= pf.sum(axis=1, keepdims=True)
    p32 = pf.astype(np.float64)
    assert metrics.accuracy(pf, y, kind="probabilities") == pytest.approx(ref_top1(pf, y), abs=TOL)
    assert metrics.nll(pf, y, kind="probabilities") == pytest.approx(
        float(-np.mean(np.log(p32[np.arange(len(y)), y]))), abs=TOL)
    assert metrics.brier(pf, y, kind="probabilities") == pytest.approx(ref_brier(p32, y), abs=TOL)


def test_edge_cases():
    z = np.eye(5, dtype=np.float32) * 10
    y = np.arange(5)
    assert metrics.accuracy(z, y) == 1.0                        # all correct
    assert metrics.accuracy(z, (y + 1) % 5) == 0.0              # all wrong
    assert metrics.accuracy(z[:1], y[:1]) == 1.0                # one example
    assert metrics.nll(np.zeros((3, 1), np.float32), [0, 0, 0]) == pytest.approx(0.0, abs=1e-12)   # a single class
    tied = np.zeros((2, 4), np.float32)
    assert metrics.accuracy(tied, [0, 3]) == 0.5                # NumPy argmax: the first maximal class
    assert metrics.top_k_accuracy(tied, [0, 3], k=1) == 1.0     # in_top_k: ties all count
    r = metrics.agreement(z, np.array([0, 1, 2, 0, 0]))
    assert r["agreement"] == pytest.approx(0.6) and r["flip_rate"] == pytest.approx(0.4)


@pytest.mark.parametrize("spec", ["accuracy:k=3", "nll", "brier", "agreement"])
def test_shards_merged_equal_one_pass(spec):
    z, y = batch(n=2000, k=37, seed=5)
    whole = metrics.Accumulator(spec).add(z, y).result()
    rng = np.random.default_rng(1)
    for trial in range(5):
        cuts = np.sort(rng.choice(np.arange(1, len(y)), size=rng.integers(1, 8), replace=False))
        parts = np.split(np.arange(len(y)), cuts)
        merged = metrics.Accumulator(spec)
        for idx in parts:
            part = metrics.Accumulator(spec).add(z[idx], y[idx])
            merged.merge(metrics.Accumulator.deserialize(part.serialize()))
        got = metrics.Accumulator.deserialize(merged.serialize()).result()
        assert got.keys() == whole.keys()
        for key in whole:
            assert got[key] == pytest.approx(whole[key], rel=1e-12, abs=1e-12), (spec, key)


def test_bad_input_is_an_error_never_a_crash():
    acc = metrics.Accumulator("accuracy")
    z, y = batch(n=10, k=4)
    with pytest.raises(InvalidArgument):
        acc.add(z, y[:5])                                        # mismatched lengths
    with pytest.raises(InvalidArgument):
        acc.add(z, np.full(10, 4))                               # label out of range
    with pytest.raises(InvalidArgument):
        acc.add(z, np.full(10, -1))
    bad = z.copy(); bad[3, 2] = np.nan
    with pytest.raises(InvalidArgument, match="row 3"):
        acc.add(bad, y)                                          # NaN logits, row named
    with pytest.raises(InvalidArgument):
        acc.add(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))   # empty batch
    with pytest.raises(InvalidArgument):
        acc.add(np.full((2, 2), 0.9, np.float32), [0, 1], kind="probabilities")   # rows not summing to 1
    with pytest.raises(InvalidArgument):
        acc.add(z, y, kind="softmax")
    with pytest.raises(InvalidArgument):
        acc.add(z, y.astype(np.float64))
    assert acc.result()["count"] == 0                            # nothing was added by failed calls
    blob = metrics.Accumulator("accuracy:k=2").add(z, y).serialize()
    for broken in (blob[:-1], blob + b"\0", b"", b"SWMT" + b"\xff" * 20, blob[:4] + b"\x09" + blob[5:]):
        with pytest.raises(StalwartError):
            metrics.Accumulator.deserialize(broken)
    with pytest.raises(InvalidArgument):
        metrics.Accumulator("accuracy").merge(metrics.Accumulator("nll"))
    with pytest.raises(InvalidArgument):
        metrics.Accumulator("accuracy:k=2").merge(metrics.Accumulator("accuracy:k=3"))
    for spec in ("", "nope", "accuracy:k=0", "accuracy:k=x", "accuracy:kk=1", "accuracy:k"):
        with pytest.raises(InvalidArgument):
            metrics.Accumulator(spec)
    assert np.isnan(metrics.Accumulator("nll").result()["nll"])
    a = metrics.Accumulator("accuracy").add(z, y)
    a.merge(a)                                                   # self-merge doubles, no corruption
    assert a.result()["count"] == 20


def test_mce_hand_worked():
    # gaussian_noise: accuracies 0.5 at every severity -> error 0.5; CE = 0.5 / 0.886.
    # fog: errors .1 .2 .3 .4 .5 -> mean .3; CE = .3 / .819. Clean accuracy .8 (error .2):
    # relative CE = (.5 - .2) / (.886 - .4348) and (.3 - .2) / (.819 - .4348).
    table = {"gaussian_noise": [0.5] * 5, "fog": [0.9, 0.8, 0.7, 0.6, 0.5]}
    r = metrics.mce(table, clean_accuracy=0.8)
    ce_g, ce_f = 0.5 / 0.886, 0.3 / 0.819
    rel_g, rel_f = 0.3 / (0.886 - 0.4348), 0.1 / (0.819 - 0.4348)
    assert r["ce"]["gaussian_noise"] == pytest.approx(ce_g, abs=1e-12)
    assert r["ce"]["fog"] == pytest.approx(ce_f, abs=1e-12)
    assert r["mce"] == pytest.approx((ce_g + ce_f) / 2, abs=1e-12)
    assert r["relative_ce"]["fog"] == pytest.approx(rel_f, abs=1e-12)
    assert r["relative_mce"] == pytest.approx((rel_g + rel_f) / 2, abs=1e-12)
    # A user baseline: errors .5 and .25, clean error .1.
    r = metrics.mce(table, clean_accuracy=0.8, baseline={"gaussian_noise": 0.5, "fog": 0.25}, baseline_clean_error=0.1)
    assert r["mce"] == pytest.approx((1.0 + 1.2) / 2, abs=1e-12)
    assert r["relative_mce"] == pytest.approx((0.3 / 0.4 + 0.1 / 0.15) / 2, abs=1e-12)
    assert np.isnan(metrics.mce(table)["relative_mce"])
    with pytest.raises(InvalidArgument):
        metrics.mce({"speckle_noise": [0.5] * 5})                # no AlexNet value
    with pytest.raises(InvalidArgument):
        metrics.mce({"fog": [0.5] * 4})
    with pytest.raises(InvalidArgument):
        metrics.mce({"fog": [1.5] * 5})


def test_mce_against_numpy_on_all_15():
    rng = np.random.default_rng(3)
    table = {n: rng.uniform(0.1, 0.9, 5).tolist() for n in metrics.ALEXNET_ERRORS}
    clean = 0.76
    ce = {n: np.mean(1 - np.array(a)) / metrics.ALEXNET_ERRORS[n] for n, a in table.items()}
    rel = {n: (np.mean(1 - np.array(a)) - (1 - clean)) / (metrics.ALEXNET_ERRORS[n] - metrics.ALEXNET_CLEAN_ERROR)
           for n, a in table.items()}
    r = metrics.mce(table, clean_accuracy=clean)
    assert r["mce"] == pytest.approx(np.mean(list(ce.values())), abs=1e-12)
    assert r["relative_mce"] == pytest.approx(np.mean(list(rel.values())), abs=1e-12)


def test_pm_k_three_anchor_fixture():
    # Anchor 0 correct, neighbours at ±1 correct, at +5 wrong; anchor 1 correct, neighbour at -2
    # wrong; anchor 2 wrong. pm-0 = 2/3; pm-1 = 2/3; pm-2 = 1/3 (anchor 1 fails); pm-5 = 0.
    anchors = [True, True, False]
    nb = [(0, -1, True), (0, 1, True), (0, 5, False), (1, -2, False), (2, 1, True)]
    assert metrics.pm_k(anchors, nb, 0) == pytest.approx(2 / 3)
    assert metrics.pm_k(anchors, nb, 1) == pytest.approx(2 / 3)
    assert metrics.pm_k(anchors, nb, 2) == pytest.approx(1 / 3)
    assert metrics.pm_k(anchors, nb, 5) == 0.0
    assert metrics.pm_k(anchors, [], 10) == pytest.approx(2 / 3)
    with pytest.raises(InvalidArgument):
        metrics.pm_k(anchors, [(3, 0, True)], 1)                 # neighbour of a missing anchor
    with pytest.raises(InvalidArgument):
        metrics.pm_k([], [], 1)


def test_factor_accuracy_matches_groupby():
    rng = np.random.default_rng(4)
    f = rng.choice([0.05, 0.1, 0.2, 0.5, 0.9], 1000)
    c = rng.random(1000) < 0.7
    r = metrics.factor_accuracy(f, c)
    vals = np.unique(f)
    acc = np.array([c[f == v].mean() for v in vals])
    assert np.array_equal(r["values"], vals)
    assert np.allclose(r["accuracy"], acc, atol=1e-12)
    assert r["counts"].tolist() == [int((f == v).sum()) for v in vals]
    assert r["mean"] == pytest.approx(acc.mean(), abs=1e-12)
    with pytest.raises(InvalidArgument):
        metrics.factor_accuracy([1.0, np.nan], [True, False])


def test_effective_robustness_matches_polyfit():
    rng = np.random.default_rng(5)
    clean = rng.uniform(0.5, 0.9, 20)
    shifted = clean * 0.6 + rng.normal(0, 0.02, 20)
    logit = lambda p: np.log(p / (1 - p))
    slope, intercept = np.polyfit(logit(clean), logit(shifted), 1)
    r = metrics.effective_robustness(clean, shifted, 0.8, 0.55)
    assert r["slope"] == pytest.approx(slope, abs=1e-9)
    assert r["intercept"] == pytest.approx(intercept, abs=1e-9)
    expected = 0.55 - 1 / (1 + np.exp(-(slope * logit(0.8) + intercept)))
    assert r["value"] == pytest.approx(expected, abs=1e-9)
    with pytest.raises(InvalidArgument):
        metrics.effective_robustness([0.5], [0.4], 0.5, 0.4)
    with pytest.raises(InvalidArgument):
        metrics.effective_robustness([0.5, 1.0], [0.4, 0.5], 0.5, 0.4)


def test_label_spaces_through_the_c_api():
    names = metrics.label_space_names()
    assert names[:1] == ["imagenet"] and {"imagenet_a", "imagenet_r", "objectnet", "imagenet_vid_robust",
                                          "ytbb_robust", "si_score", "model_vs_human_16"} <= set(names)
    sizes = {n: len(metrics.LabelSpace(n)) for n in names}
    assert (sizes["imagenet"], sizes["imagenet_a"], sizes["imagenet_r"], sizes["objectnet"]) == (1000, 200, 200, 113)
    assert (sizes["imagenet_vid_robust"], sizes["ytbb_robust"], sizes["si_score"], sizes["model_vs_human_16"]) == (30, 24, 61, 16)
    ids = lambda n: sum(len(m) for m in metrics.LabelSpace(n).members)
    assert (ids("objectnet"), ids("imagenet_vid_robust"), ids("ytbb_robust")) == (125, 288, 231)
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (50, 1000)).astype(np.float32)
    a = metrics.LabelSpace("imagenet_a")
    idx = [m[0] for m in a.members]
    assert np.array_equal(a.project(z), z[:, idx])                          # logits sliced
    p = softmax(z.astype(np.float64), axis=1).astype(np.float32)
    want = p[:, idx] / p[:, idx].sum(axis=1, keepdims=True)
    assert np.allclose(a.project(p, kind="probabilities"), want, atol=1e-6)  # probabilities renormalised
    y = metrics.LabelSpace("ytbb_robust")
    proj = y.project(z, merge="mean")
    for c, m in enumerate(y.members):
        if m:
            assert np.allclose(proj[:, c], z[:, m].mean(axis=1), atol=1e-5)
        else:
            assert np.all(np.isneginf(proj[:, c]))                          # unmapped: −∞
    assert np.all(y.project(z, unmapped_value=0.0)[:, [c for c, m in enumerate(y.members) if not m]] == 0)
    h = metrics.LabelSpace("model_vs_human_16")
    ph = h.project(p, kind="probabilities")
    for c, m in enumerate(h.members):
        assert np.allclose(ph[:, c], p[:, m].mean(axis=1), atol=1e-6)
    o = metrics.LabelSpace("objectnet")
    union = sorted({i for m in o.members for i in m})
    owner = {i: c for c, m in enumerate(o.members) for i in m}
    pred = o.predict(z)
    assert pred.tolist() == [owner[union[int(np.argmax(z[r, union]))]] for r in range(len(z))]
    with pytest.raises(InvalidArgument):
        metrics.LabelSpace("imagenet_x")
    with pytest.raises(ShapeError):
        a.project(z[:, :999])
    bad = z.copy(); bad[0, 0] = np.inf
    with pytest.raises(InvalidArgument):
        a.project(bad)
