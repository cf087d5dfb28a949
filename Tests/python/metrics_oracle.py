"""NumPy / scikit-learn / SciPy reference implementations of Stalwart's calibration, selective
prediction, OOD-detection metrics and temperature scaling (the oracles of the bindings' tests).

Each function restates its reference definition (cited in its docstring); none imports
robustness_metrics or Hendrycks' code. Inputs:

* ``probs``: (n, k) array of the probabilities *as the library saw them*: float32 probabilities
  upcast to float64, or ``softmax(logits)`` (float64) for logits. The library computes softmax in
  float64 too, but its sums may differ in the last ulp, so tests that rely on exact ties or bin
  edges should pass probabilities.
* ``labels``: (n,) integer class labels in 0..k-1 (for ``ood``: 0 = in-distribution,
  1 = out-of-distribution).

Each returns a dict with the same result names as the Swift accumulator's ``result()``.
Common conventions: confidence = max_j p_j, prediction = ``np.argmax`` (first maximal class),
correct = prediction == label; k = 1 means one class of probability 1 (no binary conversion of a
single column, unlike the references).
"""

import numpy as np

_EPS = np.finfo(np.float64).eps


def softmax(logits):
    """softmax(logits) -> (n, k) float64 probabilities (row-wise, max-subtracted)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _conf_correct(probs, labels):
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    pred = np.argmax(probs, axis=1)
    conf = probs[np.arange(len(probs)), pred]
    return probs, labels, pred, conf, (pred == labels)


def ece(probs, labels, bins=15):
    """ece(probs, labels, bins=15) -> {"ece", "ece_unweighted", "count"}

    robustness_metrics/metrics/uncertainty.py, ``_KerasECEMetric.update_state`` / ``result``:
    confidences binned with ``tf.histogram_fixed_width_bins(conf, [0, 1], nbins)``, i.e. bin
    ``clip(floor(bins * conf), 0, bins - 1)`` (an edge value goes to the upper bin, 1.0 to the
    last); ece = sum over non-empty bins of count/total * |acc - conf|. ``ece_unweighted`` is the
    plain mean of |acc - conf| over the non-empty bins. Computed in float64 (TF uses float32).
    NaN without examples.
    """
    _, _, _, conf, correct = _conf_correct(probs, labels)
    n = len(conf)
    if n == 0:
        return {"ece": float("nan"), "ece_unweighted": float("nan"), "count": 0.0}
    idx = np.clip(np.floor(conf * bins), 0, bins - 1).astype(np.int64)
    counts = np.bincount(idx, minlength=bins).astype(np.float64)
    correct_sums = np.bincount(idx, weights=correct.astype(np.float64), minlength=bins)
    prob_sums = np.bincount(idx, weights=conf, minlength=bins)
    ne = counts != 0
    gaps = np.abs(correct_sums[ne] / counts[ne] - prob_sums[ne] / counts[ne])
    return {"ece": float(np.sum(counts[ne] / counts.sum() * gaps)),
            "ece_unweighted": float(np.mean(gaps)), "count": float(n)}


def _calib_err_hendrycks(confidence, correct, p="2", beta=100, include_last=False):
    """Restatement of ``calib_err(confidence, correct, p='2', beta=100)`` from Hendrycks'
    calibration_tools.py (natural-adv-examples / outlier-exposure), on arrays already sorted by
    confidence; ``include_last=False`` is his loop ``for i in range(len(bins) - 1)``."""
    total = len(confidence)
    bins = [[i * beta, (i + 1) * beta] for i in range(total // beta)]
    bins[-1] = [bins[-1][0], total]
    cerr = 0.0
    for i in range(len(bins) if include_last else len(bins) - 1):
        bc = confidence[bins[i][0]:bins[i][1]]
        bk = correct[bins[i][0]:bins[i][1]]
        m = len(bc)
        if m > 0:
            d = np.abs(np.nanmean(bc) - np.nanmean(bk))
            if p == "2":
                cerr += m / total * np.square(d)
            elif p == "1":
                cerr += m / total * d
            else:
                cerr = np.maximum(cerr, d)
    if p == "2":
        cerr = np.sqrt(cerr)
    return float(cerr)


def rms_calibration(probs, labels, bin_size=100, include_last=False, p="2"):
    """rms_calibration(probs, labels, bin_size=100, include_last=False, p="2")
    -> {"rms_calibration", "count"}

    Hendrycks' ``calib_err`` (calibration_tools.py): examples sorted by confidence, consecutive
    bins of ``bin_size`` examples (the last takes the remainder), per-bin
    d = |mean conf - accuracy|; p="2": sqrt(sum n_b/n d^2), p="1": sum n_b/n d, p="max": max d.
    ``include_last=False`` skips the last bin as his loop does. Ties: sorted by (confidence,
    correct) — incorrect first — (``np.lexsort``), a deterministic split of tie groups cut by a
    bin boundary. NaN when n < bin_size (his code raises IndexError).
    """
    _, _, _, conf, correct = _conf_correct(probs, labels)
    n = len(conf)
    if n < bin_size:
        return {"rms_calibration": float("nan"), "count": float(n)}
    order = np.lexsort((correct, conf))
    v = _calib_err_hendrycks(conf[order], correct[order].astype(np.float64), p=str(p),
                             beta=bin_size, include_last=include_last)
    return {"rms_calibration": v, "count": float(n)}


def _aurra_hendrycks(confidence, correct):
    """Restatement of Hendrycks' ``aurra(confidence, correct)`` (calibration_tools.py)."""
    conf_ranks = np.argsort(confidence)[::-1]
    rra_curve = np.cumsum(np.asarray(correct, dtype=np.float64)[conf_ranks])
    rra_curve = rra_curve / np.arange(1, len(rra_curve) + 1)
    return float(np.mean(rra_curve))


