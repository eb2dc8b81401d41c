"""Honest statistics for a two-system preference test.

* Preference rate of each system over the decisive (non-tie) votes, with a Wilson score interval
  (Wilson 1927; it keeps its coverage near 0 and 1 and for small n, unlike the Wald interval).
* A two-sided exact sign test (binomial, p = 0.5) on the decisive votes; ties are counted and
  reported separately, never split or dropped silently. Both are scipy's ``binomtest``.
* The same per chart and per participant, a participant-level sign test (each participant's
  majority counts once, which does not assume that one person's votes are independent), and a
  side check: how often side A won, to show a position bias.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from fractions import Fraction

from ..common.errors import StudioError

ALPHA = 0.05


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (scipy's); (0, 1) when there are no trials."""
    if not 0 < confidence < 1:
        raise StudioError(f"confidence must be between 0 and 1 (got {confidence})")
    _check_counts(successes, trials)
    if trials == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    ci = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    low = 0.0 if successes == 0 else max(0.0, float(ci.low))      # exact at the edges, where
    high = 1.0 if successes == trials else min(1.0, float(ci.high))  # rounding leaves 1e-17
    return low, high


def sign_test(successes: int, trials: int) -> float:
    """Two-sided exact binomial test of p = 0.5 (scipy's binomtest): the p-value (1.0 when there
    are no trials)."""
    _check_counts(successes, trials)
    if trials == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(successes, trials, 0.5, alternative="two-sided").pvalue)


