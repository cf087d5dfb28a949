"""Robustness metrics: streaming accumulators and the aggregates of the literature.

Every metric is computed by the library (``stalwart_metric_*`` in include/stalwart.h), from
logits or probabilities and integer labels::

    >>> from stalwart import metrics
    >>> metrics.accuracy(logits, labels)                       # top-1
    >>> metrics.ece(probs, labels, bins=15, kind="probabilities")
    >>> acc = metrics.Accumulator("accuracy:k=5")              # streaming, mergeable
    >>> for x, y in batches: acc.add(model(x), y)
    >>> blob = acc.serialize(); other = metrics.Accumulator.deserialize(blob); acc.merge(other)
    >>> acc.result()                                            # {"top1": ..., "top5": ..., "count": ...}

``kind`` is ``"logits"`` (default: probabilities are their softmax, in float64) or
``"probabilities"`` (rows in [0, 1] summing to 1). Scores are ``(n, k)`` arrays (any float
dtype; converted to float32), labels ``(n,)`` integers in ``0..k-1``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from . import _lib
from .errors import InvalidArgument

__all__ = [
    "Accumulator", "add_all", "accuracy", "top_k_accuracy", "nll", "brier", "agreement", "ece",
    "rms_calibration_error", "gce", "aurra", "ood_detection", "fit_temperature", "mce", "pm_k",
    "factor_accuracy", "effective_robustness", "ALEXNET_ERRORS", "ALEXNET_CLEAN_ERROR", "LabelSpace",
    "label_space_names",
]

_KINDS = {"logits": _lib.SCORES_LOGITS, "probabilities": _lib.SCORES_PROBABILITIES}
_dp = ctypes.POINTER(ctypes.c_double)

#: AlexNet's ImageNet-C errors averaged over severities (the default mCE baseline).
ALEXNET_ERRORS = {
    "gaussian_noise": 0.886, "shot_noise": 0.894, "impulse_noise": 0.923, "defocus_blur": 0.820,
    "glass_blur": 0.826, "motion_blur": 0.786, "zoom_blur": 0.798, "snow": 0.867, "frost": 0.827,
    "fog": 0.819, "brightness": 0.565, "contrast": 0.853, "elastic_transform": 0.646,
    "pixelate": 0.718, "jpeg_compression": 0.607,
}
ALEXNET_CLEAN_ERROR = 0.4348


def _scores_labels(scores, labels, kind: str):
    if kind not in _KINDS:
        raise InvalidArgument(f"kind must be one of {tuple(_KINDS)}, got {kind!r}")
    s = np.ascontiguousarray(scores, dtype=np.float32)
    y = np.ascontiguousarray(labels)
    if s.ndim != 2:
        raise InvalidArgument(f"scores must be a 2-D (n, k) array, got shape {s.shape}")
    if y.ndim != 1 or y.shape[0] != s.shape[0]:
        raise InvalidArgument(f"labels must be a 1-D array of {s.shape[0]} integers, got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise InvalidArgument(f"labels must be integers, got {y.dtype}")
    return s, np.ascontiguousarray(y, dtype=np.int64)


class Accumulator:
    """A streaming metric from a spec ``"name[:key=value,...]"`` (see the README's metric
    table): ``add`` batches, ``merge`` others (same spec), ``serialize`` to bytes,
    ``result()`` a dict. Not thread-safe: one per thread, merged at the end."""

    def __init__(self, spec: str, *, _handle=None):
        if _handle is not None:
            self._h = _handle
        else:
            h = _lib.MetricPtr()
            _lib.lib.stalwart_metric_create(spec.encode(), ctypes.byref(h))
            self._h = h
        self.spec = spec

    def add(self, scores, labels, kind: str = "logits") -> "Accumulator":
        s, y = _scores_labels(scores, labels, kind)
        _lib.lib.stalwart_metric_add(self._handle(), s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), s.shape[0],
                                     s.shape[1], y.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), _KINDS[kind])
        return self

    def merge(self, other: "Accumulator") -> "Accumulator":
        _lib.lib.stalwart_metric_merge(self._handle(), other._handle())
        return self

    def serialize(self) -> bytes:
        data, size = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t()
        _lib.lib.stalwart_metric_serialize(self._handle(), ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data, size.value)
        finally:
            _lib.lib.stalwart_free(data)

    @classmethod
    def deserialize(cls, data: bytes) -> "Accumulator":
        buf = (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(bytes(data) or b"\0")
        h = _lib.MetricPtr()
        _lib.lib.stalwart_metric_deserialize(buf, len(data), ctypes.byref(h))
        return cls("", _handle=h)

    def result(self) -> dict[str, float]:
        n = ctypes.c_size_t()
        _lib.lib.stalwart_metric_result(self._handle(), None, 0, ctypes.byref(n))
        values = (ctypes.c_double * max(n.value, 1))()
        _lib.lib.stalwart_metric_result(self._handle(), values, n.value, ctypes.byref(n))
        names = [_lib.lib.stalwart_metric_result_name(self._handle(), i).decode() for i in range(n.value)]
        return dict(zip(names, list(values)[: n.value]))

    def close(self) -> None:
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.lib.stalwart_metric_free(h)

    def _handle(self):
        if not self._h:
            raise InvalidArgument("the accumulator is closed")
        return self._h

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def add_all(accumulators: Sequence[Accumulator], scores, labels, kind: str = "logits") -> None:
    """Adds one batch to several accumulators, computing softmax, argmax and ranks once."""
    s, y = _scores_labels(scores, labels, kind)
    accs = list(accumulators)
    if not accs:
        return
    handles = (_lib.MetricPtr * len(accs))(*[a._handle() for a in accs])
    _lib.lib.stalwart_metric_add_all(handles, len(accs), s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), s.shape[0],
                                     s.shape[1], y.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), _KINDS[kind])


def _one(spec: str, scores, labels, kind: str) -> dict[str, float]:
    with Accumulator(spec) as acc:
        return acc.add(scores, labels, kind).result()


def accuracy(scores, labels, kind: str = "logits") -> float:
    """Top-1 accuracy (``argmax`` = label; the first maximal class on ties, as NumPy)."""
    return _one("accuracy:k=1", scores, labels, kind)["top1"]


def top_k_accuracy(scores, labels, k: int = 5, kind: str = "logits") -> float:
    """Top-k accuracy, TensorFlow ``in_top_k`` semantics: the label counts when fewer than k
    classes score strictly higher."""
    k = int(k)
    return _one(f"accuracy:k={k}", scores, labels, kind)["top1_in_top_k" if k == 1 else f"top{k}"]


def nll(scores, labels, kind: str = "logits") -> float:
    """Mean negative log-likelihood of the label (natural log)."""
    return _one("nll", scores, labels, kind)["nll"]


def brier(scores, labels, kind: str = "logits") -> float:
    """Mean Brier score summed over classes, Σ_i (p_i − [i = label])²."""
    return _one("brier", scores, labels, kind)["brier"]


def agreement(shifted_scores, clean_predictions, kind: str = "logits") -> dict[str, float]:
    """Label-free robustness: the fraction of examples whose top-1 on the shifted input equals
    the prediction on the clean input (``agreement``) and ``flip_rate`` = 1 − agreement."""
    return _one("agreement", shifted_scores, clean_predictions, kind)


def _spec(name: str, **options) -> str:
    opts = ",".join(f"{k}={int(v) if isinstance(v, bool) else v}" for k, v in options.items() if v is not None)
    return f"{name}:{opts}" if opts else name


def ece(scores, labels, bins: int = 15, kind: str = "logits", weighted: bool = True) -> float:
    """Expected calibration error with ``bins`` equal-width bins on the max probability; the
    bins are weighted by their share of examples (``weighted=False``: mean over non-empty bins)."""
    r = _one(_spec("ece", bins=bins), scores, labels, kind)
    return r["ece"] if weighted else r["ece_unweighted"]


def rms_calibration_error(scores, labels, kind: str = "logits", **options) -> float:
    """Hendrycks' RMS calibration error (adaptive bins of 100 sorted examples); options as the
    ``rms_calibration`` spec (see the README)."""
    r = _one(_spec("rms_calibration", **options), scores, labels, kind)
    return r["rms_calibration"]


def gce(scores, labels, kind: str = "logits", **options) -> float:
    """robustness_metrics' general calibration error; options as the ``gce`` spec
    (binning, bins, norm, class_conditional, threshold)."""
    return _one(_spec("gce", **options), scores, labels, kind)["gce"]


def aurra(scores, labels, kind: str = "logits") -> float:
    """Area under the response-rate–accuracy curve (selective prediction by confidence)."""
    return _one("aurra", scores, labels, kind)["aurra"]


def ood_detection(in_scores, out_scores, kind: str = "logits") -> dict[str, float]:
    """OOD detection from the maximum softmax probability of in-distribution (``in_scores``)
    and out-of-distribution (``out_scores``) examples; the result names are those of the
    ``ood`` accumulator (see the README)."""
    a = np.asarray(in_scores)
    b = np.asarray(out_scores)
    with Accumulator("ood") as acc:
        acc.add(a, np.zeros(len(a), np.int64), kind)
        acc.add(b, np.ones(len(b), np.int64), kind)
        return acc.result()


def fit_temperature(logits, labels) -> float:
    """The temperature T > 0 minimising the NLL of softmax(logits / T) (fit on held-out data)."""
    s, y = _scores_labels(logits, labels, "logits")
    t = ctypes.c_double()
    _lib.lib.stalwart_temperature_fit(s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), s.shape[0], s.shape[1],
                                      y.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), ctypes.byref(t))
    return t.value


def mce(table: Mapping[str, Sequence[float]], clean_accuracy: float | None = None,
        baseline: Mapping[str, float] | None = None, baseline_clean_error: float | None = None) -> dict:
    """mCE and relative mCE. ``table`` maps each corruption name to the model's 5 per-severity
    top-1 accuracies; ``clean_accuracy`` (needed for the relative values) is its clean top-1;
    ``baseline`` maps names to the baseline's error averaged over severities (default AlexNet's,
    :data:`ALEXNET_ERRORS`, with clean error :data:`ALEXNET_CLEAN_ERROR`). Returns ``mce``,
    ``relative_mce`` and per corruption ``ce`` and ``relative_ce`` dicts."""
    names = list(table)
    if not names:
        raise InvalidArgument("mce needs at least one corruption")
    acc = np.ascontiguousarray([list(table[n]) for n in names], dtype=np.float64)
    if acc.shape != (len(names), 5):
        raise InvalidArgument(f"each corruption needs 5 per-severity accuracies, got shape {acc.shape}")
    c_names = (ctypes.c_char_p * len(names))(*[n.encode() for n in names])
    base_ptr, base_clean = None, float("nan")
    if baseline is not None:
        missing = [n for n in names if n not in baseline]
        if missing:
            raise InvalidArgument(f"no baseline error for {missing}")
        base = np.ascontiguousarray([baseline[n] for n in names], dtype=np.float64)
        base_ptr = base.ctypes.data_as(_dp)
        if baseline_clean_error is None:
            raise InvalidArgument("a baseline needs baseline_clean_error")
        base_clean = float(baseline_clean_error)
    out_mce, out_rel = ctypes.c_double(), ctypes.c_double()
    ce = np.empty(len(names)); rel = np.empty(len(names))
    _lib.lib.stalwart_mce(c_names, acc.ctypes.data_as(_dp), len(names),
                          float("nan") if clean_accuracy is None else float(clean_accuracy), base_ptr, base_clean,
                          ctypes.byref(out_mce), ctypes.byref(out_rel), ce.ctypes.data_as(_dp), rel.ctypes.data_as(_dp))
    return {"mce": out_mce.value, "relative_mce": out_rel.value,
            "ce": dict(zip(names, ce.tolist())), "relative_ce": dict(zip(names, rel.tolist()))}


def pm_k(anchor_correct: Sequence[bool], neighbors: Iterable[tuple[int, int, bool]], k: int) -> float:
    """pm-k of ImageNet-Vid-Robust / YTBB-Robust: ``neighbors`` yields (anchor index, frame
    offset, correct) for every reviewed neighbour; an anchor counts only if it and all its
    neighbours with |offset| ≤ k are correct. pm-0 is anchor accuracy."""
    a = np.ascontiguousarray(np.asarray(anchor_correct, dtype=bool), dtype=np.uint8)
    nb = list(neighbors)
    na = np.ascontiguousarray([int(x[0]) for x in nb] or [0], dtype=np.int64)
    no = np.ascontiguousarray([int(x[1]) for x in nb] or [0], dtype=np.int64)
    nc = np.ascontiguousarray([bool(x[2]) for x in nb] or [0], dtype=np.uint8)
    out = ctypes.c_double()
    u8 = ctypes.POINTER(ctypes.c_uint8); i64 = ctypes.POINTER(ctypes.c_int64)
    _lib.lib.stalwart_pm_k(a.ctypes.data_as(u8), a.size, na.ctypes.data_as(i64), no.ctypes.data_as(i64),
                           nc.ctypes.data_as(u8), len(nb), int(k), ctypes.byref(out))
    return out.value


def factor_accuracy(factor, correct) -> dict:
    """Accuracy per distinct factor value (SI-Score: object area, angle or location cell) and
    the mean over values: ``{"values", "accuracy", "counts", "mean"}``."""
    f = np.ascontiguousarray(factor, dtype=np.float64).ravel()
    c = np.ascontiguousarray(np.asarray(correct, dtype=bool).ravel(), dtype=np.uint8)
    if f.size != c.size:
        raise InvalidArgument(f"{f.size} factor values for {c.size} results")
    groups, mean = ctypes.c_size_t(), ctypes.c_double()
    u8 = ctypes.POINTER(ctypes.c_uint8)
    _lib.lib.stalwart_factor_accuracy(f.ctypes.data_as(_dp), c.ctypes.data_as(u8), f.size, None, None, None, 0,
                                      ctypes.byref(groups), ctypes.byref(mean))
    g = groups.value
    values, acc, counts = np.empty(g), np.empty(g), np.empty(g, np.int64)
    _lib.lib.stalwart_factor_accuracy(f.ctypes.data_as(_dp), c.ctypes.data_as(u8), f.size, values.ctypes.data_as(_dp),
                                      acc.ctypes.data_as(_dp), counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), g,
                                      ctypes.byref(groups), ctypes.byref(mean))
    return {"values": values, "accuracy": acc, "counts": counts, "mean": mean.value}


def effective_robustness(reference_clean, reference_shifted, clean: float, shifted: float) -> dict:
    """Effective robustness: ``shifted`` minus the prediction of a linear fit in logit space
    through the reference models' (clean, shifted) accuracies. Returns value, slope, intercept."""
    rc = np.ascontiguousarray(reference_clean, dtype=np.float64)
    rs = np.ascontiguousarray(reference_shifted, dtype=np.float64)
    if rc.shape != rs.shape or rc.ndim != 1:
        raise InvalidArgument("reference accuracies must be two 1-D arrays of the same length")
    v, a, b = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    _lib.lib.stalwart_effective_robustness(rc.ctypes.data_as(_dp), rs.ctypes.data_as(_dp), rc.size, float(clean),
                                           float(shifted), ctypes.byref(v), ctypes.byref(a), ctypes.byref(b))
    return {"value": v.value, "slope": a.value, "intercept": b.value}


