"""What a pianist takes for granted, measured on one take (or two): the checks every engine and model
is held to (MUSIC.md "What a musician checks first").

Two notes are "at one onset" when they start at the same time (to 1e-4 beat). A note is *heard
against* the chart chord at its onset, or against the next one when it is pushed into it
(:func:`pipelines.music.metrics.chord_for_note`). The rule engines' tests and bench, the model bench,
the Generate tab's metrics panel and the trained models' decoder (which plays the guide tones and
the bass these checks look for) all read these definitions.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from .chords import Chord, ChordEvent
from .piece import Note, Piece

MAX_NOTES_PER_ONSET = 10  # two hands
LOW_REGISTER = 48         # C3: below it, notes struck together stay a fifth apart or more
LOW_MIN_GAP = 7           # semitones between two notes struck together below C3
ANTICIPATION_BEATS = 0.5  # a note this close before a chord change that rings into it belongs to it


def onsets(notes: Sequence[Note]) -> dict[float, list[Note]]:
    """Notes grouped by onset (beats, to 1e-4)."""
    groups: dict[float, list[Note]] = defaultdict(list)
    for note in notes:
        groups[round(note.start, 4)].append(note)
    return dict(groups)


def chord_guides(chord: Chord) -> frozenset[int]:
    """The pitch classes that say which chord it is: its 3rd (or sus tone) and its 7th (or 6th, or a
    diminished 7th), the slash bass left out (it is struck as the bass)."""
    if chord.root is None:
        return frozenset()
    thirds = [i for i in sorted(chord.core) if i in (3, 4, 2, 5)][:1]
    sevenths = [i for i in chord.core if i in (9, 10, 11)]
    return frozenset((chord.root + i) % 12 for i in thirds + sevenths) - {chord.bass_pc}


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


def smeared_onsets(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> int:
    """Onsets whose notes are heard against two different chords (a change mixed with the chord before)."""
    events = _active(piece, chords)
    count = 0
    for group in onsets(piece.notes).values():
        heard = {index for index in (_heard_index(n, events) for n in group) if index is not None}
        count += len({events[i].chord.name for i in heard}) > 1
    return count


def shared_note_share(a: Piece, b: Piece) -> float:
    """Notes two takes share: |A ∩ B| / min(|A|, |B|) over (onset, pitch) pairs, 0 if one is empty."""
    keys_a = {(round(n.start, 4), n.pitch) for n in a.notes}
    keys_b = {(round(n.start, 4), n.pitch) for n in b.notes}
    smaller = min(len(keys_a), len(keys_b))
    return len(keys_a & keys_b) / smaller if smaller else 0.0


def bass_on_changes(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> float | None:
    """Share of chart chords whose lowest note struck at the change (or pushed into it) is the
    root or the written slash bass; a change with no note struck counts as a miss."""
    events = _active(piece, chords)
    hits = 0
    for event in events:
        struck = [n for n in piece.notes if _struck_at_change(n, event)]
        hits += bool(struck) and min(struck, key=lambda n: n.pitch).pitch % 12 == event.chord.bass_pc
    return hits / len(events) if events else None


def guide_tones(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> float | None:
    """Share of chart chords whose guide tones (``chord_guides``) are among the notes heard against them."""
    events = _active(piece, chords)
    heard: dict[int, set[int]] = defaultdict(set)
    for note in piece.notes:
        index = _heard_index(note, events)
        if index is not None:
            heard[index].add(note.pitch % 12)
    hits = sum(chord_guides(event.chord) <= heard[index] for index, event in enumerate(events))
    return hits / len(events) if events else None


def silent_bars(piece: Piece) -> int:
    """Bars in which no note starts."""
    struck = {int(n.start // piece.beats_per_bar) for n in piece.notes}
    return sum(bar not in struck for bar in range(piece.bars))


def playing_evidence(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> dict[str, float | int | None]:
    """The figures of the metrics panel: bass on changes, guide tones, silent bars, notes an onset,
    doubled keys."""
    return {"bass_on_change": bass_on_changes(piece, chords), "guide_tones": guide_tones(piece, chords),
            "silent_bars": silent_bars(piece), "max_notes_per_onset": largest_onset(piece),
            "doubled_keys": doubled_keys(piece)}


def take_report(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> dict[str, float | int | None]:
    """Every check above for one take, plus its register."""
    pitches = [n.pitch for n in piece.notes] or [0]
    return {"doubled_keys": doubled_keys(piece), "smeared_onsets": smeared_onsets(piece, chords),
            "largest_onset": largest_onset(piece), "low_clusters": low_clusters(piece),
            "bass_on_changes": bass_on_changes(piece, chords), "guide_tones": guide_tones(piece, chords),
            "silent_bars": silent_bars(piece), "lowest": min(pitches), "highest": max(pitches)}


def _active(piece: Piece, chords: Sequence[ChordEvent] | None) -> list[ChordEvent]:
    return [e for e in (piece.chords if chords is None else chords) if not e.chord.is_no_chord]


def pushed_into(note: Note, change: float) -> bool:
    """True when ``note`` starts at most an eighth before ``change`` and rings mostly after it."""
    return (change - ANTICIPATION_BEATS - 1e-9 <= note.start < change - 1e-9
            and note.end - change > 0.5 * note.duration)


def _struck_at_change(note: Note, event: ChordEvent) -> bool:
    return abs(note.start - event.start) < 1e-6 or pushed_into(note, event.start)


def _heard_index(note: Note, events: Sequence[ChordEvent]) -> int | None:
    """Index of the event ``note`` is heard against (see the module docstring)."""
    for index, event in enumerate(events):
        if event.start - 1e-9 <= note.start < event.end - 1e-9:
            following = events[index + 1] if index + 1 < len(events) else None
            if following is not None and abs(following.start - event.end) < 1e-9 \
                    and pushed_into(note, following.start):
                return index + 1
            return index
    return None
