"""Audio rendering: non-silent, as long as the music, loudness-normalised, one gain for all."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from pipelines.common.errors import StudioError
from pipelines.music.piece import Note, Piece
from pipelines.music.render import find_soundfont, loudness_lufs, render_wav, synthesize


def four_bar_piece(velocity: int = 80) -> Piece:
    """A 4-bar C major arpeggio written note by note (120 bpm: 8 s of music)."""
    notes = [Note(start=b * 0.5, pitch=[60, 64, 67, 72][b % 4], duration=0.5, velocity=velocity) for b in range(32)]
    return Piece(notes=notes, tempo_bpm=120, bars_hint=4)


def test_render_is_non_silent_and_as_long_as_the_music(tmp_path):
    piece = four_bar_piece()
    result = render_wav(piece.to_pretty_midi(), tmp_path / "a.wav")
    audio, rate = soundfile.read(result.path)
    assert rate == 44_100 and audio.ndim == 2
    music_s = piece.duration_s
    assert music_s <= len(audio) / rate <= music_s + 2.0
    rms = float(np.sqrt(np.mean(audio ** 2)))
    assert rms > 0.01
    # every second of the music has sound in it
    for second in range(int(music_s)):
        chunk = audio[second * rate:(second + 1) * rate]
        assert np.sqrt(np.mean(chunk ** 2)) > 0.003


def test_loudness_normalised_so_clips_compare_fairly(tmp_path):
    soft = render_wav(four_bar_piece(velocity=35).to_pretty_midi(), tmp_path / "soft.wav")
    loud = render_wav(four_bar_piece(velocity=120).to_pretty_midi(), tmp_path / "loud.wav")
    assert abs(soft.loudness_lufs - (-20.0)) < 1.0
    assert abs(loud.loudness_lufs - soft.loudness_lufs) < 1.0
    assert loud.peak_dbfs <= -0.9


def test_one_gain_for_every_render():
    piece = four_bar_piece()
    raw = synthesize(piece.to_pretty_midi())
    again = synthesize(piece.to_pretty_midi())
    assert np.allclose(raw, again)  # a cached synth leaves nothing behind between renders
    assert loudness_lufs(np.zeros((44_100, 2), dtype=np.float32), 44_100) == float("-inf")


def test_missing_soundfont_and_corrupt_midi_are_clear(tmp_path):
    with pytest.raises(StudioError, match="soundfont"):
        find_soundfont(tmp_path / "nope.sf2")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"this is not midi")
    with pytest.raises(StudioError, match="not a readable MIDI file"):
        render_wav(bad, tmp_path / "bad.wav")
