"""Balanced sides and random order, checked over many random test shapes."""
from __future__ import annotations

import random
from collections import Counter

from pipelines.listen.randomise import assign


def test_sides_balance_for_any_shape_of_test():
    shapes = random.Random(3)
    for trial in range(300):
        charts = shapes.randint(1, 6)
        pairs = [(pair_id, chart) for chart in range(charts) for pair_id in
                 range(chart * 100, chart * 100 + shapes.randint(1, 7))]
        plan = assign(pairs, test_seed=trial, participant_token=f"token-{trial}")
        assert sorted(a.pair_id for a in plan) == sorted(p for p, _ in pairs)    # every pair once
        assert [a.position for a in plan] == list(range(len(pairs)))
        on_a = sum(a.system_1_on_a for a in plan)
        assert abs(2 * on_a - len(pairs)) <= 1                                   # half, within one
        chart_of = dict(pairs)
        for chart in range(charts):
            sides = [a.system_1_on_a for a in plan if chart_of[a.pair_id] == chart]
            assert abs(2 * sum(sides) - len(sides)) <= 1                         # per chart too


def test_same_participant_same_plan_other_participant_other_plan():
    pairs = [(i, i // 4) for i in range(12)]
    first = assign(pairs, 7, "alice")
    assert assign(pairs, 7, "alice") == first                  # resumable: nothing random is stored twice
    assert assign(pairs, 8, "alice") != first                  # the test's seed matters
    orders = Counter(tuple(a.pair_id for a in assign(pairs, 7, f"p{i}")) for i in range(200))
    assert len(orders) == 200                                  # 12! orders: no two participants alike
    first_pairs = Counter(assign(pairs, 7, f"p{i}")[0].pair_id for i in range(1200))
    assert min(first_pairs.values()) > 50                      # every pair gets to open a session (~100 each)
