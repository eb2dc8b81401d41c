"""Plays before votes, hidden checks in every sequence, screening, the ranking, the plan, the export."""
from __future__ import annotations

import csv
import random
import time

import pytest
from scipy.stats import binom, binomtest
from test_listen_store import make_test

from pipelines.common.errors import StudioError
from pipelines.listen import (NotListened, export_csv, figures_from_export, join, progress, record_play,
                              results, vote)
from pipelines.listen.plays import side_listening
from pipelines.listen.randomise import MIN_REPEAT_GAP, PairSpec, assign
from pipelines.listen.ranking import bradley_terry, holm
from pipelines.listen.stats import sign_test_power, votes_needed
from pipelines.listen.store import connect, listen_dir, schema_version


def hear(test_id: str, token: str, pair_id: int, clip_s: float = 0.5) -> None:
    """Play both sides to the end, as the page reports it, in real time."""
    for side in ("A", "B"):
        record_play(test_id, token, pair_id, side, "play")
        time.sleep(clip_s)
        record_play(test_id, token, pair_id, side, "ended")


def test_a_vote_before_both_clips_were_played_is_refused_with_a_sentence():
    test_id = make_test(min_play_s=0.0)
    token = join(test_id)
    pair = progress(test_id, token).next_pair.pair_id
    with pytest.raises(NotListened, match=r"^Before voting: A has not been played yet and B has not been "
                                          r"played yet\.$"):
        vote(test_id, token, pair, "A")
    record_play(test_id, token, pair, "A", "play")
    forged = record_play(test_id, token, pair, "A", "ended")  # an end the server did not hear happen
    assert forged["missing"].startswith("Before voting: A must be played to the end")
    time.sleep(0.5)
    record_play(test_id, token, pair, "A", "play")
    time.sleep(0.5)
    state = record_play(test_id, token, pair, "A", "ended")
    assert state["missing"] == "Before voting: B has not been played yet." and state["plays_a"] == 2
    with pytest.raises(NotListened, match="B has not been played yet"):
        vote(test_id, token, pair, "B")
    record_play(test_id, token, pair, "B", "play")
    time.sleep(0.5)
    record_play(test_id, token, pair, "B", "ended")
    assert vote(test_id, token, pair, "B")["voted"] == 1
    with connect() as conn:
        row = conn.execute("SELECT * FROM votes").fetchone()
    assert row["plays_a"] == 2 and row["plays_b"] == 1 and 0.45 <= row["listened_b_s"] <= 0.5
    assert row["pair_time_s"] >= 1.5 and row["listened_a_s"] <= 1.0  # each stretch capped at the clip
    with pytest.raises(StudioError, match="side must be A or B"):
        record_play(test_id, token, pair, "C", "play")
    with pytest.raises(StudioError, match="play event must be one of play, pause, ended"):
        record_play(test_id, token, pair, "A", "seek")


def test_a_number_of_seconds_can_be_enough():
    test_id = make_test(min_play_s=0.3, clip_s=2.0)
    token = join(test_id)
    pair = progress(test_id, token).next_pair.pair_id
    for side in ("A", "B"):
        record_play(test_id, token, pair, side, "play")
        time.sleep(0.35)
        record_play(test_id, token, pair, side, "pause")  # never to the end: 0.3 s asked for
    assert vote(test_id, token, pair, "tie")["voted"] == 1


def test_tests_made_before_play_rules_keep_taking_votes_as_they_did():
    test_id = make_test(min_play_s=None)
    token = join(test_id)
    assert vote(test_id, token, progress(test_id, token).next_pair.pair_id, "A")["voted"] == 1


