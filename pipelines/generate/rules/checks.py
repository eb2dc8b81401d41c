"""What a pianist takes for granted, measured on one take (or two): the rule engines' own checks.

Onsets are compared on the event language's grid (``TICKS_PER_QUARTER`` ticks a beat, see
pipelines/data/vocab.py), so two notes are "at one onset" exactly when the tokenizer would put them
at one position. A note is *heard against* the chart chord at its onset, or against the next one
when it is pushed into it (music.metrics.chord_for_note). Used by tests/test_rules_*.py and
bench/bench_rules.py; the harmony figures (tension-aware chord-tone ratio) stay in music.metrics.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from ...music.chords import ChordEvent
from ...music.metrics import ANTICIPATION_BEATS, chord_for_note
from ...music.piece import Note, Piece

TICKS_PER_QUARTER = 12   # the event language's grid: 16ths are 3 ticks, eighth triplets 4
MAX_NOTES_PER_ONSET = 10  # two hands
LOW_REGISTER = 48         # C3: below it, notes struck together stay a fifth apart or more
LOW_MIN_GAP = 7           # semitones between two notes struck together below C3


def onset_tick(note: Note) -> int:
    return round(note.start * TICKS_PER_QUARTER)


def onsets(notes: Sequence[Note]) -> dict[int, list[Note]]:
    """Notes grouped by onset tick."""
    groups: dict[int, list[Note]] = defaultdict(list)
    for note in notes:
        groups[onset_tick(note)].append(note)
    return dict(groups)


def off_grid_notes(piece: Piece) -> int:
    """Notes whose onset is not on the 16th / eighth-triplet grid."""
    return sum(abs(n.start * TICKS_PER_QUARTER - onset_tick(n)) > 1e-3
               or onset_tick(n) % TICKS_PER_QUARTER not in (0, 3, 4, 6, 8, 9) for n in piece.notes)


def doubled_keys(piece: Piece) -> int:
    """Keys struck more than once at one onset (each extra strike counts)."""
    return sum(len(group) - len({n.pitch for n in group}) for group in onsets(piece.notes).values())


def largest_onset(piece: Piece) -> int:
    """The most notes struck at one onset."""
    return max((len(group) for group in onsets(piece.notes).values()), default=0)


def low_clusters(piece: Piece) -> int:
    """Onsets where two notes below C3 are struck less than a fifth apart (mud)."""
    count = 0
    for group in onsets(piece.notes).values():
        low = sorted({n.pitch for n in group if n.pitch < LOW_REGISTER})
        count += any(b - a < LOW_MIN_GAP for a, b in zip(low, low[1:]))
    return count


def smeared_onsets(piece: Piece) -> int:
    """Onsets whose notes are heard against two different chords (a change mixed with the chord before)."""
    events = _active(piece)
    count = 0
    for group in onsets(piece.notes).values():
        heard = {c.name for c in (chord_for_note(n, events) for n in group) if c is not None}
        count += len(heard) > 1
    return count


def shared_note_share(a: Piece, b: Piece) -> float:
    """Notes two takes share: |A ∩ B| / min(|A|, |B|) over (onset tick, pitch) pairs, 0 if one is empty."""
    keys_a = {(onset_tick(n), n.pitch) for n in a.notes}
    keys_b = {(onset_tick(n), n.pitch) for n in b.notes}
    smaller = min(len(keys_a), len(keys_b))
    return len(keys_a & keys_b) / smaller if smaller else 0.0


def bass_on_changes(piece: Piece) -> float | None:
    """Share of chart chords whose lowest note struck at the change (or pushed into it) is the
    root or the written slash bass; a change with no note struck counts as a miss."""
    events = _active(piece)
    hits = 0
    for event in events:
        struck = [n for n in piece.notes if _struck_at_change(n, event)]
        hits += bool(struck) and min(struck, key=lambda n: n.pitch).pitch % 12 == event.chord.bass_pc
    return hits / len(events) if events else None


def guide_tones(piece: Piece) -> float | None:
    """Share of chart chords whose 3rd (or sus tone) and 7th (or 6th) are among the notes heard
    against them."""
    events = _active(piece)
    heard: dict[int, set[int]] = defaultdict(set)
    for note in piece.notes:
        index = _heard_index(note, events)
        if index is not None:
            heard[index].add(note.pitch % 12)
    hits = 0
    for index, event in enumerate(events):
        chord = event.chord
        thirds = [i for i in sorted(chord.core) if i in (3, 4, 2, 5)][:1]
        sevenths = [i for i in chord.core if i in (9, 10, 11)]
        need = {(chord.root + i) % 12 for i in thirds + sevenths}
        hits += need <= heard[index]
    return hits / len(events) if events else None


def silent_bars(piece: Piece) -> int:
    """Bars in which no note starts."""
    struck = {int(n.start // piece.beats_per_bar) for n in piece.notes}
    return sum(bar not in struck for bar in range(piece.bars))


def take_report(piece: Piece) -> dict[str, float | int | None]:
    """Every check above for one take, plus its register."""
    pitches = [n.pitch for n in piece.notes] or [0]
    return {"doubled_keys": doubled_keys(piece), "smeared_onsets": smeared_onsets(piece),
            "largest_onset": largest_onset(piece), "low_clusters": low_clusters(piece),
            "off_grid_notes": off_grid_notes(piece), "bass_on_changes": bass_on_changes(piece),
            "guide_tones": guide_tones(piece), "silent_bars": silent_bars(piece),
            "lowest": min(pitches), "highest": max(pitches)}


def _active(piece: Piece) -> list[ChordEvent]:
    return [e for e in piece.chords if not e.chord.is_no_chord]


def _pushed_into(note: Note, change: float) -> bool:
    """True when ``note`` starts at most an eighth before ``change`` and rings mostly after it."""
    return (change - ANTICIPATION_BEATS - 1e-9 <= note.start < change - 1e-9
            and note.end - change > 0.5 * note.duration)


def _struck_at_change(note: Note, event: ChordEvent) -> bool:
    return abs(note.start - event.start) < 1e-6 or _pushed_into(note, event.start)


def _heard_index(note: Note, events: Sequence[ChordEvent]) -> int | None:
    """Index of the event ``note`` is heard against (see the module docstring)."""
    for index, event in enumerate(events):
        if event.start - 1e-9 <= note.start < event.end - 1e-9:
            following = events[index + 1] if index + 1 < len(events) else None
            if following is not None and abs(following.start - event.end) < 1e-9 \
                    and _pushed_into(note, following.start):
                return index + 1
            return index
    return None
