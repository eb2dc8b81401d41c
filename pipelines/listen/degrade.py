"""The degraded copy a catch trial plays against its original: the same MIDI made clearly wrong.

Two ways, both keeping every note's timing and loudness so that only the pitches are wrong:

* ``scatter``: every note moves by 1-6 semitones up or down, at random (notes scattered at random);
* ``wrong_chords``: in every bar, the notes below middle C (the chords and bass under the melody)
  move by a semitone or a tritone, so the harmony clashes with the melody.

An attentive listener prefers the original every time; choosing the copy, or no preference, fails
the catch trial.
"""
from __future__ import annotations

import bisect
import random
from pathlib import Path

from ..common.errors import StudioError

DEGRADATIONS = ("scatter", "wrong_chords")
SCATTER_SEMITONES = (-6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6)
WRONG_CHORD_SEMITONES = (-6, -1, 1, 6)   # a semitone or a tritone away: never a consonant chord
SPLIT_PITCH = 60                         # middle C: below it the chords and bass
PIANO_LOW, PIANO_HIGH = 21, 108


def degrade_midi(source: str | Path, target: str | Path, kind: str, seed: int) -> int:
    """Write a degraded copy of ``source`` to ``target``; returns how many notes were changed.

    Args:
        kind: ``scatter`` or ``wrong_chords`` (see the module docstring).
        seed: the random choices depend only on it, so a test's copies can be made again.
    """
    from ..music.midi_reader import load_pretty_midi

    if kind not in DEGRADATIONS:
        raise StudioError(f"catch_kind must be one of {', '.join(DEGRADATIONS)} (got {kind!r})")
    midi = load_pretty_midi(source)
    rng = random.Random(seed)
    notes = [note for instrument in midi.instruments if not instrument.is_drum for note in instrument.notes]
    if not notes:
        raise StudioError(f"{Path(source).name} has no notes to degrade for a catch trial")
    changed = _scatter(notes, rng) if kind == "scatter" else _wrong_chords(notes, midi, rng)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(target))
    return changed


def _move(pitch: int, step: int) -> int:
    """``pitch + step`` folded back into the piano's range by octaves (never left unchanged)."""
    moved = pitch + step
    while moved > PIANO_HIGH:
        moved -= 12
    while moved < PIANO_LOW:
        moved += 12
    return moved


def _scatter(notes: list, rng: random.Random) -> int:
    for note in notes:
        note.pitch = _move(note.pitch, rng.choice(SCATTER_SEMITONES))
    return len(notes)


def _wrong_chords(notes: list, midi, rng: random.Random) -> int:
    """Move the low notes of each bar by one interval drawn per bar."""
    downbeats = list(midi.get_downbeats()) or [0.0]
    steps = [rng.choice(WRONG_CHORD_SEMITONES) for _ in downbeats]
    low = [note for note in notes if note.pitch < SPLIT_PITCH] or notes  # a piece with no left hand
    for note in low:
        bar = max(0, bisect.bisect_right(downbeats, note.start + 1e-6) - 1)
        note.pitch = _move(note.pitch, steps[bar])
    return len(low)
