"""Which pair a participant hears when, and which system plays on side A.

Sides are balanced per participant: walking the pairs chart by chart (shuffled inside each chart),
side A alternates between the systems from a random start, so each system is A in half of the
participant's pairs (within one when the count is odd) and in half of each chart's pairs as far as
possible. The playing order is then shuffled. Everything is drawn from one generator seeded by the
test's seed and the participant's token, so the same participant always gets the same sequence.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """One pair in one participant's sequence."""

    pair_id: int
    position: int          # 0-based playing order
    system_1_on_a: bool    # True: the test's first system plays on side A


def participant_rng(test_seed: int, participant_token: str) -> random.Random:
    """A generator that depends only on the test's seed and the participant's token."""
    digest = hashlib.sha256(f"{int(test_seed)}:{participant_token}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def assign(pairs: list[tuple[int, int]], test_seed: int, participant_token: str) -> list[Assignment]:
    """Order and sides for one participant.

    Args:
        pairs: (pair_id, chart_index) for every pair of the test.
    Returns:
        One Assignment per pair, sorted by position.
    """
    rng = participant_rng(test_seed, participant_token)
    by_chart: dict[int, list[int]] = {}
    for pair_id, chart_index in sorted(pairs):
        by_chart.setdefault(chart_index, []).append(pair_id)
    walk: list[int] = []
    for chart_index in sorted(by_chart):
        group = by_chart[chart_index]
        rng.shuffle(group)
        walk.extend(group)
    start = rng.randrange(2)
    sides = {pair_id: (start + i) % 2 == 0 for i, pair_id in enumerate(walk)}
    order = list(walk)
    rng.shuffle(order)
    return [Assignment(pair_id, position, sides[pair_id]) for position, pair_id in enumerate(order)]