def aurra(probs, labels):
    """aurra(probs, labels) -> {"aurra", "count"}

    Hendrycks' ``aurra`` (calibration_tools.py): mean over r = 1..n of the accuracy of the r most
    confident examples. Ties: the exact expectation over a uniformly random order within each
    group of equal confidences (position j of a group of m with c correct, after s examples with
    C correct, counts (C + c j / m) / (s + j)); equals the reference for distinct confidences.
    NaN without examples.
    """
    _, _, _, conf, correct = _conf_correct(probs, labels)
    n = len(conf)
    if n == 0:
        return {"aurra": float("nan"), "count": 0.0}
    order = np.argsort(-conf, kind="stable")
    c = conf[order]
    k = correct[order].astype(np.float64)
    # tie groups along the descending order
    starts = np.r_[0, np.nonzero(np.diff(c))[0] + 1]
    sizes = np.diff(np.r_[starts, n])
    group_correct = np.add.reduceat(k, starts)
    before_correct = np.r_[0.0, np.cumsum(group_correct)[:-1]]
    g = np.repeat(np.arange(len(starts)), sizes)
    pos = np.arange(n)
    j = pos - starts[g] + 1.0
    curve = (before_correct[g] + group_correct[g] * j / sizes[g]) / (pos + 1.0)
    return {"aurra": float(np.mean(curve)), "count": float(n)}


def _adaptive_upper_bounds(values, num_bins):
    """robustness_metrics uncertainty.py ``_get_adaptive_bins(predictions, num_bins)``."""
    values = np.asarray(values).reshape(-1)
    if values.size == 0:
        return np.linspace(0, 1, num_bins + 1)[1:]
    edge_indices = np.linspace(0, values.size, num_bins, endpoint=False)
    edge_indices = np.round(edge_indices).astype(int)
    edge_indices = np.minimum(edge_indices, values.size - 1)
    edges = np.sort(values)[edge_indices]
    return np.concatenate((edges[1:], [1.0]))