@pytest.mark.parametrize("events,now,heard,plays,complete", [
    ([], 10.0, 0.0, 0, False),
    ([("play", 0.0), ("ended", 8.0)], 9.0, 8.0, 1, True),
    ([("play", 0.0), ("ended", 1.0)], 9.0, 1.0, 1, False),                    # skipped to the end
    ([("play", 0.0), ("pause", 3.0), ("play", 5.0), ("ended", 10.0)], 11, 8.0, 2, True),
    ([("play", 0.0), ("play", 4.0), ("ended", 12.0)], 12.0, 12.0, 2, True),    # a restart
    ([("play", 0.0), ("ended", 100.0)], 100.0, 8.0, 1, True),                 # capped at the clip
    ([("play", 0.0)], 8.0, 8.0, 1, False),                                    # still playing: no end yet
])
def test_listening_is_worked_out_from_server_times(events, now, heard, plays, complete):
    side = side_listening("A", events, duration_s=8.0, min_play_s=0.0, now_s=now)
    assert (side.heard_s, side.plays, side.complete) == (heard, plays, complete)


def test_hidden_checks_are_placed_and_sided_as_promised():
    specs = [PairSpec(i, i // 3, (f"s{i % 3}", "x")) for i in range(12)]
    specs += [PairSpec(100 + i, 0, ("s0", "x"), "repeat", i) for i in (0, 5, 9)]
    specs += [PairSpec(200 + i, i, ("s0", "copy"), "catch") for i in range(4)]
    for n in range(200):
        plan = assign(specs, 3, f"p{n}")
        position = {a.pair_id: a.position for a in plan}
        side = {a.pair_id: a.system_1_on_a for a in plan}
        assert sorted(position) == sorted(s.pair_id for s in specs)
        for original in (0, 5, 9):  # later, sides swapped
            assert side[100 + original] != side[original]
            gap = position[100 + original] - position[original]
            assert gap > MIN_REPEAT_GAP
        catches = [side[200 + i] for i in range(4)]
        assert sum(catches) == 2 and min(position[200 + i] for i in range(4)) > 0


def test_sides_balance_per_pair_of_systems_and_chart_with_three_systems():
    systems = [("s1", "s2"), ("s1", "s3"), ("s2", "s3")]
    specs = [PairSpec(100 * chart + 10 * seed + k, chart, systems[k])
             for chart in range(3) for seed in range(3) for k in range(3)]  # 3 charts x 3 seeds, odd
    on_a_per_pair = {spec.pair_id: 0 for spec in specs}
    for n in range(300):
        side = {a.pair_id: a.system_1_on_a for a in assign(specs, 11, f"p{n}")}
        for key in systems:
            mine = [s for s in specs if s.systems == key]
            assert abs(2 * sum(side[s.pair_id] for s in mine) - len(mine)) <= 1  # 9 pairs: 4 or 5 on A
            for chart in range(3):
                in_chart = [side[s.pair_id] for s in mine if s.chart_index == chart]
                assert sum(in_chart) in (1, 2)                                   # 3 a chart: 1 or 2
        for pair_id, on_a in side.items():
            on_a_per_pair[pair_id] += on_a
    assert all(110 <= count <= 190 for count in on_a_per_pair.values())  # each pair's sides, over people


def test_bradley_terry_recovers_a_known_order_and_covers_the_truth():
    truth = {"alpha": 0.7, "beta": 0.0, "gamma": -0.7}
    names = list(truth)
    covered = 0
    for trial in range(20):
        rng = random.Random(trial)
        wins: dict[tuple[int, int], int] = {}
        for _ in range(300):
            i, j = rng.sample(range(3), 2)
            p = 1 / (1 + 2.718281828459045 ** -(truth[names[i]] - truth[names[j]]))
            key = (i, j) if rng.random() < p else (j, i)
            wins[key] = wins.get(key, 0) + 1
        fitted = bradley_terry(names, wins)
        assert [row["system"] for row in fitted] == names
        covered += sum(row["low"] <= truth[row["system"]] <= row["high"] for row in fitted)
    assert covered >= 0.85 * 60  # 95% intervals: about 57 of 60 cover the (centred) truth
    one_sided = bradley_terry(["a", "b"], {(0, 1): 12})  # every vote one way: finite, ordered
    assert one_sided[0]["system"] == "a" and 0 < one_sided[0]["low"] < one_sided[0]["strength"] < 4


def test_holm_matches_its_definition():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])


