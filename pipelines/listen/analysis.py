"""Every figure of a test's results page, from its vote and participant rows alone.

The rows are exactly the exported CSV's (see ``results.VOTE_COLUMNS``), so whoever holds the CSV
files can recompute every figure: ``figures(votes, participants, systems)``. Only the main pairs
count towards preferences; the hidden checks screen the raters:

* a catch trial is passed when the original is preferred over its degraded copy;
* a repeated pair is consistent when both hearings preferred the same system (or both had none).
"""
from __future__ import annotations

import statistics
from itertools import combinations

from .ranking import bradley_terry, holm
from .stats import Tally, participant_majorities, sign_test, summarise, verdict, wilson_interval

MAX_CATCH_FAILURES = 0       # catch trials a participant may fail and still count
MIN_CONSISTENT_SHARE = 0.5   # repeated pairs that must get the same answer both times
SCREENING_RULE = ("A participant is flagged who preferred the degraded copy, or had no preference, in "
                  "any catch trial, or who gave the same answer to fewer than half of the repeated pairs.")
INT_COLUMNS = ("vote_id", "participant_id", "pair_id", "repeat_of_pair", "seed", "position", "plays_a",
               "plays_b", "replays", "pairs_assigned", "votes")
FLOAT_COLUMNS = ("listened_a_s", "listened_b_s", "pair_time_s")


def typed(row: dict) -> dict:
    """A CSV row (all text) with its numbers as numbers and its empty cells as None."""
    out = {}
    for key, value in row.items():
        if value == "" or value is None:
            out[key] = None if key in INT_COLUMNS + FLOAT_COLUMNS else ""
        elif key in INT_COLUMNS:
            out[key] = int(value)
        elif key in FLOAT_COLUMNS:
            out[key] = float(value)
        else:
            out[key] = value
    return out


def group(rows: list[dict], key: str) -> dict:
    """``rows`` by the value of ``key``, each group in the rows' order."""
    out: dict = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def screen(votes: list[dict], participants: list[dict]) -> list[dict]:
    """Per participant: catch trials passed, repeats consistent, flagged and why (by the rule)."""
    first = {(v["participant_id"], v["pair_id"]): v for v in votes if v["kind"] == "main"}
    by_person = group(votes, "participant_id")
    out = []
    for person in participants:
        mine = by_person.get(person["participant_id"], [])
        catches = [v for v in mine if v["kind"] == "catch"]
        passed = sum(1 for v in catches if v["choice"] not in ("tie", v["degraded_side"]))
        repeats = [(v, first.get((v["participant_id"], v["repeat_of_pair"]))) for v in mine
                   if v["kind"] == "repeat"]
        heard_twice = [(v, f) for v, f in repeats if f is not None]
        consistent = sum(1 for v, f in heard_twice if v["preferred_system"] == f["preferred_system"])
        reasons = []
        if len(catches) - passed > MAX_CATCH_FAILURES:
            reasons.append(f"failed {len(catches) - passed} of {len(catches)} catch trials")
        if heard_twice and consistent < MIN_CONSISTENT_SHARE * len(heard_twice):
            reasons.append(f"same answer to {consistent} of {len(heard_twice)} repeated pairs")
        out.append({"participant_id": person["participant_id"], "catch_passed": passed,
                    "catch_trials": len(catches), "repeats_consistent": consistent,
                    "repeats_heard": len(heard_twice), "flagged": bool(reasons),
                    "reason": "; ".join(reasons)})
    return out


def pairwise(votes: list[dict], systems: list[str]) -> list[dict]:
    """For every pair of systems heard together: wins, ties, the first's preference rate with its
    Wilson interval, the sign test's p and Holm's adjusted p over all pairs of systems."""
    rows = []
    for first, second in combinations(systems, 2):
        heard = [v for v in votes if {v["system_on_a"], v["system_on_b"]} == {first, second}]
        if not heard:
            continue
        wins_1 = sum(1 for v in heard if v["preferred_system"] == first)
        wins_2 = sum(1 for v in heard if v["preferred_system"] == second)
        decisive = wins_1 + wins_2
        low, high = wilson_interval(wins_1, decisive)
        rows.append({"system_1": first, "system_2": second, "votes": len(heard), "wins_1": wins_1,
                     "wins_2": wins_2, "ties": len(heard) - decisive,
                     "rate_1": wins_1 / decisive if decisive else None, "rate_1_low": low,
                     "rate_1_high": high, "p_value": sign_test(wins_1, decisive)})
    for row, adjusted in zip(rows, holm([row["p_value"] for row in rows])):
        row["p_holm"] = adjusted
    return rows


