"""A participant's session: join a test, get the next pair, vote; resumable from the token alone.

The token is a random secret (``secrets.token_urlsafe``) bound to one test. It is all a
participant needs to come back to where they left off, on any device.
"""
from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import StudioError
from .plays import NotListened, missing_sentence, pair_listening
from .randomise import PairSpec, assign
from .store import connect, get_test, listen_dir, now_iso, transaction

CHOICES = {"a": "A", "b": "B", "tie": "tie", "no preference": "tie", "none": "tie", "=": "tie"}
EXPERIENCE_LEVELS = ("", "listener", "amateur musician", "student", "professional musician")
MAX_NAME_CHARS = 80
MAX_COMMENT_CHARS = 2000


class AlreadyVoted(StudioError):
    """The participant has voted on this pair before; the first vote stands."""


@dataclass(frozen=True)
class PairView:
    """What a participant is shown for one pair: two clips, and nothing about who made them."""

    pair_id: int
    number: int            # 1-based place in the participant's sequence
    total: int
    clip_a: Path
    clip_b: Path
    duration_a_s: float = 0.0
    duration_b_s: float = 0.0


@dataclass(frozen=True)
class Progress:
    """Where a participant stands in a test."""

    test_id: str
    token: str
    name: str
    voted: int
    total: int
    status: str            # the test's status: open or closed
    next_pair: PairView | None

    @property
    def done(self) -> bool:
        return self.voted >= self.total


def join(test_id: str, name: str = "", experience: str = "", db: str | Path | None = None) -> str:
    """Register a participant in an open test; returns their token (keep it to resume)."""
    name = str(name or "").strip()[:MAX_NAME_CHARS]
    experience = str(experience or "").strip()
    if experience not in EXPERIENCE_LEVELS:
        raise StudioError(f"experience must be one of {', '.join(repr(e) for e in EXPERIENCE_LEVELS)} "
                          f"(got {experience!r})")
    token = secrets.token_urlsafe(16)
    with connect(db) as conn, transaction(conn):
        test = get_test(conn, test_id)
        check_open(test)
        pairs = conn.execute(
            """SELECT p.id, p.chart_index, p.kind, p.repeat_of, c1.system AS s1, c2.system AS s2
               FROM pairs p JOIN clips c1 ON c1.id = p.clip_1_id JOIN clips c2 ON c2.id = p.clip_2_id
               WHERE p.test_id = ?""", (test_id,)).fetchall()
        if not pairs:
            raise StudioError(f"test {test_id} has no pairs to listen to")
        cursor = conn.execute("INSERT INTO participants (test_id, token, name, experience, created_at) "
                              "VALUES (?, ?, ?, ?, ?)", (test_id, token, name, experience, now_iso()))
        specs = [PairSpec(p["id"], p["chart_index"], (p["s1"], p["s2"]), p["kind"], p["repeat_of"])
                 for p in pairs]
        rows = [(cursor.lastrowid, a.pair_id, a.position, int(a.system_1_on_a))
                for a in assign(specs, test["seed"], token)]
        conn.executemany("INSERT INTO assignments (participant_id, pair_id, position, system_1_on_a) "
                         "VALUES (?, ?, ?, ?)", rows)
    return token


def progress(test_id: str, token: str, db: str | Path | None = None) -> Progress:
    """The participant's progress and the first pair they have not voted on yet (None when done)."""
    with connect(db) as conn:
        test = get_test(conn, test_id)
        participant = participant_row(conn, test_id, token)
        voted = conn.execute("SELECT COUNT(*) FROM votes WHERE participant_id = ?",
                             (participant["id"],)).fetchone()[0]
        total = conn.execute("SELECT COUNT(*) FROM assignments WHERE participant_id = ?",
                             (participant["id"],)).fetchone()[0]
        row = conn.execute(
            """SELECT a.pair_id, a.position, a.system_1_on_a, c1.file AS file_1, c2.file AS file_2,
                      c1.duration_s AS duration_1, c2.duration_s AS duration_2
               FROM assignments a JOIN pairs p ON p.id = a.pair_id
               JOIN clips c1 ON c1.id = p.clip_1_id JOIN clips c2 ON c2.id = p.clip_2_id
               WHERE a.participant_id = ? AND NOT EXISTS
                     (SELECT 1 FROM votes v
                      WHERE v.participant_id = a.participant_id AND v.pair_id = a.pair_id)
               ORDER BY a.position LIMIT 1""", (participant["id"],)).fetchone()
    next_pair = None
    if row is not None:
        folder = listen_dir(test_id)
        first, second = folder / row["file_1"], folder / row["file_2"]
        lengths = (row["duration_1"], row["duration_2"])
        if not row["system_1_on_a"]:
            first, second, lengths = second, first, lengths[::-1]
        next_pair = PairView(row["pair_id"], row["position"] + 1, total, first, second, *lengths)
    return Progress(test_id, token, participant["name"], voted, total, test["status"], next_pair)


