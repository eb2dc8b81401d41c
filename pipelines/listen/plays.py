"""Play events and the rule that a vote counts only after both clips were heard.

The page reports every play, pause and end of either clip; the server stamps each with its own clock
and stores it (``plays``). What was heard is worked out from those stamps alone, never from what the
page claims: a side's listening time is the sum of its play-to-pause (or play-to-end) stretches,
each capped at the clip's length. A vote needs, for both sides, ``min_play_s`` of listening (or,
when it is 0, an end of the clip after at least its length of listening). Network delays make the
server's stretches differ from the player's by fractions of a second, so ``SHARE_NEEDED`` of the
time is enough.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import StudioError
from .store import connect, get_test, transaction

EVENTS = ("play", "pause", "ended")
SHARE_NEEDED = 0.9   # of the needed seconds, as the server measures them


class NotListened(StudioError):
    """A vote came before both clips were heard as the test's play rule asks."""


@dataclass(frozen=True)
class SideListening:
    """What the server knows one participant heard of one side of one pair."""

    side: str
    plays: int
    heard_s: float
    ended: bool
    needed_s: float      # listening the rule asks for
    to_the_end: bool     # the rule asks for the clip's end

    @property
    def complete(self) -> bool:
        return self.heard_s >= SHARE_NEEDED * self.needed_s and (self.ended or not self.to_the_end)

    def missing(self) -> str:
        """What is still missing, as words ("" when complete)."""
        if self.complete:
            return ""
        if self.plays == 0:
            return f"{self.side} has not been played yet"
        left = max(1, round(SHARE_NEEDED * self.needed_s - self.heard_s))
        if self.to_the_end:
            return f"{self.side} must be played to the end (about {left} s more)"
        return f"{self.side} must be played for about {left} s more"


def side_listening(side: str, events: list[tuple[str, float]], duration_s: float, min_play_s: float,
                   now_s: float) -> SideListening:
    """Listening of one side from its (event, server time in s) list, oldest first.

    A play while already playing (a restart) closes the stretch before it; a stretch still open
    counts up to ``now_s``. Every stretch is capped at the clip's length.
    """
    plays, heard, ended, since = 0, 0.0, False, None
    for event, at_s in events:
        if since is not None:
            heard += min(max(0.0, at_s - since), duration_s)
            since = None
        if event == "play":
            plays, since = plays + 1, at_s
        elif event == "ended":
            ended = True
    if since is not None:
        heard += min(max(0.0, now_s - since), duration_s)
    to_the_end = min_play_s <= 0 or min_play_s >= duration_s
    needed = duration_s if to_the_end else min_play_s
    return SideListening(side, plays, round(heard, 3), ended, round(needed, 3), to_the_end)


def pair_listening(conn: sqlite3.Connection, participant_id: int, pair_id: int, min_play_s: float,
                   now_s: float) -> dict[str, SideListening]:
    """Both sides' listening of one assigned pair (the assignment must exist)."""
    row = conn.execute(
        """SELECT a.system_1_on_a, c1.duration_s AS d1, c2.duration_s AS d2
           FROM assignments a JOIN pairs p ON p.id = a.pair_id
           JOIN clips c1 ON c1.id = p.clip_1_id JOIN clips c2 ON c2.id = p.clip_2_id
           WHERE a.participant_id = ? AND a.pair_id = ?""", (participant_id, pair_id)).fetchone()
    durations = {"A": row["d1"], "B": row["d2"]} if row["system_1_on_a"] else {"A": row["d2"], "B": row["d1"]}
    events = conn.execute("SELECT side, event, at_s FROM plays WHERE participant_id = ? AND pair_id = ? "
                          "ORDER BY at_s, id", (participant_id, pair_id)).fetchall()
    return {side: side_listening(side, [(e["event"], e["at_s"]) for e in events if e["side"] == side],
                                 durations[side], min_play_s, now_s) for side in ("A", "B")}


def missing_sentence(sides: dict[str, SideListening]) -> str:
    """One sentence on what is left to hear before voting ("" when nothing is)."""
    gaps = [side.missing() for side in sides.values() if not side.complete]
    if not gaps:
        return ""
    return "Before voting: " + " and ".join(gaps) + "."


def record_play(test_id: str, token: str, pair_id: int, side: str, event: str,
                db: str | Path | None = None) -> dict:
    """Store one play event of a participant's pair; returns both sides' listening and what is
    still missing (the page shows it)."""
    side = str(side or "").strip().upper()
    if side not in ("A", "B"):
        raise StudioError(f"side must be A or B (got {side!r})")
    if event not in EVENTS:
        raise StudioError(f"a play event must be one of {', '.join(EVENTS)} (got {event!r})")
    return _listening(test_id, token, pair_id, (side, event), db)


def listening_state(test_id: str, token: str, pair_id: int, db: str | Path | None = None) -> dict:
    """Both sides' listening of a participant's pair and what is still missing, recording nothing."""
    return _listening(test_id, token, pair_id, None, db)


def _listening(test_id: str, token: str, pair_id: int, new_event: tuple[str, str] | None,
               db: str | Path | None) -> dict:
    from .session import assignment, check_open, participant_row

    now_s = time.time()
    with connect(db) as conn, transaction(conn):
        test = get_test(conn, test_id)
        check_open(test)
        participant = participant_row(conn, test_id, token)
        pair_id = assignment(conn, test_id, participant["id"], pair_id)["pair_id"]
        if new_event:
            conn.execute("INSERT INTO plays (participant_id, pair_id, side, event, at_s) "
                         "VALUES (?, ?, ?, ?, ?)", (participant["id"], pair_id, *new_event, now_s))
        sides = pair_listening(conn, participant["id"], pair_id, test["min_play_s"] or 0.0, now_s)
    missing = missing_sentence(sides) if test["min_play_s"] is not None else ""
    return {"pair_id": pair_id, "missing": missing,
            **{f"heard_{s.lower()}_s": v.heard_s for s, v in sides.items()},
            **{f"plays_{s.lower()}": v.plays for s, v in sides.items()}}
