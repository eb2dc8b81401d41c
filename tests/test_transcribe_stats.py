"""Bootstrap intervals over tracks: paired differences, their width, the degenerate cases."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from pipelines.transcribe.stats import mean_ci, paired_difference_ci


def test_a_paired_interval_is_the_bootstrap_of_the_per_track_differences():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.3, 0.7, 20)
    b = a + 0.05 + rng.normal(0, 0.02, 20)  # b beats a by about 0.05 on every track
    ci = paired_difference_ci(list(a), list(b))
    assert ci["n"] == 20 and ci["method"] == "BCa"
    assert ci["mean"] == pytest.approx(float(np.mean(b - a)))
    assert 0.0 < ci["low"] < ci["mean"] < ci["high"] < 0.1
    # pairing matters: the unpaired spread of a alone is far wider than the paired interval
    unpaired = mean_ci(list(b))["high"] - mean_ci(list(b))["low"]
    assert ci["high"] - ci["low"] < unpaired / 3
    # the same interval as scipy's one-sample bootstrap of the differences, with the same draws
    same = scipy_stats.bootstrap((b - a,), np.mean, method="BCa", n_resamples=9999,
                                 random_state=np.random.default_rng(0))
    assert ci["low"] == pytest.approx(same.confidence_interval.low, abs=1e-9)
    assert ci["high"] == pytest.approx(same.confidence_interval.high, abs=1e-9)


def test_intervals_narrow_as_tracks_are_added():
    rng = np.random.default_rng(2)
    diffs = rng.normal(0.05, 0.1, 64)
    widths = [paired_difference_ci([0.0] * n, list(diffs[:n])) for n in (8, 64)]
    assert widths[1]["high"] - widths[1]["low"] < widths[0]["high"] - widths[0]["low"]


def test_missing_scores_constant_differences_and_single_tracks():
    ci = paired_difference_ci([0.5, None, 0.4, 0.6], [0.7, 0.9, None, 0.8])
    assert ci["n"] == 2 and ci["mean"] == pytest.approx(0.2)  # only the tracks both sides scored
    assert ci["method"] == "constant" and ci["low"] == ci["high"] == pytest.approx(0.2)
    one = paired_difference_ci([0.5], [0.6])
    assert one["n"] == 1 and one["low"] is None and one["high"] is None
    none = mean_ci([None, None])
    assert none == {"mean": None, "low": None, "high": None, "n": 0, "method": None}
