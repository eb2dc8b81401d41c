"""Bootstrap confidence intervals over tracks (scipy.stats.bootstrap).

A difference between two sides is paired: each resample draws tracks, and both sides' scores of a
drawn track go together, so what a hard track costs both sides cancels. BCa intervals where scipy
can form them; percentile intervals where BCa is undefined (every resample equal, or too few
tracks), and the method used is reported with the interval.
"""
from __future__ import annotations

import warnings

import numpy as np

CONFIDENCE = 0.95
N_RESAMPLES = 9999
SEED = 0  # fixed: the same tracks give the same interval
EQUAL = 1e-12  # values closer than this are one value (no interval to draw)


def _mean(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(samples[0], axis=axis)


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(b - a, axis=axis)


def _interval(data: tuple, statistic, paired: bool, n_resamples: int, seed: int) -> tuple:
    from scipy.stats import bootstrap

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's DegenerateDataWarning: handled below
            res = bootstrap(data, statistic, paired=paired, vectorized=True, method=method,
                            confidence_level=CONFIDENCE, n_resamples=n_resamples,
                            random_state=np.random.default_rng(seed))
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            return low, high, method
    return None, None, None


def mean_ci(values: list[float], n_resamples: int = N_RESAMPLES, seed: int = SEED) -> dict:
    """Mean of ``values`` (None skipped) with its bootstrap 95 % interval over the values."""
    kept = np.asarray([v for v in values if v is not None], dtype=np.float64)
    out = {"mean": float(kept.mean()) if kept.size else None, "low": None, "high": None,
           "n": int(kept.size), "method": None}
    if kept.size >= 2 and np.ptp(kept) > EQUAL:
        out["low"], out["high"], out["method"] = _interval((kept,), _mean, False, n_resamples, seed)
    elif kept.size >= 2:  # every value equal: the interval is that value
        out.update(low=out["mean"], high=out["mean"], method="constant")
    return out


def paired_difference_ci(a: list[float | None], b: list[float | None],
                         n_resamples: int = N_RESAMPLES, seed: int = SEED) -> dict:
    """Mean of ``b - a`` over the pairs where both are known, with a paired bootstrap 95 % interval."""
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    x = np.asarray([p[0] for p in pairs], dtype=np.float64)
    y = np.asarray([p[1] for p in pairs], dtype=np.float64)
    out = {"mean": float(np.mean(y - x)) if pairs else None, "low": None, "high": None,
           "n": len(pairs), "method": None}
    if len(pairs) >= 2 and np.ptp(y - x) > EQUAL:
        out["low"], out["high"], out["method"] = _interval((x, y), _mean_difference, True,
                                                           n_resamples, seed)
    elif len(pairs) >= 2:
        out.update(low=out["mean"], high=out["mean"], method="constant")
    return out
