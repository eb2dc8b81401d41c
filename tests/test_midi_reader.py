"""The one MIDI reader (symusic) against pretty_midi's reading of the same files.

pretty_midi read takes, primers and piano rolls until the readers became one; the reference
below is that reading (note times through pretty_midi's tempo map, in beats). Notes must agree on
generated MIDI and on every file of ../shared/corpus. The one place the libraries differ on
purpose: notes of one pitch that overlap. pretty_midi ends every open note of the pitch at the
first note-off, symusic pairs note-offs first in, first out; neither gives back what was written,
and the durations of such notes are left out of the comparison (their onsets are compared).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from pipelines.common.errors import StudioError
from pipelines.music.chords import ChordEvent, parse_chord
from pipelines.music.midi_reader import load_score, read_midi, read_piece, read_score
from pipelines.music.piece import Note, Piece

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "midi"
FILES = sorted(p for folder in ("piano", "multitrack") for p in (CORPUS / folder).glob("*.mid"))
TOLERANCE = 1e-4   # beats; plus FLOAT32 of the beat count: symusic's quarter time is float32
FLOAT32 = 5e-7


def pretty_midi_notes(path: Path, drop_drums: bool = True) -> np.ndarray:
    """(start, pitch, duration, velocity) rows as pretty_midi reads them, in beats, sorted."""
    pm = pretty_midi.PrettyMIDI(str(path))

    def beats(t: float) -> float:
        return pm.time_to_tick(t) / pm.resolution

    rows = [(beats(n.start), n.pitch, max(beats(n.end) - beats(n.start), 1e-3), n.velocity)
            for inst in pm.instruments if not (inst.is_drum and drop_drums) for n in inst.notes]
    return np.array(sorted(rows), dtype=float).reshape(-1, 4)


def overlapping(rows: np.ndarray) -> np.ndarray:
    """True for notes that overlap another note of their pitch (on any track)."""
    out = np.zeros(len(rows), dtype=bool)
    for pitch in np.unique(rows[:, 1]):
        index = np.flatnonzero(rows[:, 1] == pitch)
        starts, ends = rows[index, 0], rows[index, 0] + rows[index, 2]
        for i, j in enumerate(index):
            others = np.delete(np.arange(len(index)), i)
            out[j] = bool(np.any((starts[others] < ends[i] - TOLERANCE) & (ends[others] > starts[i] + TOLERANCE)))
    return out


def assert_same_notes(piece: Piece, reference: np.ndarray) -> None:
    got = np.array([(n.start, n.pitch, n.duration, n.velocity) for n in piece.notes], dtype=float).reshape(-1, 4)
    assert got.shape == reference.shape
    def order(rows: np.ndarray) -> np.ndarray:   # onset, pitch, velocity, duration
        rounded = np.round(rows / TOLERANCE)
        return np.lexsort((rounded[:, 2], rows[:, 3], rows[:, 1], rounded[:, 0]))

    by_onset, mine = order(reference), order(got)
    reference, got = reference[by_onset], got[mine]
    tolerance = TOLERANCE + FLOAT32 * (reference[:, 0] + reference[:, 2])
    assert np.all(np.abs(got[:, 0] - reference[:, 0]) <= tolerance)
    assert np.array_equal(got[:, [1, 3]], reference[:, [1, 3]])
    plain = ~overlapping(reference) & ~overlapping(got)
    assert plain.any()
    assert np.all(np.abs(got[plain, 2] - reference[plain, 2]) <= tolerance[plain])


def generated_piece() -> Piece:
    notes = [Note(bar * 3 + beat / 3, 48 + (bar * 5 + beat) % 36, 1 / 3 + 0.25 * (beat % 2), 40 + beat * 9)
             for bar in range(8) for beat in range(9)]
    notes += [Note(0.0, 60, 2.0), Note(1.0, 60, 0.5), Note(23.5, 72, 0.125, 127)]   # two Cs overlap
    chords = [ChordEvent(0.0, 6.0, parse_chord("Cmaj7")), ChordEvent(6.0, 6.0, parse_chord("F#m7b5")),
              ChordEvent(12.0, 12.0, parse_chord("G7/B"))]
    return Piece(notes=notes, tempo_bpm=96.0, time_signature=(3, 4), chords=chords,
                 pedal=[(0.0, 2.5), (3.0, 5.75)], program=4)


def test_a_written_piece_reads_back_as_pretty_midi_reads_it(tmp_path):
    original = generated_piece()
    path = original.write_midi(tmp_path / "take.mid")
    piece = read_midi(path)
    assert_same_notes(piece, pretty_midi_notes(path))
    assert (piece.tempo_bpm, piece.time_signature, piece.program) == (96.0, (3, 4), 4)
    assert [(c.start, c.chord.symbol) for c in piece.chords] == [(c.start, c.chord.symbol) for c in original.chords]
    assert np.allclose(piece.pedal, original.pedal, atol=1 / 220)
    written = np.array([(n.start, n.pitch, n.duration, n.velocity) for n in sorted(original.notes)])
    kept = ~overlapping(written)
    assert np.allclose(np.array([(n.start, n.pitch, n.duration, n.velocity) for n in piece.notes])[kept],
                       written[kept], atol=1 / 220)   # pretty_midi writes 220 ticks a beat


def test_one_drum_option_for_pieces_and_scores(tmp_path):
    pm = Piece(notes=[Note(float(i), 60 + i, 0.5) for i in range(8)]).to_pretty_midi()
    kit = pretty_midi.Instrument(program=0, is_drum=True, name="kit")
    kit.notes = [pretty_midi.Note(100, 36 + i % 3, i * 0.25, i * 0.25 + 0.1) for i in range(12)]
    pm.instruments.append(kit)
    path = tmp_path / "band.mid"
    pm.write(str(path))
    data = path.read_bytes()
    assert_same_notes(read_midi(path), pretty_midi_notes(path))
    assert_same_notes(read_midi(path, drop_drums=False), pretty_midi_notes(path, drop_drums=False))
    piece, info = read_piece(data, "band.mid")
    assert len(piece.notes) == 8 and info.drum_notes == 12
    assert [t.is_drum for t in read_score(data).tracks] == [False]
    assert sorted(t.is_drum for t in read_score(data, drop_drums=False).tracks) == [False, True]


def test_bad_files_are_named(tmp_path):
    with pytest.raises(StudioError, match="missing.mid does not exist"):
        read_midi(tmp_path / "missing.mid")
    with pytest.raises(StudioError, match="x.mid is not a MIDI file"):
        load_score(b"RIFF....", "x.mid")
    with pytest.raises(StudioError, match="x.mid is empty"):
        read_piece(b"", "x.mid")


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_corpus_notes_are_pretty_midis(corpus_dir, path):
    assert_same_notes(read_midi(path), pretty_midi_notes(path))
