"""Audio rendering: non-silent, as long as the music, loudness-normalised, one gain for all."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from pipelines.common.errors import StudioError
from pipelines.music.piece import Note, Piece
from pipelines.music.loudness import loudness_lufs
from pipelines.music.render import StreamingRender, find_soundfont, render_wav, synthesize


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


def test_a_render_streamed_bar_by_bar_equals_the_one_shot_render(tmp_path):
    """Bars rendered as they are written (a model still playing) give the very samples of one render."""
    piece = four_bar_piece()
    piece.notes.append(Note(start=1.5, pitch=48, duration=9.0, velocity=70))   # rings across three bars
    piece.pedal = [(0.0, 3.5), (6.0, 15.0)]
    whole = synthesize(piece.to_pretty_midi())
    stream = StreamingRender()
    for bars in range(1, 4):   # what the model had written when bar ``bars + 1`` began
        written = Piece(notes=[n for n in piece.notes if n.start < 4 * bars], tempo_bpm=120, bars_hint=bars,
                        pedal=[(down, up) for down, up in piece.pedal if down < 4 * bars])
        stream.advance(written.to_pretty_midi(), piece.seconds(4 * bars))
    assert not stream.diverged
    assert np.array_equal(stream.audio(piece.to_pretty_midi()), whole)
    # a changed note that was already rendered: noticed, rendered again from the start
    changed = StreamingRender()
    changed.advance(piece.to_pretty_midi(), 4.0)
    piece.notes[0] = Note(start=0.0, pitch=61, duration=0.5, velocity=80)
    assert np.array_equal(changed.audio(piece.to_pretty_midi()), synthesize(piece.to_pretty_midi()))


def test_loudness_matches_pyloudnorm_and_a_gain_shifts_it_exactly():
    import pyloudnorm

    from pipelines.music.loudness import KWeighting, SquareSums, block_loudness, gated_loudness

    audio = synthesize(four_bar_piece().to_pretty_midi())
    reference = pyloudnorm.Meter(44_100).integrated_loudness(audio.astype(np.float64))
    assert loudness_lufs(audio, 44_100) == pytest.approx(reference, abs=1e-9)
    assert loudness_lufs(audio[:, 0], 44_100) == pytest.approx(
        pyloudnorm.Meter(44_100).integrated_loudness(audio[:, 0].astype(np.float64)), abs=1e-9)
    weighting, sums = KWeighting(44_100, 2), SquareSums(2)   # chunk by chunk, as a streamed render meters it
    cuts = [0, 1, 1, 4410, 17_640, 17_641, 50_000, len(audio) - 3, len(audio)]   # empty, one-frame, block-sized
    for start, end in zip(cuts, cuts[1:]):
        sums.add(weighting(audio[start:end].astype(np.float64)))
    blocks = sums.block_loudness(44_100)
    whole = block_loudness(KWeighting(44_100, 2)(audio.astype(np.float64)), 44_100)
    heard = whole > -70.0   # (blocks near silence differ by rounding in the last digits of their sums)
    assert len(blocks) == len(whole) and np.allclose(blocks[heard], whole[heard], rtol=0, atol=1e-9)
    assert gated_loudness(blocks) == pytest.approx(reference, abs=1e-9)
    quiet = (audio * 0.1).astype(np.float32)
    assert gated_loudness(blocks, -20.0) == pytest.approx(loudness_lufs(quiet, 44_100), abs=1e-4)
