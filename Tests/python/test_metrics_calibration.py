"""ECE, Hendrycks' RMS calibration error, robustness_metrics' general calibration error, AURRA,
OOD detection and temperature scaling through the bindings, against the NumPy / scikit-learn /
SciPy oracles of metrics_oracle.py (restatements of robustness_metrics `metrics/uncertainty.py`,
Hendrycks' `calibration_tools.py` and outlier-exposure's `display_results.py`), on random
inputs and edge cases, plus the accumulator contract. Tolerance 1e-6 absolute (the issue's
bar). Probabilities are passed as float32 rows (so both sides see the same values); logits
are checked separately where ties and bin edges do not matter."""
import itertools

import numpy as np
import pytest

import metrics_oracle as oracle
from stalwart import metrics
from stalwart.errors import InvalidArgument, StalwartError

TOL = 1e-6


def probs_batch(n, k, seed, sharp=2.0, ties=False):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, sharp, (n, k))
    if ties:
        z = np.round(z)
    p = oracle.softmax(z).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True, dtype=np.float32)
    y = rng.integers(0, k, n)
    return p, y


def close(got: dict, want: dict, keys=None):
    for key in keys or want:
        w, g = want[key], got[key]
        if np.isnan(w):
            assert np.isnan(g), (key, g)
        else:
            assert g == pytest.approx(w, abs=TOL), (key, g, w)


@pytest.mark.parametrize("n,k,seed", [(1, 3, 0), (50, 2, 1), (1000, 10, 2), (3000, 100, 3)])
@pytest.mark.parametrize("ties", [False, True])
def test_ece_rms_aurra(n, k, seed, ties):
    p, y = probs_batch(n, k, seed, ties=ties)
    p64 = p.astype(np.float64)
    for bins in (1, 15, 100):
        close(metrics.Accumulator(f"ece:bins={bins}").add(p, y, "probabilities").result(), oracle.ece(p64, y, bins=bins))
    for include_last, pnorm in itertools.product((0, 1), ("1", "2", "max")):
        got = metrics.Accumulator(f"rms_calibration:include_last={include_last},p={pnorm}").add(p, y, "probabilities").result()
        close(got, oracle.rms_calibration(p64, y, include_last=bool(include_last), p=pnorm))
    close(metrics.Accumulator("aurra").add(p, y, "probabilities").result(), oracle.aurra(p64, y))
    assert metrics.ece(p, y, bins=15, kind="probabilities") == pytest.approx(oracle.ece(p64, y)["ece"], abs=TOL)


@pytest.mark.parametrize("seed", [0, 1])
def test_gce_all_combinations(seed):
    p, y = probs_batch(700, 12, seed)
    p64 = p.astype(np.float64)
    for binning, bins, norm, cc, threshold in itertools.product(("even", "adaptive"), (15, 100), ("l1", "l2"),
                                                                 (False, True), (0.0, 0.01)):
        spec = f"gce:binning={binning},bins={bins},norm={norm},class_conditional={int(cc)},threshold={threshold}"
        got = metrics.Accumulator(spec).add(p, y, "probabilities").result()
        want = oracle.gce(p64, y, binning=binning, bins=bins, norm=norm, class_conditional=cc, threshold=threshold)
        close(got, want, ["gce"])


def test_edge_cases():
    onehot = np.eye(4, dtype=np.float32)
    y = np.arange(4)
    for labels in (y, (y + 1) % 4):                                  # all correct, all wrong
        p64 = onehot.astype(np.float64)
        close(metrics.Accumulator("ece").add(onehot, labels, "probabilities").result(), oracle.ece(p64, labels))
        close(metrics.Accumulator("gce").add(onehot, labels, "probabilities").result(), oracle.gce(p64, labels), ["gce"])
        close(metrics.Accumulator("aurra").add(onehot, labels, "probabilities").result(), oracle.aurra(p64, labels))
    single = np.ones((5, 1), np.float32)                              # a single class
    close(metrics.Accumulator("ece").add(single, np.zeros(5, int), "probabilities").result(),
          oracle.ece(single.astype(np.float64), np.zeros(5, int)))
    one = np.array([[0.2, 0.8]], np.float32)                          # one example
    close(metrics.Accumulator("ece:bins=15").add(one, [1], "probabilities").result(), oracle.ece(one.astype(np.float64), np.array([1])))
    for spec in ("ece", "rms_calibration", "gce", "aurra", "ood"):  # no examples: NaN, not a crash
        r = metrics.Accumulator(spec).result()
        assert all(np.isnan(v) or v == 0 for v in r.values()), (spec, r)