_MERGES = {None: 0, "max": 1, "mean": 2, "sum": 3}


class LabelSpace:
    """A dataset's label space as sets of ImageNet-1k indices (sources in
    data/labelspaces/README.md): ``name``, ``classes`` (class names), ``members`` (per class the
    list of ImageNet indices)."""

    def __init__(self, name: str):
        n = ctypes.c_size_t()
        _lib.lib.stalwart_labelspace_classes(name.encode(), ctypes.byref(n))
        self.name = name
        self.classes = []
        self.members = []
        for i in range(n.value):
            p = ctypes.c_char_p()
            _lib.lib.stalwart_labelspace_class_name(name.encode(), i, ctypes.byref(p))
            self.classes.append(p.value.decode())
            count = ctypes.c_size_t()
            _lib.lib.stalwart_labelspace_members(name.encode(), i, None, 0, ctypes.byref(count))
            ids = (ctypes.c_int64 * max(count.value, 1))()
            _lib.lib.stalwart_labelspace_members(name.encode(), i, ids, count.value, ctypes.byref(count))
            self.members.append(list(ids)[: count.value])

    def __len__(self):
        return len(self.classes)

    def project(self, scores, kind: str = "logits", merge: str | None = None,
                unmapped_value: float = float("-inf")) -> np.ndarray:
        """(n, 1000) ImageNet scores → (n, classes). Logits: per class the ``merge`` ("max"
        default, "mean", "sum") of its members' logits, ``unmapped_value`` for classes without
        members. Probabilities: renormalised slice for the 200-class and SI-Score subsets, mean
        for model_vs_human_16, else the merge (max default)."""
        if kind not in _KINDS or merge not in _MERGES:
            raise InvalidArgument(f"kind must be one of {tuple(_KINDS)} and merge one of {tuple(_MERGES)}")
        s = np.ascontiguousarray(scores, dtype=np.float32)
        if s.ndim != 2:
            raise InvalidArgument(f"scores must be (n, 1000), got shape {s.shape}")
        out = np.empty((s.shape[0], len(self)), np.float32)
        fp = ctypes.POINTER(ctypes.c_float)
        _lib.lib.stalwart_labelspace_project(self.name.encode(), s.ctypes.data_as(fp), s.shape[0], s.shape[1],
                                             _KINDS[kind], _MERGES[merge], float(unmapped_value),
                                             out.ctypes.data_as(fp), out.size)
        return out

    def predict(self, scores) -> np.ndarray:
        """Per row the class owning the argmax over the union of the space's ImageNet ids
        (ObjectNet's protocol)."""
        s = np.ascontiguousarray(scores, dtype=np.float32)
        if s.ndim != 2:
            raise InvalidArgument(f"scores must be (n, 1000), got shape {s.shape}")
        out = np.empty(s.shape[0], np.int64)
        _lib.lib.stalwart_labelspace_predict(self.name.encode(), s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                             s.shape[0], s.shape[1], out.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                                             out.size)
        return out

    def is_correct(self, predictions_1000, labels) -> np.ndarray:
        """Whether each 1000-way prediction falls in the member set of its label's class."""
        sets = [set(m) for m in self.members]
        return np.array([int(p) in sets[int(y)] for p, y in zip(np.ravel(predictions_1000), np.ravel(labels))])


def label_space_names() -> list[str]:
    """The built-in label spaces."""
    return [_lib.lib.stalwart_labelspace_name(i).decode() for i in range(_lib.lib.stalwart_labelspace_count())]
