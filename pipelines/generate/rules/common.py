"""Voicing and line helpers shared by the rule-based style engines.

Everything here picks pitches from a chord's *tension-aware set* (chord tones, written tensions and
the tensions its family allows), so that the engines follow the chart by construction; the few
deliberate outside notes (crushes, passing chords) are placed by the engines themselves.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import NamedTuple

from ...music.chords import Chord, ChordEvent
from ...music.metrics import chord_for_note
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
    "power": (7, 0),
}


GRID_TICKS = 12                   # ticks a beat on the event language's grid (pipelines/data/vocab.py)
GRID_OFFSETS = (0, 3, 4, 6, 8, 9)  # 16ths and eighth triplets inside one beat
LOW_REGISTER, LOW_MIN_GAP = 48, 7  # below C3, notes struck together stay a fifth apart


class Placement(NamedTuple):
    """Where a take plays, 0 (low) - 1 (high): its upper part (melody, voicings) and its bass line;
    and its rhythm family (0-2), which picks the rhythms the engine draws from."""

    upper: float = 0.5
    bass: float = 0.5
    family: int = 0


@dataclass
class Performance:
    """Notes being written by an engine for the chart ``events``, with what a pianist takes for
    granted built in: onsets on the 16th / triplet grid, one strike per key and onset, every onset
    heard against one chord (a pushed chord never mixes with the one before), no mud below C3,
    pitches folded into ``register``, and a key struck again cuts the note it still holds."""

    events: list[ChordEvent] = field(default_factory=list)
    register: tuple[int, int] = (PIANO_LOW, PIANO_HIGH)
    pedal: list[tuple[float, float]] = field(default_factory=list)
    _notes: dict[tuple[int, int], Note] = field(default_factory=dict)
    _owners: dict[int, str] = field(default_factory=dict)  # onset tick -> the chord heard there
    _struck: dict[int, set[int]] = field(default_factory=dict)  # onset tick -> pitches struck there
    _heard: dict[tuple[float, float], str] = field(default_factory=dict)  # (start, duration) -> chord name

    def __post_init__(self) -> None:
        self._active = [e for e in self.events if not e.chord.is_no_chord]

    def add(self, start: float, pitch: int, duration: float, velocity: float) -> bool:
        """Strike ``pitch`` at ``start`` beats; False when refused (the onset is heard against another
        chord, or the note would cluster below C3). A second strike of a key at one onset is one strike."""
        low, high = self.register
        pitch = int(pitch)
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        tick = snap_tick(start)
        if (tick, pitch) in self._notes:
            return True
        note = Note(start=round(tick / GRID_TICKS, 4), pitch=pitch, duration=round(max(duration, 0.05), 4),
                    velocity=int(max(20, min(120, round(velocity)))))
        heard = self.heard(note)
        if self._owners.setdefault(tick, heard) != heard:
            return False
        struck = self._struck.setdefault(tick, set())
        if pitch < LOW_REGISTER and any(p < LOW_REGISTER and abs(p - pitch) < LOW_MIN_GAP for p in struck):
            return False
        struck.add(pitch)
        self._notes[tick, pitch] = note
        return True

    def chord(self, start: float, pitches: list[int], duration: float, velocity: float) -> bool:
        """Strike ``pitches`` together, the top one louder; False when any was refused."""
        placed = True
        for index, pitch in enumerate(sorted(pitches)):
            accent = 6 if index == len(pitches) - 1 else 0  # the melody on top speaks
            placed &= self.add(start, pitch, duration, velocity + accent)
        return placed

    def heard(self, note: Note) -> str:
        """The name of the chord ``note`` is heard against ("NC" in a N.C. bar or outside the chart)."""
        key = (note.start, note.duration)
        if key not in self._heard:
            chord = chord_for_note(note, self._active)
            self._heard[key] = chord.name if chord is not None else "NC"
        return self._heard[key]

    @property
    def notes(self) -> list[Note]:
        """The notes in time order; a key struck while it still sounds first cuts the held note, or
        is left out where the cut would change the chord the held note is heard against."""
        out: list[Note] = []
        held: dict[int, Note] = {}
        for note in sorted(Note(n.start, n.pitch, n.duration, n.velocity) for n in self._notes.values()):
            before = held.get(note.pitch)
            if before is not None and before.end > note.start + 1e-9:
                cut = Note(before.start, before.pitch, round(note.start - before.start, 4), before.velocity)
                if self.heard(cut) != self.heard(before):
                    continue
                before.duration = cut.duration
            held[note.pitch] = note
            out.append(note)
        return out


def snap_tick(start: float) -> int:
    """``start`` beats as a tick on the event language's grid (the nearest 16th or eighth triplet)."""
    tick = round(start * GRID_TICKS)
    beat, offset = divmod(tick, GRID_TICKS)
    if offset in GRID_OFFSETS:
        return tick
    best = min(GRID_OFFSETS + (GRID_TICKS,), key=lambda o: abs(o - offset))
    return beat * GRID_TICKS + best