def gce(probs, labels, binning="even", bins=15, norm="l1", class_conditional=False,
        max_prob=True, threshold=0.0, datapoints_per_bin=None):
    """gce(probs, labels, binning="even", bins=15, norm="l1", class_conditional=False,
    max_prob=True, threshold=0.0, datapoints_per_bin=None) -> {"gce", "count", "entries"}

    robustness_metrics/metrics/uncertainty.py, ``_GeneralCalibrationErrorMetric.update_state``,
    ``_get_upper_bounds`` and ``_get_calibration_error`` (recalibration off, num_bins given):
    entries p > threshold (strictly); even upper edges ``np.histogram_bin_edges([], bins,
    (0, 1))[1:]``, adaptive ``_get_adaptive_bins``; ``np.digitize`` (p = 1.0 gets an extra bin);
    counts + eps; per-group sum |err * (counts / N)| with err = acc - conf (l1) or its square
    (l2); class-conditional groups averaged over the k classes; sqrt at the end for l2.
    ``datapoints_per_bin`` (adaptive): bins = int(n / datapoints_per_bin), NaN when 0 (the
    reference asserts). ``entries`` = number of kept entries; NaN gce without rows.
    """
    probs, labels, pred, conf, correct = _conf_correct(probs, labels)
    n, k = probs.shape
    num_bins = bins
    if datapoints_per_bin is not None:
        num_bins = int(n / datapoints_per_bin)
    labels_matrix = np.eye(k)[labels]

    def upper_bounds(values):
        if binning == "adaptive":
            return _adaptive_upper_bounds(values, num_bins)
        return np.histogram_bin_edges([], bins=num_bins, range=(0.0, 1.0))[1:]

    def calibration_error(values, hits):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        hits = np.asarray(hits, dtype=np.float64).reshape(-1)
        if values.size == 0:
            return 0.0
        idx = np.digitize(values, upper_bounds(values))
        sums = np.bincount(idx, weights=values, minlength=num_bins).astype(np.float64)
        counts = np.bincount(idx, minlength=num_bins) + _EPS
        errs = np.bincount(idx, weights=hits, minlength=num_bins) / counts - sums / counts
        normed = errs if norm == "l1" else np.square(errs)
        return float(np.sum(np.abs(normed * (counts / float(values.size)))))

    if max_prob:
        entries = int(np.sum(conf > threshold))
    else:
        entries = int(np.sum(probs > threshold))
    tail = {"count": float(n), "entries": float(entries)}
    if n == 0 or num_bins == 0:
        return {"gce": float("nan"), **tail}

    if not class_conditional:
        if max_prob:
            hits = labels_matrix[np.arange(n), pred]
            values = probs[np.arange(n), pred]
        else:
            hits, values = labels_matrix, probs
        keep = values > threshold
        err = calibration_error(values[keep], hits[keep])
    else:
        per_class = []
        for j in range(k):
            if not max_prob:
                values, hits = probs[:, j], labels_matrix[:, j]
            else:
                rows = pred == j
                values, hits = probs[rows][:, j], labels_matrix[rows][:, j]
            keep = values > threshold
            per_class.append(calibration_error(values[keep], hits[keep]) / k)
        err = float(np.sum(per_class))
    if norm == "l2":
        err = float(np.sqrt(err))
    return {"gce": err, **tail}


def _fpr_at_recall(y_true, y_score, recall_level):
    """Restatement of Hendrycks' ``fpr_and_fdr_at_recall`` (outlier-exposure,
    utils/display_results.py): FPR at the distinct-score threshold whose recall is closest to
    ``recall_level`` (first of equals scanning from full recall down)."""
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    desc = np.argsort(y_score, kind="mergesort")[::-1]
    y_score, y_true = y_score[desc], y_true[desc]
    distinct = np.where(np.diff(y_score))[0]
    threshold_idxs = np.r_[distinct, y_true.size - 1]
    tps = np.cumsum(y_true, dtype=np.float64)[threshold_idxs]
    fps = 1 + threshold_idxs - tps
    recall = tps / tps[-1]
    last_ind = tps.searchsorted(tps[-1])
    sl = slice(last_ind, None, -1)
    recall, fps = np.r_[recall[sl], 1], np.r_[fps[sl], 0]
    cutoff = np.argmin(np.abs(recall - recall_level))
    return float(fps[cutoff] / np.sum(np.logical_not(y_true)))