@pytest.mark.parametrize("n_in,n_out,seed", [(500, 300, 0), (50, 5000, 1), (1, 1, 2)])
def test_ood_matches_sklearn(n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    k = 10
    a = oracle.softmax(rng.normal(0, 3, (n_in, k))).astype(np.float32)
    b = oracle.softmax(rng.normal(0, 1, (n_out, k))).astype(np.float32)
    a /= a.sum(axis=1, keepdims=True); b /= b.sum(axis=1, keepdims=True)
    got = metrics.ood_detection(a, b, kind="probabilities")
    probs = np.concatenate([a, b]).astype(np.float64)
    labels = np.concatenate([np.zeros(n_in, int), np.ones(n_out, int)])
    close(got, oracle.ood(probs, labels))


def test_temperature_fit_matches_scipy():
    rng = np.random.default_rng(7)
    n, k = 2000, 20
    y = rng.integers(0, k, n)
    z = rng.normal(0, 1, (n, k)).astype(np.float32)
    z[np.arange(n), y] += 2.5                                         # informative, over-confident after ×3
    z *= 3
    want = oracle.temperature_fit(z, y)["temperature"]
    got = metrics.fit_temperature(z, y)
    assert got == pytest.approx(want, rel=1e-5)
    assert oracle.temperature_nll(z, y, got) <= oracle.temperature_nll(z, y, want) + 1e-9
    with pytest.raises(InvalidArgument):
        metrics.fit_temperature(np.zeros((4, 3), np.float32), [0, 1, 2, 0])   # all logits equal


@pytest.mark.parametrize("spec", ["ece:bins=15", "rms_calibration", "gce:binning=adaptive,bins=15,norm=l2",
                                  "gce:class_conditional=1,threshold=0.01", "aurra", "ood"])
def test_shards_merged_equal_one_pass(spec):
    p, y = probs_batch(1500, 8, 11)
    if spec == "ood":
        y = (y % 2).astype(np.int64)
    whole = metrics.Accumulator(spec).add(p, y, "probabilities").result()
    rng = np.random.default_rng(2)
    cuts = np.sort(rng.choice(np.arange(1, len(y)), size=6, replace=False))
    merged = metrics.Accumulator(spec)
    for idx in np.split(np.arange(len(y)), cuts):
        part = metrics.Accumulator(spec).add(p[idx], y[idx], "probabilities")
        merged.merge(metrics.Accumulator.deserialize(part.serialize()))
    got = metrics.Accumulator.deserialize(merged.serialize()).result()
    for key, value in whole.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-12, nan_ok=True), (spec, key)


def test_bad_options_and_states():
    for spec in ("ece:bins=0", "gce:binning=odd", "gce:norm=l3", "rms_calibration:p=3", "ood:recall=0", "aurra:x=1"):
        with pytest.raises(InvalidArgument):
            metrics.Accumulator(spec)
    with pytest.raises(InvalidArgument):
        metrics.Accumulator("ood").add(np.full((2, 3), 1 / 3, np.float32), [0, 2], "probabilities")   # labels must be 0/1
    blob = metrics.Accumulator("gce:binning=adaptive").add(*probs_batch(100, 5, 0), "probabilities").serialize()
    rng = np.random.default_rng(0)
    for _ in range(200):                                              # random corruption: an error or a valid state, never a crash
        b = bytearray(blob)
        b[rng.integers(0, len(b))] = rng.integers(0, 256)
        try:
            metrics.Accumulator.deserialize(bytes(b)).result()
        except StalwartError:
            pass
