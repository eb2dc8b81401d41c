"""A test's results from the store, and its votes and clip metadata as CSV."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..common.files import atomic_write_text
from .stats import Tally, participant_majorities, summarise, verdict
from .store import connect, get_test, listen_dir

VOTE_QUERY = """
    SELECT v.id AS vote_id, v.created_at, u.id AS participant_id, u.name AS participant_name,
           u.experience, p.id AS pair_id, p.chart_name, p.seed, a.position + 1 AS position,
           a.system_1_on_a, v.choice, v.winner, v.comment
    FROM votes v JOIN participants u ON u.id = v.participant_id
    JOIN pairs p ON p.id = v.pair_id
    JOIN assignments a ON a.participant_id = v.participant_id AND a.pair_id = v.pair_id
    WHERE u.test_id = ? ORDER BY v.id"""


def results(test_id: str, db: str | Path | None = None) -> dict:
    """Every figure of a test: overall, per chart, per participant, per experience level,
    participant majorities and a verdict."""
    with connect(db) as conn:
        test = get_test(conn, test_id)
        votes = conn.execute(VOTE_QUERY, (test_id,)).fetchall()
        participants = conn.execute(
            """SELECT u.id, u.name, u.experience, COUNT(a.pair_id) AS assigned
               FROM participants u LEFT JOIN assignments a ON a.participant_id = u.id
               WHERE u.test_id = ? GROUP BY u.id ORDER BY u.id""", (test_id,)).fetchall()
        charts = [r[0] for r in conn.execute(
            "SELECT DISTINCT chart_name FROM pairs WHERE test_id = ? ORDER BY chart_index", (test_id,))]
        pair_count = conn.execute("SELECT COUNT(*) FROM pairs WHERE test_id = ?", (test_id,)).fetchone()[0]
    overall = Tally()
    by_chart = {name: Tally() for name in charts}
    by_participant = {row["id"]: Tally() for row in participants}
    by_experience: dict[str, Tally] = {}
    for row in votes:
        level = row["experience"] or "(not given)"
        by_experience[level] = by_experience.get(level, Tally()).add(row["winner"], row["choice"])
        overall = overall.add(row["winner"], row["choice"])
        by_chart[row["chart_name"]] = by_chart[row["chart_name"]].add(row["winner"], row["choice"])
        by_participant[row["participant_id"]] = by_participant[row["participant_id"]].add(
            row["winner"], row["choice"])
    summary = summarise(overall)
    return {
        "test_id": test_id, "name": test["name"], "status": test["status"],
        "systems": [test["system_1"], test["system_2"]], "pairs": pair_count,
        "participants": len(participants),
        "completed_participants": sum(1 for r in participants
                                      if r["assigned"] and by_participant[r["id"]].votes >= r["assigned"]),
        "overall": summary.as_dict(),
        "verdict": verdict(summary, test["system_1"], test["system_2"]),
        "per_chart": [{"chart": name, **summarise(by_chart[name]).as_dict()} for name in charts],
        "per_participant": [
            {"participant": row["id"], "name": row["name"], "experience": row["experience"],
             "assigned": row["assigned"], **summarise(by_participant[row["id"]]).as_dict()}
            for row in participants],
        "per_experience": [{"experience": level, **summarise(tally).as_dict()}
                           for level, tally in sorted(by_experience.items())],
        "participant_majorities": participant_majorities(
            [t for t in by_participant.values() if t.decisive]),
    }


def votes_csv(test_id: str, db: str | Path | None = None) -> str:
    """Every vote with who, which pair, which system played on which side, the choice and comment."""
    with connect(db) as conn:
        test = get_test(conn, test_id)
        rows = conn.execute(VOTE_QUERY, (test_id,)).fetchall()
    systems = {1: test["system_1"], 2: test["system_2"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["vote_id", "created_at", "participant_id", "participant_name", "experience",
                     "pair_id", "chart", "seed", "position", "system_on_a", "system_on_b", "choice",
                     "preferred_system", "comment"])
    for row in rows:
        on_a, on_b = (1, 2) if row["system_1_on_a"] else (2, 1)
        writer.writerow([row["vote_id"], row["created_at"], row["participant_id"], row["participant_name"],
                         row["experience"], row["pair_id"], row["chart_name"], row["seed"], row["position"],
                         systems[on_a], systems[on_b], row["choice"],
                         systems.get(row["winner"], "") if row["winner"] else "", row["comment"]])
    return out.getvalue()


def clips_csv(test_id: str, db: str | Path | None = None) -> str:
    """Every clip's metadata: system, model, style, chart, seed, length, loudness, file, checksum."""
    columns = ["id", "system", "model", "style", "chart_name", "chart_text", "seed", "bars", "tempo_bpm",
               "file", "midi_file", "duration_s", "loudness_lufs", "sample_rate_hz", "soundfont", "sha256"]
    with connect(db) as conn:
        get_test(conn, test_id)
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM clips WHERE test_id = ? ORDER BY id",
                            (test_id,)).fetchall()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([tuple(row) for row in rows])
    return out.getvalue()


def export_csv(test_id: str, out_dir: str | Path | None = None, db: str | Path | None = None) -> dict:
    """Write ``votes.csv`` and ``clips.csv`` (default: the test's ``export/`` folder); returns the paths."""
    folder = Path(out_dir) if out_dir is not None else listen_dir(test_id) / "export"
    votes_path = atomic_write_text(folder / f"{test_id}-votes.csv", votes_csv(test_id, db))
    clips_path = atomic_write_text(folder / f"{test_id}-clips.csv", clips_csv(test_id, db))
    return {"votes_csv": str(votes_path), "clips_csv": str(clips_path)}