def ood(probs, labels, recall=95):
    """ood(probs, labels, recall=95) -> {"auroc", "aupr_in", "aupr_out", f"fpr{recall}_out",
    f"fpr{recall}_in", "count_in", "count_out"}

    labels: 0 = in-distribution, 1 = OOD; score = max softmax probability (MSP). Hendrycks'
    ``get_measures(out_score, in_score)`` with score -MSP (outlier-exposure CIFAR/test.py,
    utils/display_results.py): auroc = ``sklearn.metrics.roc_auc_score(is_ood, -msp)``,
    aupr_out = ``average_precision_score(is_ood, -msp)``, fpr_out =
    ``fpr_and_fdr_at_recall(is_ood, -msp, recall/100)``; the in-distribution-positive versions
    use (is_in, msp). All NaN unless both kinds of example are present.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    probs = np.asarray(probs, dtype=np.float64)
    is_ood = np.asarray(labels).reshape(-1).astype(np.int64)
    if np.any((is_ood != 0) & (is_ood != 1)):
        raise ValueError("ood labels must be 0 (in-distribution) or 1 (OOD)")
    msp = probs.max(axis=1)
    n_out = int(is_ood.sum())
    n_in = int(len(is_ood) - n_out)
    names = ["auroc", "aupr_in", "aupr_out", f"fpr{recall}_out", f"fpr{recall}_in"]
    tail = {"count_in": float(n_in), "count_out": float(n_out)}
    if n_in == 0 or n_out == 0:
        return {**{k: float("nan") for k in names}, **tail}
    level = recall / 100
    is_in = 1 - is_ood
    return {
        "auroc": float(roc_auc_score(is_ood, -msp)),
        "aupr_in": float(average_precision_score(is_in, msp)),
        "aupr_out": float(average_precision_score(is_ood, -msp)),
        f"fpr{recall}_out": _fpr_at_recall(is_ood, -msp, level),
        f"fpr{recall}_in": _fpr_at_recall(is_in, msp, level),
        **tail,
    }


def temperature_nll(logits, labels, temperature):
    """temperature_nll(logits, labels, temperature) -> float: mean NLL of softmax(z / T)."""
    from scipy.special import logsumexp

    z = np.asarray(logits, dtype=np.float64) / temperature
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    return float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]))


def temperature_fit(logits, labels):
    """temperature_fit(logits, labels) -> {"temperature", "nll"}

    Temperature scaling (Guo et al. 2017; robustness_metrics' ``_temperature_scaling`` fits
    beta = 1/T by L-BFGS): T minimising the mean NLL of softmax(logits / T), found with
    ``scipy.optimize.minimize_scalar`` (bounded Brent) on log T in [log 1e-4, log 1e4]. Brent on
    function values pins T to ~1e-7 relative; compare with the library's T (Newton on the
    gradient) at ~1e-5 relative, or compare the NLLs.
    """
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda lt: temperature_nll(logits, labels, np.exp(lt)),
                          bounds=(np.log(1e-4), np.log(1e4)), method="bounded",
                          options={"xatol": 1e-12, "maxiter": 1000})
    return {"temperature": float(np.exp(res.x)), "nll": float(res.fun)}


def _self_check(seed=0):
    """Consistency checks of the oracles against the literal restatements (distinct values)."""
    rng = np.random.default_rng(seed)
    n, k = 1234, 7
    p = softmax(rng.normal(size=(n, k)) * 2)
    y = rng.integers(0, k, size=n)
    _, _, _, conf, correct = _conf_correct(p, y)
    assert abs(aurra(p, y)["aurra"] - _aurra_hendrycks(conf, correct)) < 1e-12
    order = np.argsort(conf)
    for last in (False, True):
        for pp in ("1", "2", "max"):
            a = rms_calibration(p, y, include_last=last, p=pp)["rms_calibration"]
            b = _calib_err_hendrycks(conf[order], correct[order].astype(float), p=pp, include_last=last)
            assert abs(a - b) < 1e-12, (last, pp, a, b)
    # gce with defaults is ECE up to the edge conventions (no confidence of 1.0 or on an edge here)
    assert abs(gce(p, y)["gce"] - ece(p, y)["ece"]) < 1e-9
    # ties: aurra equals the mean over every order within the tie groups
    import itertools
    tc = np.array([0.9, 0.9, 0.9, 0.7, 0.7, 0.6])
    tk = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    curves = []
    for a in itertools.permutations([0, 1, 2]):
        for b in itertools.permutations([3, 4]):
            order = list(a) + list(b) + [5]
            curves.append(np.mean(np.cumsum(tk[order]) / np.arange(1, 7)))
    tp = np.stack([tc, 1 - tc], axis=1)
    assert abs(aurra(tp, 1 - tk.astype(int))["aurra"] - np.mean(curves)) < 1e-12
    ood_labels = (rng.random(n) < 0.3).astype(int)
    r = ood(p, ood_labels)
    assert 0 <= r["auroc"] <= 1
    print("metrics_oracle self-check passed")


if __name__ == "__main__":
    _self_check()