def test_votes_needed_for_60_40_at_80_percent_power_agrees_with_scipy():
    def scipy_power(n: int, rate: float) -> float:
        rejected = [k for k in range(n + 1) if binomtest(k, n, 0.5).pvalue < 0.05]
        return float(sum(binom.pmf(k, n, rate) for k in rejected))

    for n in (10, 50, 193, 199, 210):
        assert sign_test_power(n, 0.6) == pytest.approx(scipy_power(n, 0.6), abs=1e-9)
    needed = votes_needed(0.6, 0.05, 0.8)
    assert all(scipy_power(n, 0.6) >= 0.8 for n in range(needed, needed + 21))
    assert scipy_power(needed - 1, 0.6) < 0.8 and needed == 210


def test_an_old_store_with_votes_opens_and_its_figures_still_add_up(studio_home):
    test_id = make_test(target_version=2)
    with connect(target_version=2) as conn:  # a vote as the previous studio stored it
        conn.execute("INSERT INTO participants (test_id, token, name, experience, created_at) "
                     "VALUES (?, 'old-token', 'Old', '', '2026-01-01T00:00:00+00:00')", (test_id,))
        pair = conn.execute("SELECT id FROM pairs ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("INSERT INTO assignments VALUES (1, ?, 0, 1)", (pair,))
        conn.execute("INSERT INTO votes (participant_id, pair_id, choice, winner, created_at) "
                     "VALUES (1, ?, 'A', 1, '2026-01-01T00:00:01+00:00')", (pair,))
    figures = results(test_id)  # opening it migrates it
    with connect() as conn:
        assert schema_version(conn) == 3
        assert {r[0] for r in conn.execute("SELECT kind FROM pairs")} == {"main"}
        assert conn.execute("SELECT min_play_s FROM tests").fetchone()[0] is None
    assert figures["systems"] == ["sys-one", "sys-two"] and figures["overall"]["wins_1"] == 1
    assert figures["pairs"] == 4 and figures["hidden_checks"] == 0


def test_the_export_is_not_served_and_recomputes_every_figure(studio_home):
    test_id = make_test(systems=3, charts=2, seeds=1, repeats=2, catches=2)
    old_export = listen_dir(test_id) / "export"
    old_export.mkdir()
    (old_export / f"{test_id}-clips.csv").write_text("system\n")  # what an older studio left there
    rng = random.Random(5)
    for n in range(4):
        token = join(test_id, name=f"p{n}", experience=("student", "")[n % 2])
        while (pair := progress(test_id, token).next_pair) is not None:
            vote(test_id, token, pair.pair_id, rng.choice(["A", "B", "tie"]), comment=f"n{n}")
    paths = export_csv(test_id)
    assert not old_export.exists()
    for path in paths.values():
        assert str(studio_home / "listen-exports" / test_id) in path
        assert str(listen_dir(test_id)) not in path
    figures = results(test_id)
    again = figures_from_export(studio_home / "listen-exports" / test_id, test_id)
    assert again == {k: v for k, v in figures.items()
                     if k not in ("test_id", "name", "status", "pairs", "hidden_checks", "min_play_s")}
    with open(paths["votes_csv"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * 10 and {r["kind"] for r in rows} == {"main", "repeat", "catch"}
    codebook = open(paths["codebook"]).read()
    assert "Pairs: 6 main pairs and 4 hidden checks" in codebook
    for column in rows[0]:
        assert f"`{column}`" in codebook  # every column is explained
    # one figure by hand from the CSV: the first pair of systems' wins and ties
    first, second = figures["systems"][:2]
    between = [r for r in rows
               if r["kind"] == "main" and {r["system_on_a"], r["system_on_b"]} == {first, second}]
    row = figures["all"]["pairwise"][0]
    assert (row["wins_1"], row["wins_2"], row["ties"]) == (
        sum(r["preferred_system"] == first for r in between),
        sum(r["preferred_system"] == second for r in between),
        sum(r["choice"] == "tie" for r in between))
