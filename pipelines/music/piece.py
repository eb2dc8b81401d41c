"""A piece of music in beats: notes, chords, pedal, tempo and meter; MIDI write (read: midi_reader).

Time is in quarter-note beats, so bars and the 16th grid are plain arithmetic; seconds only
appear at the MIDI edge (``seconds = beats * 60 / tempo_bpm``). Chord symbols travel inside
MIDI files as text events ``chord:<symbol>`` so that a written file keeps its chart.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .chords import Chord, ChordEvent

if TYPE_CHECKING:
    import pretty_midi

PIANO_LOW, PIANO_HIGH = 21, 108
CHORD_TEXT_PREFIX = "chord:"


@dataclass(order=True)
class Note:
    """One note; ``start`` and ``duration`` in quarter-note beats."""

    start: float
    pitch: int
    duration: float
    velocity: int = 80

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class Piece:
    """Notes plus the context needed to read them musically."""

    notes: list[Note] = field(default_factory=list)
    tempo_bpm: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    chords: list[ChordEvent] = field(default_factory=list)
    pedal: list[tuple[float, float]] = field(default_factory=list)  # (down, up) in beats
    program: int = 0  # General MIDI program (0 = acoustic grand)
    bars_hint: int | None = None  # the bars the piece was made to fill, when known

    @property
    def beats_per_bar(self) -> float:
        """Quarter-note beats in one bar (4/4 -> 4, 6/8 -> 3, 5/4 -> 5)."""
        numerator, denominator = self.time_signature
        return numerator * 4.0 / denominator

    @property
    def end_beat(self) -> float:
        ends = [n.end for n in self.notes] + [c.end for c in self.chords]
        return max(ends, default=0.0)

    @property
    def bars(self) -> int:
        """Whole bars spanned (the made-for length when known)."""
        if self.bars_hint:
            return self.bars_hint
        return max(1, math.ceil(self.end_beat / self.beats_per_bar - 1e-6))

    @property
    def duration_s(self) -> float:
        return self.bars * self.beats_per_bar * 60.0 / self.tempo_bpm

    def seconds(self, beats: float) -> float:
        return beats * 60.0 / self.tempo_bpm

    def chord_at(self, beat: float) -> Chord | None:
        """The chart chord sounding at ``beat`` (None where the chart is silent or N.C.)."""
        for event in self.chords:
            if event.start - 1e-9 <= beat < event.end - 1e-9:
                return None if event.chord.is_no_chord else event.chord
        return None

    # ---- MIDI edge -------------------------------------------------------------------------
    def to_pretty_midi(self) -> "pretty_midi.PrettyMIDI":
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(initial_tempo=float(self.tempo_bpm))
        pm.time_signature_changes.append(pretty_midi.TimeSignature(*self.time_signature, 0.0))
        piano = pretty_midi.Instrument(program=self.program, name="Piano")
        for note in sorted(self.notes):
            end = max(note.end, note.start + 1e-3)
            piano.notes.append(pretty_midi.Note(velocity=int(min(127, max(1, note.velocity))),
                                                pitch=int(note.pitch),
                                                start=self.seconds(note.start), end=self.seconds(end)))
        for down, up in self.pedal:
            piano.control_changes.append(pretty_midi.ControlChange(64, 127, self.seconds(down)))
            piano.control_changes.append(pretty_midi.ControlChange(64, 0, self.seconds(up)))
        pm.instruments.append(piano)
        for event in self.chords:
            pm.text_events.append(pretty_midi.Text(CHORD_TEXT_PREFIX + event.chord.symbol,
                                                   self.seconds(event.start)))
        return pm

    def write_midi(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_pretty_midi().write(str(path))
        return path
