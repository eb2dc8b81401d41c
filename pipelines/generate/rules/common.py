"""Voicing and line helpers shared by the rule-based style engines.

Everything here picks pitches from a chord's *tension-aware set* (chord tones, written tensions and
the tensions its family allows), so that the engines follow the chart by construction; the few
deliberate outside notes (crushes, passing chords) are placed by the engines themselves.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from ...music.chords import Chord, ChordEvent
from ...music.piece import PIANO_HIGH, PIANO_LOW, Note

# Colour tones the right hand voices, by family, as intervals above the root (most wanted first).
COLOURS = {
    "maj": (4, 11, 2, 7, 9),       # 3, 7, 9, 5, 13  (maj9 / 6/9 sound)
    "min": (3, 10, 2, 7, 5),       # b3, b7, 9, 5, 11 (m9 / m11)
    "dom": (4, 10, 2, 9, 7),       # 3, b7, 9, 13, 5 (9 / 13)
    "hdim": (3, 6, 10, 0, 5),      # b3, b5, b7, 1, 11
    "dim": (3, 6, 9, 0),           # the four dim7 tones
    "aug": (4, 8, 0, 2),           # 3, #5, 1, 9
    "sus": (5, 10, 2, 7, 9),       # 4, b7, 9, 5, 13
    "power": (7, 0, 2),
}


@dataclass
class Performance:
    """Notes being written by an engine, plus the pedal and a budget of outside notes."""

    notes: list[Note] = field(default_factory=list)
    pedal: list[tuple[float, float]] = field(default_factory=list)

    def add(self, start: float, pitch: int, duration: float, velocity: float) -> None:
        pitch = int(pitch)
        while pitch < PIANO_LOW:
            pitch += 12
        while pitch > PIANO_HIGH:
            pitch -= 12
        self.notes.append(Note(start=round(start, 4), pitch=pitch, duration=round(max(duration, 0.05), 4),
                               velocity=int(max(20, min(120, round(velocity))))))

    def chord(self, start: float, pitches: list[int], duration: float, velocity: float) -> None:
        for index, pitch in enumerate(sorted(pitches)):
            accent = 6 if index == len(pitches) - 1 else 0  # the melody on top speaks
            self.add(start, pitch, duration, velocity + accent)


def colour_intervals(chord: Chord) -> list[int]:
    """Intervals to voice, most important first: the guide tones (3rd, 7th or 6th), the tensions
    written in the symbol, then the family's colours, the 5th and the root. A 6 or add9 chord gets
    no 7th; an altered 9th or 13th replaces the natural one."""
    core = chord.core
    guide = [i for i in (2, 3, 4, 5) if i in core] + [i for i in (9, 10, 11) if i in core]
    written = sorted(chord.intervals - core - {0})
    banned = set(guide) | set(written)
    if 9 in core or "add" in chord.quality:
        banned |= {10, 11}
    if chord.family == "min" and 11 in core:
        banned.add(10)
    if chord.intervals & {1, 3} and chord.family == "dom":
        banned.add(2)
    if 8 in chord.intervals and chord.family == "dom":
        banned |= {7, 9}
    family = [i for i in COLOURS[chord.family] if i not in banned]
    rest = [i for i in sorted(core) if i not in guide and i not in family and i != 0]
    if chord.bass is not None:  # over a slash bass the upper structure must name the chord
        ordered = guide + [0] + written + family + rest
    else:
        ordered = guide + written + family + rest + [0]
    return list(dict.fromkeys(ordered))


def allowed_pitch_classes(chord: Chord) -> list[int]:
    return sorted(chord.tension_aware_set)


def nearest(pc: int, target: float) -> int:
    """The pitch of class ``pc`` nearest to ``target``."""
    base = int(round(target)) - 6
    return min((p for p in range(base, base + 13) if p % 12 == pc), key=lambda p: abs(p - target))


def voicing(chord: Chord, top_target: float, size: int, rng: random.Random,
            low_limit: int = 52) -> list[int]:
    """A close voicing of ``size`` notes under a top note near ``top_target`` (see colour_intervals)."""
    intervals = colour_intervals(chord)[:size]
    pcs = [(chord.root + i) % 12 for i in intervals]
    top_pc = pcs[rng.randrange(min(2, len(pcs)))] if rng.random() < 0.3 else pcs[0]
    top = nearest(top_pc, top_target)
    pitches = [top]
    for pc in pcs:
        if pc == top_pc:
            continue
        pitch = top - ((top - pc) % 12 or 12)
        pitches.append(pitch)
    pitches.sort()
    while pitches[0] < low_limit:
        pitches = [p + 12 for p in pitches]
    return sorted(set(pitches))


def bass_pitch(chord: Chord, low: int = 33, high: int = 47) -> int:
    """The bass note (slash bass or root) in the bass register."""
    pc = chord.bass_pc
    pitch = low + ((pc - low) % 12)
    return pitch if pitch <= high else pitch - 12


def scale_walk(chord: Chord, start_pitch: int, target_pitch: int, steps: int) -> list[int]:
    """Up to ``steps`` pitches from the chord's allowed set leading from ``start_pitch`` to
    ``target_pitch`` (exclusive both), closest to the target: a walk-up or walk-down."""
    allowed = set(allowed_pitch_classes(chord))
    lo, hi = sorted((start_pitch, target_pitch))
    path = [p for p in range(lo + 1, hi) if p % 12 in allowed]
    if target_pitch < start_pitch:
        path = path[::-1]
    return path[-steps:] if steps else []


def next_event(events: list[ChordEvent], index: int) -> ChordEvent | None:
    for event in events[index + 1:]:
        if not event.chord.is_no_chord:
            return event
    return None


def previous_chord(events: list[ChordEvent], index: int) -> Chord | None:
    for event in reversed(events[:index]):
        if not event.chord.is_no_chord:
            return event.chord
    return None


def dynamics(beat: float, phrase_beats: float, low: float, high: float) -> float:
    """A velocity arc that rises through a phrase and falls at its end."""
    import math

    x = (beat % phrase_beats) / phrase_beats
    return low + (high - low) * math.sin(math.pi * min(max(x * 1.15, 0.0), 1.0))
