"""Which pair a participant hears when, and which system plays on side A.

Sides are balanced per participant and pair of systems: walking a pair of systems' pairs chart by
chart (shuffled inside each chart), side A alternates between the two systems from a random start,
so each system is A in half of the participant's pairs with the other (within one when the count is
odd) and in half of each chart's pairs as far as possible. The playing order is then shuffled, and
the hidden checks are slipped in: catch pairs anywhere but first, with the original on A in half of
them; each repeat at least ``MIN_REPEAT_GAP`` pairs after its first hearing, sides swapped.
Everything is drawn from one generator seeded by the test's seed and the participant's token, so the
same participant always gets the same sequence.
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


@dataclass(frozen=True, order=True)
class PairSpec:
    """What ``assign`` needs to know of one pair of a test."""

    pair_id: int
    chart_index: int
    systems: tuple[str, str] = ("1", "2")   # which systems (any stable key): sides balance per key
    kind: str = "main"                      # main, repeat or catch
    repeat_of: int | None = None            # for a repeat: the pair it repeats


MIN_REPEAT_GAP = 3  # a repeat comes at least this many pairs after its first hearing, where it can


def assign(pairs: list[tuple[int, int]] | list[PairSpec], test_seed: int,
           participant_token: str) -> list[Assignment]:
    """Order and sides for one participant.

    Args:
        pairs: a PairSpec, or (pair_id, chart_index) for a plain pair, for every pair of the test.
    Returns:
        One Assignment per pair, sorted by position. ``system_1_on_a`` is about the pair's first clip:
        a catch pair's original is A in half of a participant's catch trials, a repeat plays with
        the sides of its first hearing swapped.
    """
    specs = [p if isinstance(p, PairSpec) else PairSpec(int(p[0]), int(p[1])) for p in pairs]
    rng = participant_rng(test_seed, participant_token)
    by_group: dict[tuple, list[int]] = {}
    for spec in sorted(s for s in specs if s.kind == "main"):
        by_group.setdefault((spec.systems, spec.chart_index), []).append(spec.pair_id)
    walks: dict[tuple, list[int]] = {}
    for systems, chart_index in sorted(by_group):
        group = by_group[(systems, chart_index)]
        rng.shuffle(group)
        walks.setdefault(systems, []).extend(group)
    sides: dict[int, bool] = {}
    order: list[int] = []
    for systems in sorted(walks):
        start = rng.randrange(2)
        sides.update({pair_id: (start + i) % 2 == 0 for i, pair_id in enumerate(walks[systems])})
        order.extend(walks[systems])
    rng.shuffle(order)
    _slip_in_checks(specs, order, sides, rng)
    return [Assignment(pair_id, position, sides[pair_id]) for position, pair_id in enumerate(order)]


def _slip_in_checks(specs: list[PairSpec], order: list[int], sides: dict[int, bool],
                    rng: random.Random) -> None:
    """Insert the catch and repeat pairs into ``order`` and give them sides (both in place)."""
    main_ids = set(order)
    catches = sorted(s.pair_id for s in specs if s.kind == "catch")
    start = rng.randrange(2) if catches else 0
    for i, pair_id in enumerate(catches):
        sides[pair_id] = (start + i) % 2 == 0
        order.insert(rng.randint(min(1, len(order)), len(order)), pair_id)
    placed: set[int] = set()   # originals whose repeat is in the order already
    for spec in sorted(s for s in specs if s.kind == "repeat"):
        sides[spec.pair_id] = not sides[spec.repeat_of]
        at = order.index(spec.repeat_of)
        if at + MIN_REPEAT_GAP >= len(order):  # too near the end: trade places with an earlier pair
            movable = [i for i in range(len(order) - MIN_REPEAT_GAP)
                       if order[i] in main_ids and order[i] not in placed and i != at]
            if movable:
                other = rng.choice(movable)
                order[at], order[other] = order[other], order[at]
                at = other
        order.insert(rng.randint(min(at + MIN_REPEAT_GAP + 1, len(order)), len(order)), spec.pair_id)
        placed.add(spec.repeat_of)
