"""The rule engines' own check on top of :mod:`pipelines.music.playing` (what every take is held to):
their notes sit on the event language's grid, so the tokenizer keeps every one of them."""
from __future__ import annotations

from ...data.vocab import GRID_OFFSETS, TICKS_PER_QUARTER
from ...music.piece import Note, Piece
from ...music.playing import take_report as playing_report


def onset_tick(note: Note) -> int:
    """A note's onset on the grid (``TICKS_PER_QUARTER`` ticks a beat)."""
    return round(note.start * TICKS_PER_QUARTER)


def off_grid_notes(piece: Piece) -> int:
    """Notes whose onset is not on the 16th / eighth-triplet grid."""
    return sum(abs(n.start * TICKS_PER_QUARTER - onset_tick(n)) > 1e-3
               or onset_tick(n) % TICKS_PER_QUARTER not in GRID_OFFSETS for n in piece.notes)


def take_report(piece: Piece) -> dict[str, float | int | None]:
    """Every check of music.playing for one take, plus the notes off the grid."""
    return {**playing_report(piece), "off_grid_notes": off_grid_notes(piece)}