def colour_intervals(chord: Chord, rng: random.Random | None = None) -> list[int]:
    """Intervals to voice, most important first: the guide tones (3rd, 7th or 6th), the tensions
    written in the symbol, then the family's colours, the 5th and the root (those last in an order
    drawn from ``rng`` when given). A 6 or add9 chord gets no 7th; an altered 9th or 13th replaces
    the natural one."""
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
    if chord.family == "sus" and 10 not in chord.core:  # a sus triad with a 13th is another chord's 7sus4
        banned.add(9)
    fits = {(i - chord.root) % 12 for i in chord.tension_aware_set}
    family = [i for i in COLOURS[chord.family] if i not in banned and i in fits]
    rest = [i for i in sorted(core) if i not in guide and i not in family and i != 0]
    if rng is not None:
        family = rng.sample(family + rest, len(family + rest))
        rest = []
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


def voicing(chord: Chord, top_target: float, size: int, low_limit: int = 52, drop2: bool = False,
            rng: random.Random | None = None) -> list[int]:
    """The first ``size`` colour tones of ``chord`` (see colour_intervals; ``rng`` picks the colours
    after the guide tones and written tensions) voiced under a top note: the tone whose pitch lies
    nearest ``top_target`` is on top (so a moving target picks the inversion), the rest close below
    it, or with the second voice from the top dropped an octave."""
    intervals = colour_intervals(chord, rng)[:size]
    pcs = [(chord.root + i) % 12 for i in intervals]
    top = min((nearest(pc, top_target) for pc in pcs), key=lambda p: abs(p - top_target))
    pitches = sorted([top] + [top - ((top - pc) % 12 or 12) for pc in pcs if pc != top % 12])
    if drop2 and len(pitches) >= 4:
        pitches[-2] -= 12
    while min(pitches) < low_limit:
        pitches = [p + 12 for p in pitches]
    return sorted(set(pitches))


def bass_pitch(chord: Chord, low: int = 33) -> int:
    """The bass note (slash bass or root): its pitch in the octave from ``low`` up."""
    return low + ((chord.bass_pc - low) % 12)


def bass_line(events: list[ChordEvent], low: int, high: int, rng: random.Random,
              leap_rate: float) -> list[int | None]:
    """Each chord's bass (root or slash bass) inside [low, high]: the pitch nearest the bass before
    it (a line that moves by the smallest steps), or with ``leap_rate`` the next nearest (a leap,
    often the octave); None for N.C."""
    line: list[int | None] = []
    previous = rng.uniform(low, high)
    for event in events:
        if event.chord.is_no_chord:
            line.append(None)
            continue
        options = sorted((p for p in range(low, high + 1) if p % 12 == event.chord.bass_pc),
                         key=lambda p: (abs(p - previous), p))
        pitch = options[1] if len(options) > 1 and rng.random() < leap_rate else options[0]
        line.append(pitch)
        previous = pitch
    return line


def above(bass: int, pc: int, gap: int = 3) -> int:
    """The lowest pitch of class ``pc`` at least ``gap`` semitones above ``bass``, and a fifth or
    more above it while below C3 (no mud in the left hand)."""
    pitch = bass + gap + ((pc - bass - gap) % 12)
    while pitch < LOW_REGISTER and pitch - bass < LOW_MIN_GAP:
        pitch += 12
    return pitch


def scale_walk(chord: Chord, start_pitch: int, target_pitch: int, steps: int) -> list[int]:
    """Up to ``steps`` pitches leading from ``start_pitch`` to ``target_pitch`` (exclusive both),
    closest to the target: a walk-up or walk-down through the chord's own tones and its 9th and 13th
    (no altered tension in the bass, where it would rename the chord)."""
    plain = {(chord.root + i) % 12 for i in (2, 9)} & chord.tension_aware_set
    allowed = set(chord.pitch_classes) | plain
    lo, hi = sorted((start_pitch, target_pitch))
    path = [p for p in range(lo + 1, hi) if p % 12 in allowed]
    if target_pitch < start_pitch:
        path = path[::-1]
    return path[-steps:] if steps else []


def next_chord(events: list[ChordEvent], index: int) -> Chord | None:
    """The first chord (not N.C.) after event ``index``."""
    for event in events[index + 1:]:
        if not event.chord.is_no_chord:
            return event.chord
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
