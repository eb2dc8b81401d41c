"""Listening-test statistics against known data and against scipy."""
from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from pipelines.common.errors import StudioError
from pipelines.listen.stats import (Tally, detectable_rate, participant_majorities, sign_test, summarise,
                                    verdict, wilson_interval)


@pytest.mark.parametrize("k,n", [(0, 0), (0, 1), (1, 1), (0, 10), (3, 10), (5, 10), (7, 10), (10, 10),
                                 (14, 20), (15, 20), (1, 3), (50, 120), (60, 120), (81, 150), (200, 333)])
def test_sign_test_matches_the_exact_two_tailed_sum(k, n):
    # p = 0.5 is symmetric, so the outcomes at most as likely as k are the two tails beyond it
    tail = min(k, n - k)
    expected = min(1.0, 2 * sum(math.comb(n, i) for i in range(tail + 1)) / 2 ** n)
    assert sign_test(k, n) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (14, 20), (1, 3), (81, 150), (500, 1000)])
def test_wilson_interval_matches_the_closed_form(k, n):
    z, p = 1.959963984540054, k / n  # the two-sided 95% normal quantile
    centre, half = (p + z * z / (2 * n)), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    expected = ((centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n))
    assert wilson_interval(k, n) == pytest.approx(expected, abs=1e-9)


def test_wilson_known_values_and_edges():
    # 14 of 20: the textbook value (Newcombe 1998 style table) 0.4810-0.8545
    low, high = wilson_interval(14, 20)
    assert round(low, 4) == 0.4810 and round(high, 4) == 0.8545
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 5)
    assert low == 0.0 and 0 < high < 1
    with pytest.raises(StudioError, match="successes must be"):
        wilson_interval(6, 5)
    with pytest.raises(StudioError, match="confidence"):
        wilson_interval(1, 5, confidence=1.5)


def test_summary_counts_ties_apart_from_the_sign_test():
    tally = Tally()
    for winner, choice in [(1, "A")] * 9 + [(2, "B")] * 3 + [(None, "tie")] * 4 + [(1, "B")] * 2:
        tally = tally.add(winner, choice)
    summary = summarise(tally)
    assert (summary.votes, summary.decisive, summary.ties) == (18, 14, 4)
    assert (summary.wins_1, summary.wins_2) == (11, 3)
    assert summary.rate_1 == pytest.approx(11 / 14) and summary.rate_2 == pytest.approx(3 / 14)
    assert summary.tie_rate == pytest.approx(4 / 18)
    assert summary.p_value == pytest.approx(binomtest(11, 14).pvalue)
    assert summary.side_a_rate == pytest.approx(9 / 14)
    assert summary.rate_1_low == pytest.approx(1 - summary.rate_2_high)  # the intervals mirror each other
    assert "not significant" not in verdict(summary, "x", "y") or summary.p_value >= 0.05


def test_verdict_is_honest_about_small_samples():
    small = summarise(Tally(wins_1=4, wins_2=1, ties=2))
    assert "not significant" in verdict(small, "rules", "default")
    big = summarise(Tally(wins_1=40, wins_2=10))
    text = verdict(big, "rules", "default")
    assert text.startswith("rules was preferred in 40 of 50") and "real preference" in text
    assert "No decisive votes" in verdict(summarise(Tally(ties=3)), "rules", "default")
    assert summarise(Tally()).rate_1 is None and summarise(Tally()).p_value == 1.0


def test_participant_majorities_count_each_person_once():
    tallies = [Tally(wins_1=5, wins_2=0), Tally(wins_1=3, wins_2=1), Tally(wins_1=1, wins_2=1),
               Tally(wins_1=0, wins_2=2)]
    majorities = participant_majorities(tallies)
    assert majorities == {"prefer_1": 2, "prefer_2": 1, "even": 1,
                          "p_value": pytest.approx(binomtest(2, 3).pvalue)}


def test_sign_test_is_exact_for_large_n():
    # far in the tail, where a normal approximation would be off by orders of magnitude
    assert sign_test(0, 60) == pytest.approx(2 * 0.5 ** 60, rel=1e-12)
    assert math.isclose(sign_test(500, 1000), 1.0)


@pytest.mark.parametrize("n", [5, 6, 10, 20, 40, 100])
def test_detectable_rate_has_the_power_it_claims(n):
    from scipy.stats import binom

    rate = detectable_rate(n)
    if n < 6:  # 5 votes: even 5-0 gives p = 0.0625, nothing can be significant
        assert rate is None
        return
    rejected = [k for k in range(n + 1) if binomtest(k, n).pvalue < 0.05]
    power = sum(binom.pmf(k, n, rate) for k in rejected)
    assert power == pytest.approx(0.8, abs=1e-6)
    assert sum(binom.pmf(k, n, rate - 0.01) for k in rejected) < 0.8
    assert detectable_rate(4 * n) < rate  # more votes resolve smaller preferences