def ranking(votes: list[dict], systems: list[str]) -> list[dict]:
    """The Bradley-Terry ranking over the decisive votes (empty with none)."""
    index = {name: i for i, name in enumerate(systems)}
    wins: dict[tuple[int, int], int] = {}
    for v in votes:
        winner = v["preferred_system"]
        if not winner:
            continue
        loser = v["system_on_b"] if winner == v["system_on_a"] else v["system_on_a"]
        key = (index[winner], index[loser])
        wins[key] = wins.get(key, 0) + 1
    return bradley_terry(systems, wins) if wins else []


def _tally(votes: list[dict], systems: list[str]) -> Tally:
    tally = Tally()
    for v in votes:
        winner = {systems[0]: 1, systems[1]: 2}.get(v["preferred_system"])
        tally = tally.add(winner, v["choice"])
    return tally


def block(votes: list[dict], participants: list[dict], systems: list[str]) -> dict:
    """The figures of one set of main votes: pairwise, ranking, and for two systems the overall
    rate, verdict and the breakdowns per chart, participant and experience level."""
    out = {"votes": len(votes), "participants": len({v["participant_id"] for v in votes}),
           "pairwise": pairwise(votes, systems),
           "ranking": ranking(votes, systems) if len(systems) > 2 else []}
    side_a = sum(1 for v in votes if v["choice"] == "A")
    decisive = sum(1 for v in votes if v["choice"] != "tie")
    out["side_a_rate"] = side_a / decisive if decisive else None
    out["side_p_value"] = sign_test(side_a, decisive)
    if len(systems) != 2:
        return out
    summary = summarise(_tally(votes, systems))
    charts = list(dict.fromkeys(v["chart"] for v in sorted(votes, key=lambda v: v["pair_id"])))
    levels = sorted({v["experience"] or "(not given)" for v in votes})
    mine = group(votes, "participant_id")
    people = {p["participant_id"]: _tally(mine.get(p["participant_id"], []), systems) for p in participants}
    out.update({
        "overall": summary.as_dict(), "verdict": verdict(summary, *systems),
        "per_chart": [{"chart": c, **summarise(_tally([v for v in votes if v["chart"] == c],
                                                      systems)).as_dict()} for c in charts],
        "per_experience": [{"experience": level, **summarise(_tally(
            [v for v in votes if (v["experience"] or "(not given)") == level], systems)).as_dict()}
            for level in levels],
        "participant_majorities": participant_majorities([t for t in people.values() if t.decisive]),
    })
    return out


def timing(votes: list[dict]) -> dict:
    """Listening per pair: median seconds from first play to vote, median seconds heard of a clip,
    the share of pairs with a replay, and replays per pair."""
    times = [v["pair_time_s"] for v in votes if v["pair_time_s"] is not None]
    heard = [s for v in votes for s in (v["listened_a_s"], v["listened_b_s"]) if s is not None]
    replays = [v["replays"] for v in votes if v["replays"] is not None]
    return {"pairs_timed": len(times),
            "median_pair_s": round(statistics.median(times), 2) if times else None,
            "median_heard_per_clip_s": round(statistics.median(heard), 2) if heard else None,
            "replay_share": round(sum(1 for r in replays if r > 0) / len(replays), 4) if replays else None,
            "replays_per_pair": round(sum(replays) / len(replays), 4) if replays else None}


def figures(votes: list[dict], participants: list[dict], systems: list[str]) -> dict:
    """Every figure of the results page from the vote and participant rows (typed, see ``typed``)."""
    screening = screen(votes, participants)
    flagged = {s["participant_id"] for s in screening if s["flagged"]}
    main = [v for v in votes if v["kind"] == "main"]
    kept_people = [p for p in participants if p["participant_id"] not in flagged]
    everyone = block(main, participants, systems)
    per_person = []
    main_by_person, all_by_person = group(main, "participant_id"), group(votes, "participant_id")
    for person, screened in zip(participants, screening):
        mine = main_by_person.get(person["participant_id"], [])
        row = {"participant": person["participant_id"], "name": person["participant_name"],
               "experience": person["experience"], "assigned": person["pairs_assigned"],
               "voted": len(all_by_person.get(person["participant_id"], [])),
               **{k: screened[k] for k in ("catch_passed", "catch_trials", "repeats_consistent",
                                           "repeats_heard", "flagged", "reason")}}
        row.update(summarise(_tally(mine, systems)).as_dict() if len(systems) == 2 else
                   {"votes": len(mine), "ties": sum(1 for v in mine if v["choice"] == "tie")})
        per_person.append(row)
    legacy = {k: everyone[k] for k in ("overall", "verdict", "per_chart", "per_experience",
                                       "participant_majorities") if k in everyone}
    return {"systems": systems, "participants": len(participants),
            "completed_participants": sum(1 for p in per_person
                                          if p["assigned"] and p["voted"] >= p["assigned"]),
            "screening_rule": SCREENING_RULE, "flagged": len(flagged), "per_participant": per_person,
            "all": everyone, "screened": block([v for v in main if v["participant_id"] not in flagged],
                                               kept_people, systems),
            "timing": timing(main), **legacy}
