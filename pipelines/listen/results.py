"""A test's results from the store, and its export: votes, participants and clips as CSV with a codebook.

The results page is ``analysis.figures`` over the very rows the CSV files hold, so every figure can
be recomputed from the export (``figures_from_export``). Exports name participants and hold the key
from clip to system, so they are written to ``export_dir`` (``workspace/listen-exports/<test>/``),
never inside the served folder of the test's clips, where a participant could fetch them.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from ..common.files import atomic_write_text
from ..common.paths import workspace_dir
from .analysis import figures, typed
from .store import check_test_id, connect, get_test, listen_dir, test_systems

VOTE_COLUMNS = {
    "vote_id": "the vote's number in the store (increasing in time)",
    "created_at": "when the vote was stored (UTC, ISO 8601)",
    "participant_id": "the participant's number in this test (see the participants file)",
    "participant_name": "the name the participant gave (may be empty)",
    "experience": "the musical experience the participant gave (may be empty)",
    "pair_id": "the pair's number in the store",
    "kind": "main (counts towards preferences), repeat (a main pair heard again, sides swapped) or "
            "catch (a clip against a degraded copy of itself)",
    "repeat_of_pair": "for a repeat: the pair_id of its first hearing; else empty",
    "chart": "the chord chart both clips play", "seed": "the generation seed both clips share",
    "position": "the pair's place in this participant's sequence (1 = first)",
    "system_on_a": "the system whose clip played on side A (for a catch pair, possibly the degraded copy)",
    "system_on_b": "the system whose clip played on side B",
    "degraded_side": "for a catch pair: the side (A or B) that played the degraded copy; else empty",
    "choice": "what the participant chose: A, B or tie (no preference)",
    "preferred_system": "the system on the chosen side; empty for a tie",
    "listened_a_s": "seconds of side A heard before the vote, from the server's play events",
    "listened_b_s": "seconds of side B heard before the vote",
    "plays_a": "times side A was started", "plays_b": "times side B was started",
    "replays": "plays_a + plays_b - 2 when both were played (extra hearings); else empty",
    "pair_time_s": "seconds from the pair's first play to the vote (empty when nothing was played)",
    "comment": "the participant's comment",
}
PARTICIPANT_COLUMNS = {
    "participant_id": "the participant's number in this test",
    "participant_name": "the name the participant gave (may be empty)",
    "experience": "the musical experience the participant gave (may be empty)",
    "joined_at": "when the participant joined (UTC, ISO 8601)",
    "pairs_assigned": "pairs in the participant's sequence, hidden checks included",
    "votes": "votes the participant gave",
}
CLIP_COLUMNS = ["id", "system", "model", "style", "chart_name", "chart_text", "seed", "bars", "tempo_bpm",
                "file", "midi_file", "duration_s", "loudness_lufs", "sample_rate_hz", "soundfont", "sha256"]

VOTE_QUERY = """
    SELECT v.id AS vote_id, v.created_at, u.id AS participant_id, u.name AS participant_name,
           u.experience, p.id AS pair_id, p.kind, p.repeat_of AS repeat_of_pair, p.chart_name AS chart,
           p.seed, a.position + 1 AS position, a.system_1_on_a, c1.system AS system_1,
           c2.system AS system_2, v.choice, v.winner, v.listened_a_s, v.listened_b_s, v.plays_a,
           v.plays_b, v.pair_time_s, v.comment
    FROM votes v JOIN participants u ON u.id = v.participant_id
    JOIN pairs p ON p.id = v.pair_id
    JOIN clips c1 ON c1.id = p.clip_1_id JOIN clips c2 ON c2.id = p.clip_2_id
    JOIN assignments a ON a.participant_id = v.participant_id AND a.pair_id = v.pair_id
    WHERE u.test_id = ? ORDER BY v.id"""
PARTICIPANT_QUERY = """
    SELECT u.id AS participant_id, u.name AS participant_name, u.experience, u.created_at AS joined_at,
           (SELECT COUNT(*) FROM assignments a WHERE a.participant_id = u.id) AS pairs_assigned,
           (SELECT COUNT(*) FROM votes v WHERE v.participant_id = u.id) AS votes
    FROM participants u WHERE u.test_id = ? ORDER BY u.id"""


def _vote_row(row) -> dict:
    """A vote as the CSV has it: sides named by system, the preferred system, replays."""
    on_a, on_b = ((row["system_1"], row["system_2"]) if row["system_1_on_a"]
                  else (row["system_2"], row["system_1"]))
    degraded = ("B" if row["system_1_on_a"] else "A") if row["kind"] == "catch" else ""
    played = row["plays_a"] is not None and row["plays_a"] > 0 and (row["plays_b"] or 0) > 0
    out = {key: row[key] for key in VOTE_COLUMNS if key in row.keys()}
    out.update({"system_on_a": on_a, "system_on_b": on_b, "degraded_side": degraded,
                "preferred_system": {"A": on_a, "B": on_b}.get(row["choice"], ""),
                "replays": row["plays_a"] + row["plays_b"] - 2 if played else None})
    return {key: out[key] for key in VOTE_COLUMNS}


def load_rows(test_id: str, db: str | Path | None = None) -> tuple[dict, list[dict], list[dict], list[dict]]:
    """(test meta, vote rows, participant rows, clip rows) of a test, as the CSV files hold them."""
    with connect(db) as conn:
        test = get_test(conn, test_id)
        votes = [_vote_row(r) for r in conn.execute(VOTE_QUERY, (test_id,))]
        participants = [dict(r) for r in conn.execute(PARTICIPANT_QUERY, (test_id,))]
        clips = [dict(r) for r in conn.execute(
            f"SELECT {', '.join(CLIP_COLUMNS)} FROM clips WHERE test_id = ? ORDER BY id", (test_id,))]
        counts = dict(conn.execute("SELECT kind, COUNT(*) FROM pairs WHERE test_id = ? GROUP BY kind",
                                   (test_id,)).fetchall())
    meta = {"test_id": test_id, "name": test["name"], "status": test["status"],
            "systems": test_systems(test), "pairs": counts.get("main", 0),
            "hidden_checks": counts.get("repeat", 0) + counts.get("catch", 0),
            "min_play_s": test["min_play_s"]}
    return meta, votes, participants, clips


def results(test_id: str, db: str | Path | None = None) -> dict:
    """Every figure of a test: see ``analysis.figures``, with the test's name, status and pairs."""
    meta, votes, participants, _ = load_rows(test_id, db)
    return {**meta, **figures(votes, participants, meta["systems"])}