def vote(test_id: str, token: str, pair_id: int, choice: str, comment: str = "",
         db: str | Path | None = None) -> dict:
    """Record one vote in one transaction; returns the vote id and the participant's new count.

    Args:
        choice: the side preferred, ``A`` or ``B``, or ``tie`` (no preference).
    """
    side = normalise_choice(choice)
    comment = str(comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise StudioError(f"a comment can have at most {MAX_COMMENT_CHARS} characters (got {len(comment)})")
    try:
        pair_id = int(pair_id)
    except (TypeError, ValueError):
        raise StudioError(f"pair must be a pair number (got {pair_id!r})") from None
    with connect(db) as conn, transaction(conn):
        test = get_test(conn, test_id)
        check_open(test)
        participant = participant_row(conn, test_id, token)
        assigned = assignment(conn, test_id, participant["id"], pair_id)
        heard = _heard(conn, test, participant["id"], pair_id)
        winner = None if side == "tie" else (1 if (side == "A") == bool(assigned["system_1_on_a"]) else 2)
        try:
            cursor = conn.execute(
                "INSERT INTO votes (participant_id, pair_id, choice, winner, comment, created_at, "
                "listened_a_s, listened_b_s, plays_a, plays_b, pair_time_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (participant["id"], pair_id, side, winner, comment, now_iso(), *heard))
        except sqlite3.IntegrityError:
            raise AlreadyVoted(f"this participant has already voted on pair {pair_id}; "
                               "the first vote stands") from None
        voted = conn.execute("SELECT COUNT(*) FROM votes WHERE participant_id = ?",
                             (participant["id"],)).fetchone()[0]
    return {"vote_id": cursor.lastrowid, "pair_id": pair_id, "choice": side, "voted": voted}


def _heard(conn: sqlite3.Connection, test: sqlite3.Row, participant_id: int, pair_id: int) -> tuple:
    """(listened A s, listened B s, plays A, plays B, s from the first play to now) for the vote;
    NotListened when the test has a play rule and a side is not heard enough (or already voted)."""
    now_s = time.time()
    sides = pair_listening(conn, participant_id, pair_id, test["min_play_s"] or 0.0, now_s)
    missing = missing_sentence(sides)
    if test["min_play_s"] is not None and missing:
        if conn.execute("SELECT 1 FROM votes WHERE participant_id = ? AND pair_id = ?",
                        (participant_id, pair_id)).fetchone():
            raise AlreadyVoted(f"this participant has already voted on pair {pair_id}; the first vote stands")
        raise NotListened(missing)
    first = conn.execute("SELECT MIN(at_s) FROM plays WHERE participant_id = ? AND pair_id = ?",
                         (participant_id, pair_id)).fetchone()[0]
    return (sides["A"].heard_s, sides["B"].heard_s, sides["A"].plays, sides["B"].plays,
            None if first is None else round(now_s - first, 3))


def assignment(conn: sqlite3.Connection, test_id: str, participant_id: int, pair_id) -> sqlite3.Row:
    """The participant's assignment of ``pair_id`` (a number), else StudioError naming the pair."""
    try:
        pair_id = int(pair_id)
    except (TypeError, ValueError):
        raise StudioError(f"pair must be a pair number (got {pair_id!r})") from None
    row = conn.execute("SELECT * FROM assignments WHERE participant_id = ? AND pair_id = ?",
                       (participant_id, pair_id)).fetchone()
    if row is None:
        raise StudioError(f"pair {pair_id} is not part of test {test_id}")
    return row


def normalise_choice(choice: str) -> str:
    """``"a"``/``"B"``/``"no preference"`` -> ``A``/``B``/``tie``, else StudioError."""
    side = CHOICES.get(str(choice or "").strip().lower())
    if side is None:
        raise StudioError(f"choice must be A, B or tie (no preference) (got {choice!r})")
    return side


def check_open(test: sqlite3.Row) -> None:
    """StudioError when the test takes no votes."""
    if test["status"] != "open":
        raise StudioError(f"test {test['id']} is closed and takes no more votes; thank you for listening")


def participant_row(conn: sqlite3.Connection, test_id: str, token: str) -> sqlite3.Row:
    """The participant of ``token`` in ``test_id``, else a sentence on what is wrong with the code."""
    token = str(token or "").strip()
    if not token:
        raise StudioError("no participant code was given; join the test first")
    row = conn.execute("SELECT * FROM participants WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise StudioError("this participant code is unknown; join the test again to get a new one")
    if row["test_id"] != test_id:
        raise StudioError(f"this participant code belongs to another test, not {test_id}; "
                          "open the link of your own test")
    return row
