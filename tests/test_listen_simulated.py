"""Simulated participants (attentive, random, always-A) through the running studio's endpoints.

Each one plays both clips in real time (short test clips), as the page would report it, then votes.
The attentive ones prefer the truly better system and the original over its degraded copy; the
random and always-A ones must be flagged by the screening rule, and the ranking without them must be
the true order. (A random rater passes 6 catch trials by luck with p = 3^-6; the test accepts that
one run in about 3,000 fails.)
"""
from __future__ import annotations

import random
import sqlite3
import threading
import time

import pytest
from conftest import start_studio, stop_studio
from test_listen_server import EndpointError, call
from test_listen_store import make_test

from pipelines.listen import results

PASSWORD = "organiser-secret"
CLIP_S = 0.4
STRENGTH = {"sys-one": 0.0, "sys-two": 1.0, "sys-three": 2.0}   # the truth: three beats two beats one


def sides(home, token: str, pair_id: int) -> dict:
    """What the simulated ears hear: which system (or degraded copy) plays on A and on B."""
    with sqlite3.connect(home / "listen.db") as conn:
        row = conn.execute(
            """SELECT a.system_1_on_a, c1.system, c2.system FROM assignments a
               JOIN participants u ON u.id = a.participant_id JOIN pairs p ON p.id = a.pair_id
               JOIN clips c1 ON c1.id = p.clip_1_id JOIN clips c2 ON c2.id = p.clip_2_id
               WHERE u.token = ? AND a.pair_id = ?""", (token, pair_id)).fetchone()
    first, second = row[1], row[2]
    return {"A": first, "B": second} if row[0] else {"A": second, "B": first}


def choose(kind: str, heard: dict, rng: random.Random) -> str:
    if kind == "random":
        return rng.choice(["A", "B", "tie"])
    if kind == "always-A":
        return "A"
    worth = {side: STRENGTH.get(system, -10.0) for side, system in heard.items()}  # a copy is worst
    return "A" if worth["A"] > worth["B"] else "B"


def participant(url: str, home, test_id: str, kind: str, name: str, out: dict) -> None:
    rng = random.Random(name)
    state = call(url, "listen_join", test_id, name, "")
    while state["next_pair"] is not None:
        pair = state["next_pair"]
        for side in ("A", "B"):
            call(url, "listen_play", test_id, state["token"], pair, side, "play")
            time.sleep(CLIP_S * 1.5)  # the server's clock must see the whole clip, queue delays included
            call(url, "listen_play", test_id, state["token"], pair, side, "ended")
        state = call(url, "listen_vote", test_id, state["token"], pair,
                     choose(kind, sides(home, state["token"], pair), rng), "")
    out[name] = state


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_random_and_always_a_raters_are_flagged_and_the_ranking_recovers_the_truth(studio_home):
    test_id = make_test("simulated-1a2b3c", systems=3, charts=3, seeds=2, repeats=3, catches=6,
                        min_play_s=0.0, clip_s=CLIP_S)  # 18 main pairs + 9 hidden checks
    proc, url = start_studio(studio_home, "--listen-only", test_id, "--admin-password", PASSWORD)
    try:
        early = call(url, "listen_join", test_id, "hasty", "")
        with pytest.raises(EndpointError, match="Before voting: A has not been played yet and B has not "
                                                "been played yet"):
            call(url, "listen_vote", test_id, early["token"], early["next_pair"], "A", "")
        kinds = {"att-1": "attentive", "att-2": "attentive", "att-3": "attentive", "rnd-1": "random",
                 "rnd-2": "random", "aaa-1": "always-A", "aaa-2": "always-A"}
        done: dict = {}
        threads = [threading.Thread(target=participant, args=(url, studio_home, test_id, kind, name, done))
                   for name, kind in kinds.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert sorted(done) == sorted(kinds) and all(s["voted"] == s["total"] == 27 for s in done.values())
        figures = call(url, "listen_results", test_id, PASSWORD)
    finally:
        stop_studio(proc)

    assert figures == results(test_id)  # the endpoint shows what the store holds
    flagged = {row["name"] for row in figures["per_participant"] if row["flagged"]}
    assert flagged == {"rnd-1", "rnd-2", "aaa-1", "aaa-2"}, figures["per_participant"]
    for row in figures["per_participant"]:
        if row["name"].startswith("att"):
            assert (row["catch_passed"], row["repeats_consistent"]) == (6, 3)
        if row["name"].startswith("aaa"):
            assert row["catch_passed"] == 3 and row["repeats_consistent"] == 0  # sides swap on repeats
    screened = figures["screened"]
    assert screened["votes"] == 3 * 18 and figures["all"]["votes"] == 7 * 18
    assert [row["system"] for row in screened["ranking"]] == ["sys-three", "sys-two", "sys-one"]
    assert all(row["p_holm"] < 0.05 for row in screened["pairwise"])  # 18 of 18 each way
    assert figures["timing"]["median_pair_s"] >= 2 * CLIP_S and figures["timing"]["replays_per_pair"] == 0