def _csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if row[k] is None else row[k]) for k in columns} for row in rows)
    return out.getvalue()


def votes_csv(test_id: str, db: str | Path | None = None) -> str:
    """Every vote: who, which pair and kind, which system played on which side, the choice, listening."""
    return _csv(load_rows(test_id, db)[1], list(VOTE_COLUMNS))


def clips_csv(test_id: str, db: str | Path | None = None) -> str:
    """Every clip's metadata: system, model, style, chart, seed, length, loudness, file, checksum."""
    return _csv(load_rows(test_id, db)[3], CLIP_COLUMNS)


def codebook(meta: dict) -> str:
    """What each exported file and column means, and how the figures follow from them."""
    from .analysis import SCREENING_RULE

    lines = [f"# Codebook of listening test {meta['test_id']} ({meta['name']})", "",
             f"Systems, in the order the results use: {', '.join(meta['systems'])}.",
             f"Pairs: {meta['pairs']} main pairs and {meta['hidden_checks']} hidden checks "
             "(repeats and catch trials) per participant.",
             f"Play rule: {_play_rule(meta['min_play_s'])}", "", "## votes.csv (one row per vote)", ""]
    lines += [f"- `{k}`: {v}" for k, v in VOTE_COLUMNS.items()]
    lines += ["", "## participants.csv (one row per participant)", ""]
    lines += [f"- `{k}`: {v}" for k, v in PARTICIPANT_COLUMNS.items()]
    lines += ["", "## clips.csv (one row per clip: the key from clip file to system)", "",
              "- `" + "`, `".join(CLIP_COLUMNS) + "`: as named; `file` is relative to the test's folder.",
              "", "## How the figures follow", "",
              "- Preferences count only `kind = main` rows; ties are counted and never split.",
              "- Per pair of systems: the first's share of decisive votes, a Wilson 95% interval, the exact "
              "two-sided sign test, and Holm's adjustment over the pairs of systems.",
              "- Ranking (3+ systems): Bradley-Terry log-strengths by maximum likelihood on decisive main "
              "votes (weak N(0, 3^2) prior), centred, with Wald 95% intervals from the Fisher information.",
              f"- Screening: a catch trial is passed when `choice` is neither `degraded_side` nor tie; a "
              f"repeat is consistent when its `preferred_system` equals that of the row of the same "
              f"participant whose `pair_id` is its `repeat_of_pair`. {SCREENING_RULE} Results are shown "
              "for everyone and without the flagged participants.",
              "- `pipelines.listen.results.figures_from_export(folder)` recomputes every figure from "
              "these files."]
    return "\n".join(lines) + "\n"


def _play_rule(min_play_s: float | None) -> str:
    if min_play_s is None:
        return "none (the test was made before the studio enforced one)."
    if min_play_s == 0:
        return "a vote counts only after both clips were played to the end."
    return f"a vote counts only after both clips were played for at least {min_play_s:g} s each."


def export_dir(test_id: str) -> Path:
    """Where a test's export goes by default: ``workspace/listen-exports/<test_id>/``, which the app
    never serves (the clips' folder ``workspace/listen/<test_id>/`` is served)."""
    return workspace_dir() / "listen-exports" / check_test_id(test_id)


def export_csv(test_id: str, out_dir: str | Path | None = None, db: str | Path | None = None) -> dict:
    """Write votes, participants and clips CSV files and the codebook; returns their paths.

    An ``export/`` folder that an older studio left inside the served clips folder is removed.
    """
    shutil.rmtree(listen_dir(test_id) / "export", ignore_errors=True)
    meta, votes, participants, clips = load_rows(test_id, db)
    folder = Path(out_dir) if out_dir is not None else export_dir(test_id)
    return {"votes_csv": str(atomic_write_text(folder / f"{test_id}-votes.csv",
                                               _csv(votes, list(VOTE_COLUMNS)))),
            "participants_csv": str(atomic_write_text(folder / f"{test_id}-participants.csv",
                                                      _csv(participants, list(PARTICIPANT_COLUMNS)))),
            "clips_csv": str(atomic_write_text(folder / f"{test_id}-clips.csv", _csv(clips, CLIP_COLUMNS))),
            "codebook": str(atomic_write_text(folder / f"{test_id}-codebook.md", codebook(meta)))}


def figures_from_export(folder: str | Path, test_id: str) -> dict:
    """Every figure recomputed from an export's CSV files alone (the systems' order from clips.csv:
    each chart and seed lists the systems in order, degraded copies come after)."""
    folder = Path(folder)

    def read(kind: str) -> list[dict]:
        with open(folder / f"{test_id}-{kind}.csv", newline="", encoding="utf-8") as handle:
            return [typed(row) for row in csv.DictReader(handle)]

    clips = read("clips")
    systems = list(dict.fromkeys(c["system"] for c in clips if not c["system"].startswith("degraded copy")))
    return figures(read("votes"), read("participants"), systems)
