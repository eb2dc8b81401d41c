"""Fast MIDI reading for datasets: symusic (C++) in quarter-note time straight into a Piece.

``pipelines.music.piece.read_midi`` (pretty_midi) is the general reader; a dataset reads hundreds
of files, so this module reads with symusic, whose ``ttype="quarter"`` already gives beats through
the tempo map. Chord text events (``chord:<symbol>``) become the Piece's chart as in read_midi.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..common.errors import StudioError
from ..music.chords import parse_chord
from ..music.piece import CHORD_TEXT_PREFIX, ChordEvent, Note, Piece

if TYPE_CHECKING:
    import symusic


@dataclass
class MidiInfo:
    """What a file holds besides its notes: its tracks and whether it had drums."""

    tracks: list[dict] = field(default_factory=list)   # {"name", "program", "is_drum", "notes"}
    drum_notes: int = 0
    tempo_changes: int = 0
    time_signature_changes: int = 0


def load_score(data: bytes, name: str = "file") -> "symusic.Score":
    """Parse MIDI bytes (quarter-note time); a corrupt file raises StudioError naming it."""
    import symusic

    if not data:
        raise StudioError(f"{name} is empty (0 bytes)")
    if data[:4] != b"MThd":
        raise StudioError(f"{name} is not a MIDI file (it does not start with the MThd header)")
    try:
        return symusic.Score.from_midi(data, ttype="quarter")
    except Exception as exc:  # symusic raises RuntimeError/ValueError on malformed data
        raise StudioError(f"{name} is not a readable MIDI file ({exc})") from None


def piece_from_score(score: "symusic.Score", drop_drums: bool = True,
                     marks: list[tuple[float, str]] | None = None) -> tuple[Piece, MidiInfo]:
    """Merge the (non-drum) tracks of ``score`` into one Piece; times are already in beats.

    Args:
        marks: the chart as (beat, chord symbol) pairs (see ``chord_marks``); markers of the
            score that read ``chord:<symbol>`` are used as well.
    """
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
    piece = Piece(notes=notes, tempo_bpm=round(tempo, 3), time_signature=time_signature,
                  chords=_chart(sorted(set((marks or []) + _marker_marks(score))), notes),
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


def _marker_marks(score: "symusic.Score") -> list[tuple[float, str]]:
    return [(float(m.time), m.text[len(CHORD_TEXT_PREFIX):]) for m in score.markers
            if m.text.startswith(CHORD_TEXT_PREFIX)]


def read_piece(data: bytes, name: str = "file", drop_drums: bool = True) -> tuple[Piece, MidiInfo]:
    """MIDI bytes -> (Piece with its chart, MidiInfo)."""
    return piece_from_score(load_score(data, name), drop_drums=drop_drums, marks=chord_marks(data))


def piece_to_score(piece: Piece, ticks_per_quarter: int = 480) -> "symusic.Score":
    """A Piece as a one-track symusic Score (tick time), for the MidiTok tokenizers."""
    import symusic

    score = symusic.Score(ticks_per_quarter)
    score.tempos.append(symusic.Tempo(0, piece.tempo_bpm))
    score.time_signatures.append(symusic.TimeSignature(0, *piece.time_signature))
    track = symusic.Track("Piano", piece.program, False)
    if piece.notes:
        raw = np.array([(n.start, n.duration, n.pitch, n.velocity) for n in piece.notes], dtype=float)
        starts = np.round(raw[:, 0] * ticks_per_quarter).astype(np.int32)
        durations = np.maximum(1, np.round(raw[:, 1] * ticks_per_quarter)).astype(np.int32)
        track.notes = symusic.Note.from_numpy(starts, durations, raw[:, 2].astype(np.int8),
                                              np.clip(raw[:, 3], 1, 127).astype(np.int8), "tick")
    for down, up in piece.pedal:
        track.pedals.append(symusic.Pedal(int(round(down * ticks_per_quarter)),
                                          max(1, int(round((up - down) * ticks_per_quarter)))))
    score.tracks.append(track)
    return score


def score_to_piece(score: "symusic.Score") -> Piece:
    """A (decoded) symusic Score back to a Piece, in beats."""
    return piece_from_score(score.to("quarter"), drop_drums=True)[0]