def _check_counts(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= trials:
        raise StudioError(f"successes must be 0-{trials} and trials >= 0 (got {successes} of {trials})")


@dataclass(frozen=True)
class Tally:
    """Votes of one group (all, one chart, one participant) between system 1 and system 2."""

    wins_1: int = 0
    wins_2: int = 0
    ties: int = 0
    side_a_wins: int = 0   # decisive votes that went to whatever played on side A

    @property
    def votes(self) -> int:
        return self.wins_1 + self.wins_2 + self.ties

    @property
    def decisive(self) -> int:
        return self.wins_1 + self.wins_2

    def add(self, winner: int | None, choice: str) -> "Tally":
        """This tally with one more vote (winner 1, 2 or None for a tie; choice A, B or tie)."""
        return Tally(self.wins_1 + (winner == 1), self.wins_2 + (winner == 2),
                     self.ties + (winner is None), self.side_a_wins + (choice == "A"))


@dataclass(frozen=True)
class Summary:
    """A tally turned into rates, intervals and a p-value."""

    votes: int
    decisive: int
    ties: int
    wins_1: int
    wins_2: int
    rate_1: float | None        # share of decisive votes for system 1 (None with no decisive votes)
    rate_1_low: float
    rate_1_high: float
    rate_2: float | None
    rate_2_low: float
    rate_2_high: float
    tie_rate: float | None      # share of all votes that were ties
    p_value: float              # two-sided exact sign test on the decisive votes
    side_a_rate: float | None   # share of decisive votes that went to side A
    side_p_value: float         # sign test of side A against side B

    def as_dict(self) -> dict:
        return asdict(self)


def summarise(tally: Tally, confidence: float = 0.95) -> Summary:
    """Rates with Wilson intervals and the sign test for one tally."""
    low_1, high_1 = wilson_interval(tally.wins_1, tally.decisive, confidence)
    low_2, high_2 = wilson_interval(tally.wins_2, tally.decisive, confidence)
    decisive = tally.decisive
    return Summary(
        votes=tally.votes, decisive=decisive, ties=tally.ties, wins_1=tally.wins_1, wins_2=tally.wins_2,
        rate_1=tally.wins_1 / decisive if decisive else None, rate_1_low=low_1, rate_1_high=high_1,
        rate_2=tally.wins_2 / decisive if decisive else None, rate_2_low=low_2, rate_2_high=high_2,
        tie_rate=tally.ties / tally.votes if tally.votes else None,
        p_value=sign_test(tally.wins_1, decisive),
        side_a_rate=tally.side_a_wins / decisive if decisive else None,
        side_p_value=sign_test(tally.side_a_wins, decisive),
    )


def participant_majorities(tallies: list[Tally]) -> dict:
    """Each participant with decisive votes counts once, for the system they preferred more often."""
    prefer_1 = sum(1 for t in tallies if t.wins_1 > t.wins_2)
    prefer_2 = sum(1 for t in tallies if t.wins_2 > t.wins_1)
    even = sum(1 for t in tallies if t.decisive and t.wins_1 == t.wins_2)
    return {"prefer_1": prefer_1, "prefer_2": prefer_2, "even": even,
            "p_value": sign_test(prefer_1, prefer_1 + prefer_2)}


@functools.lru_cache(maxsize=4096)  # exact big-integer sums: a results page asks for the same counts
def rejection_cut(trials: int, alpha: float = ALPHA) -> int:
    """The two-sided exact sign test over ``trials`` rejects when fewer than ``cut`` (or more than
    ``trials - cut``) votes go one way; 0 when no outcome can be significant."""
    level = Fraction(alpha)  # exact: p = 2 * tail / 2^n >= alpha  <=>  2 * tail * den >= num * 2^n
    bound = level.numerator * 2 ** trials
    term, tail, cut = 1, 0, 0  # term = C(trials, cut), updated in place; the p-value grows as k nears n/2
    while 2 * cut < trials:
        tail += term
        if 2 * tail * level.denominator >= bound:
            break
        term = term * (trials - cut) // (cut + 1)
        cut += 1
    return cut


def sign_test_power(trials: int, rate: float, alpha: float = ALPHA) -> float:
    """The chance that the two-sided sign test at ``alpha`` finds a preference of ``rate`` (the
    share of decisive votes that go to one system) over ``trials`` decisive votes."""
    from scipy.stats import binom

    cut = rejection_cut(trials, alpha)
    if cut == 0:
        return 0.0
    # P(k < cut) + P(k > trials - cut) for k ~ Binomial(trials, rate)
    return float(binom.cdf(cut - 1, trials, rate) + binom.sf(trials - cut, trials, rate))


def votes_needed(rate: float = 0.6, alpha: float = ALPHA, power: float = 0.8, most: int = 5000) -> int:
    """The fewest decisive votes at which the two-sided sign test finds a ``rate`` preference (60/40
    by default) with ``power``, and keeps doing so for every larger count up to 20 more (the exact
    test's power zigzags with the count, so the first count that reaches it can be followed by one
    that does not)."""
    if not 0.5 < rate < 1.0:
        raise StudioError(f"rate must be between 0.5 and 1 (got {rate})")
    hits = 0
    for trials in range(1, most + 1):
        hits = hits + 1 if sign_test_power(trials, rate, alpha) >= power else 0
        if hits == 21:
            return trials - 20
    raise StudioError(f"more than {most} votes would be needed to find a {rate:.0%} preference")


def detectable_rate(trials: int, alpha: float = ALPHA, power: float = 0.8) -> float | None:
    """The smallest preference rate (above 0.5) the two-sided sign test finds with ``power`` at
    ``alpha`` over ``trials`` decisive votes; None when no rate can be (too few votes)."""
    if trials <= 0 or sign_test_power(trials, 1.0, alpha) < power:
        return None
    low, high = 0.5, 1.0
    for _ in range(40):  # bisection: the power grows with the rate above 0.5
        middle = (low + high) / 2
        low, high = (middle, high) if sign_test_power(trials, middle, alpha) < power else (low, middle)
    return high


def verdict(summary: Summary, system_1: str, system_2: str, alpha: float = ALPHA) -> str:
    """One plain sentence on what the votes do and do not show."""
    if summary.decisive == 0:
        return (f"No decisive votes yet ({summary.ties} ties); nothing can be said about "
                f"{system_1} against {system_2}.")
    leader, wins, rate, low, high = (
        (system_1, summary.wins_1, summary.rate_1, summary.rate_1_low, summary.rate_1_high)
        if summary.wins_1 >= summary.wins_2 else
        (system_2, summary.wins_2, summary.rate_2, summary.rate_2_low, summary.rate_2_high))
    text = (f"{leader} was preferred in {wins} of {summary.decisive} decisive votes "
            f"({rate:.0%}, 95% CI {low:.0%}-{high:.0%}), with {summary.ties} "
            f"{'tie' if summary.ties == 1 else 'ties'}; "
            f"two-sided sign test p = {summary.p_value:.3g}")
    if summary.p_value < alpha:
        return text + f": a real preference at the {alpha:.0%} level."
    detectable = detectable_rate(summary.decisive, alpha)
    reach = (f"; with {summary.decisive} decisive votes only a preference of {detectable:.0%} or stronger "
             "would show reliably" if detectable else "; too few votes for any preference to show")
    return text + (f": not significant at the {alpha:.0%} level, so the listeners could not "
                   f"reliably tell a preference{reach}.")
