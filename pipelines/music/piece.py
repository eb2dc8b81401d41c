"""A piece of music in beats: notes, chords, pedal, tempo and meter; MIDI read and write.

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

from ..common.errors import StudioError, reason
from .chords import Chord, ChordEvent, parse_chord

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


def piece_from_pretty_midi(pm: "pretty_midi.PrettyMIDI", include_drums: bool = False) -> Piece:
    """All (non-drum) notes of ``pm`` in one Piece, times converted to beats through the tempo map."""
    ticks_per_beat = float(pm.resolution)

    def beats(t: float) -> float:
        return pm.time_to_tick(t) / ticks_per_beat

    notes = [Note(start=beats(n.start), pitch=n.pitch, duration=max(beats(n.end) - beats(n.start), 1e-3),
                  velocity=n.velocity)
             for inst in pm.instruments if include_drums or not inst.is_drum for n in inst.notes]
    tempos = pm.get_tempo_changes()[1]
    tempo = float(tempos[0]) if len(tempos) else 120.0
    ts = pm.time_signature_changes[0] if pm.time_signature_changes else None
    time_signature = (ts.numerator, ts.denominator) if ts else (4, 4)
    pedal = []
    for inst in pm.instruments:
        down = None
        for cc in sorted((c for c in inst.control_changes if c.number == 64), key=lambda c: c.time):
            if cc.value >= 64 and down is None:
                down = beats(cc.time)
            elif cc.value < 64 and down is not None:
                pedal.append((down, beats(cc.time)))
                down = None
    chord_marks = [(beats(t.time), t.text[len(CHORD_TEXT_PREFIX):]) for t in pm.text_events
                   if t.text.startswith(CHORD_TEXT_PREFIX)]
    chords = []
    end = max((n.end for n in notes), default=0.0)
    for i, (start, symbol) in enumerate(sorted(chord_marks)):
        stop = chord_marks[i + 1][0] if i + 1 < len(chord_marks) else max(end, start + 1)
        try:
            chords.append(ChordEvent(start, stop - start, parse_chord(symbol)))
        except StudioError:
            continue
    program = next((i.program for i in pm.instruments if not i.is_drum), 0)
    return Piece(notes=sorted(notes), tempo_bpm=round(tempo, 3), time_signature=time_signature,
                 chords=chords, pedal=pedal, program=program)


def load_pretty_midi(path: str | os.PathLike) -> "pretty_midi.PrettyMIDI":
    """Read a MIDI file with pretty_midi; a missing or corrupt file raises StudioError naming it."""
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise StudioError(f"MIDI file {path.name} does not exist")
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido raises many kinds on corrupt files
        raise StudioError(f"{path.name} is not a readable MIDI file ({reason(exc)})") from None


def read_midi(path: str | os.PathLike, include_drums: bool = False) -> Piece:
    """Read a MIDI file into a Piece; a corrupt file raises StudioError naming it."""
    return piece_from_pretty_midi(load_pretty_midi(path), include_drums=include_drums)
