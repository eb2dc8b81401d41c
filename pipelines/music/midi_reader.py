"""The one MIDI reader: MIDI bytes or a file -> a Piece in beats, with one drum option (``drop_drums``).

symusic (C++) parses the notes, pedal, tempo and meter: a dataset reads hundreds of files, and a
take is read back after every generation. Its ``ttype="quarter"`` gives beats (float32, so a beat
that is not a power-of-two fraction differs from pretty_midi's by under a millionth of its value).
symusic does not read text events, so mido reads the chart (``chord:<symbol>`` text, marker or cue
events, see ``Piece.write_midi``) of the files that carry one. ``load_pretty_midi`` is for the
callers that need pretty_midi's own API (rendering, stems, degraded copies), not for Pieces.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..common.errors import StudioError, reason
from .chords import ChordEvent, parse_chord
from .piece import CHORD_TEXT_PREFIX, Note, Piece

if TYPE_CHECKING:
    import pretty_midi
    import symusic


@dataclass
class MidiInfo:
    """What a file holds besides its notes: its tracks and whether it had drums."""

    tracks: list[dict] = field(default_factory=list)   # {"name", "program", "is_drum", "notes"}
    drum_notes: int = 0
    tempo_changes: int = 0
    time_signature_changes: int = 0


def load_score(data: bytes, name: str = "file") -> "symusic.Score":
    """Parse MIDI bytes (quarter-note time, every track); a corrupt file raises StudioError naming it."""
    import symusic

    if not data:
        raise StudioError(f"{name} is empty (0 bytes)")
    if data[:4] != b"MThd":
        raise StudioError(f"{name} is not a MIDI file (it does not start with the MThd header)")
    try:
        return symusic.Score.from_midi(data, ttype="quarter")
    except Exception as exc:  # symusic raises RuntimeError/ValueError on malformed data
        raise StudioError(f"{name} is not a readable MIDI file ({exc})") from None


def read_score(data: bytes, name: str = "file", drop_drums: bool = True) -> "symusic.Score":
    """MIDI bytes -> symusic Score in tick time, its drum tracks removed unless ``drop_drums`` is off
    (for the MidiTok tokenizers that keep one track per program)."""
    score = load_score(data, name).to("tick")
    if drop_drums:
        for index in reversed(range(len(score.tracks))):
            if score.tracks[index].is_drum:
                del score.tracks[index]
    return score


def piece_from_score(score: "symusic.Score", drop_drums: bool = True,
                     marks: list[tuple[float, str]] | None = None) -> tuple[Piece, MidiInfo]:
    """Merge the tracks of ``score`` (without its drums when ``drop_drums``) into one Piece in beats.

    Args:
        marks: the chart as (beat, chord symbol) pairs (see ``chord_marks``); markers of the
            score that read ``chord:<symbol>`` are used as well.
    """
    if "Quarter" not in type(score).__name__:
        score = score.to("quarter")
    info = MidiInfo(tempo_changes=len(score.tempos), time_signature_changes=len(score.time_signatures))
    columns: list[np.ndarray] = []      # (start, pitch, duration, velocity) rows per track
    pedal: list[tuple[float, float]] = []
    program = None
    for track in score.tracks:
        count = track.note_num()
        info.tracks.append({"name": track.name, "program": int(track.program),
                            "is_drum": bool(track.is_drum), "notes": int(count)})
        if track.is_drum and drop_drums:
            info.drum_notes += count
            continue
        if count:
            a = track.notes.numpy()
            columns.append(np.stack([a["time"], a["pitch"], np.maximum(a["duration"], 1e-3), a["velocity"]],
                                    axis=1).astype(float))
            program = int(track.program) if program is None else program
        pedal.extend((float(p.time), float(p.time + p.duration)) for p in track.pedals)
    tempo = float(score.tempos[0].qpm) if len(score.tempos) else 120.0
    ts = score.time_signatures[0] if len(score.time_signatures) else None
    time_signature = (int(ts.numerator), int(ts.denominator)) if ts else (4, 4)
    rows = np.concatenate(columns) if columns else np.zeros((0, 4))
    rows = rows[np.lexsort((rows[:, 3], rows[:, 2], rows[:, 1], rows[:, 0]))]  # Note's own order
    notes = [Note(start, int(pitch), duration, int(velocity)) for start, pitch, duration, velocity in rows.tolist()]
    marker_marks = [(float(m.time), m.text[len(CHORD_TEXT_PREFIX):]) for m in score.markers
                    if m.text.startswith(CHORD_TEXT_PREFIX)]
    piece = Piece(notes=notes, tempo_bpm=round(tempo, 3), time_signature=time_signature,
                  chords=_chart(sorted(set((marks or []) + marker_marks)), notes),
                  pedal=sorted(pedal), program=program or 0)
    return piece, info


def chord_marks(data: bytes) -> list[tuple[float, str]]:
    """(beat, symbol) of the ``chord:<symbol>`` text events (symusic does not read text events, so
    mido parses the files that carry them; others are not parsed twice)."""
    if CHORD_TEXT_PREFIX.encode() not in data:
        return []
    import io

    import mido

    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except Exception:  # the notes were readable; a broken chart only loses the chart
        return []
    marks = []
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.is_meta and message.type in ("text", "marker", "cue_marker") and \
                    message.text.startswith(CHORD_TEXT_PREFIX):
                marks.append((tick / midi.ticks_per_beat, message.text[len(CHORD_TEXT_PREFIX):]))
    return sorted(marks)


def _chart(marks: list[tuple[float, str]], notes: list[Note]) -> list[ChordEvent]:
    end = max((n.end for n in notes), default=0.0)
    out = []
    for i, (start, symbol) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else max(end, start + 1)
        try:
            out.append(ChordEvent(start, stop - start, parse_chord(symbol)))
        except StudioError:
            continue
    return out


def read_piece(data: bytes, name: str = "file", drop_drums: bool = True) -> tuple[Piece, MidiInfo]:
    """MIDI bytes -> (Piece with its chart, MidiInfo); a corrupt file raises StudioError naming it."""
    return piece_from_score(load_score(data, name), drop_drums=drop_drums, marks=chord_marks(data))


def read_midi(path: str | os.PathLike, drop_drums: bool = True) -> Piece:
    """A MIDI file -> Piece (``read_piece`` of its bytes); a missing file raises StudioError naming it."""
    path = Path(path)
    if not path.is_file():
        raise StudioError(f"MIDI file {path.name} does not exist")
    return read_piece(path.read_bytes(), path.name, drop_drums=drop_drums)[0]


def load_pretty_midi(path: str | os.PathLike) -> "pretty_midi.PrettyMIDI":
    """Read a MIDI file with pretty_midi, for callers that need its API (seconds, instruments,
    synthesis); a missing or corrupt file raises StudioError naming it."""
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise StudioError(f"MIDI file {path.name} does not exist")
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido raises many kinds on corrupt files
        raise StudioError(f"{path.name} is not a readable MIDI file ({reason(exc)})") from None
