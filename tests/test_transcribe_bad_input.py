"""Bad input gets one clear sentence (StudioError; exit 2 with one line from the CLI), never a crash."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile

from pipelines.common.errors import StudioError
from pipelines.transcribe.compare import run_ab
from pipelines.transcribe.config import ABConfig

REPO = Path(__file__).resolve().parents[1]


def write_tone(path, seconds, rate, channels=1, amplitude=0.3):
    t = np.arange(int(seconds * rate)) / rate
    tone = amplitude * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    soundfile.write(str(path), np.repeat(tone[:, None], channels, axis=1), rate)
    return path


def write_reference(path, seconds, pitch=64):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes = [pretty_midi.Note(90, pitch, t * 0.5, t * 0.5 + 0.25) for t in range(int(seconds * 2))]
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


MIX_ONLY = ABConfig(separator="none")


def test_silent_audio(tmp_path):
    soundfile.write(str(tmp_path / "silence.wav"), np.zeros((44_100 * 2, 2)), 44_100)
    with pytest.raises(StudioError, match=r"silence.wav is silent \(peak"):
        run_ab(tmp_path / "silence.wav", MIX_ONLY, tmp_path / "out")


@pytest.mark.parametrize("rate", [8_000, 96_000])
def test_low_and_high_sample_rates_are_resampled(tmp_path, rate):
    audio = write_tone(tmp_path / f"tone{rate}.wav", 3.0, rate, channels=2)
    ref = write_reference(tmp_path / "ref.mid", 3.0)
    result = run_ab(audio, MIX_ONLY, tmp_path / "out", reference=ref)
    assert result.sides == ["mix"] and result.duration_s == pytest.approx(3.0)
    row = result.scores[0]
    assert 0.0 <= row["onset_50ms"]["f1"] <= 1.0 and row["onset_50ms"]["n_ref"] == 6
    if rate == 8_000:
        assert any("8000 Hz" in note for note in result.notes)


def test_an_hour_long_file_is_capped_with_a_message(tmp_path):
    path = tmp_path / "hour.wav"
    with soundfile.SoundFile(str(path), "w", samplerate=2_000, channels=1, subtype="PCM_16") as f:
        block = np.full(2_000 * 60, 0.1)
        for _ in range(60):
            f.write(block)
    with pytest.raises(StudioError, match=r"lasts 60.0 min; the A/B takes at most 15 min: set excerpt_s"):
        run_ab(path, MIX_ONLY, tmp_path / "out")


def test_a_wav_with_a_wrong_header(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" + bytes(2000))
    with pytest.raises(StudioError, match="broken.wav is not readable audio"):
        run_ab(path, MIX_ONLY, tmp_path / "out")


def test_a_reference_far_shorter_than_the_audio(tmp_path):
    audio = write_tone(tmp_path / "long.wav", 12.0, 16_000)
    ref = write_reference(tmp_path / "short.mid", 2.0)
    with pytest.raises(StudioError, match=r"ends at 1.8 s but the audio lasts 12.0 s; .*excerpt_s"):
        run_ab(audio, MIX_ONLY, tmp_path / "out", reference=ref)


def test_oracle_needs_a_midi_and_unknown_types_are_named(tmp_path):
    audio = write_tone(tmp_path / "a.wav", 2.0, 16_000)
    with pytest.raises(StudioError, match="oracle stems need a multi-track MIDI"):
        run_ab(audio, ABConfig(separator="oracle"), tmp_path / "out")
    (tmp_path / "notes.txt").write_text("C E G")
    with pytest.raises(StudioError, match="allowed: .wav, .flac, .mp3, .ogg"):
        run_ab(tmp_path / "notes.txt", MIX_ONLY, tmp_path / "out")


def test_the_cli_prints_one_sentence_and_exits_2(tmp_path):
    pm = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes = [pretty_midi.Note(100, 38, 0.0, 0.1)]
    pm.instruments.append(kit)
    pm.write(str(tmp_path / "drums.mid"))
    done = subprocess.run([sys.executable, "-m", "pipelines.transcribe", "ab", str(tmp_path / "drums.mid"),
                           "--out", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "only drum tracks" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("suffix, fmt", [(".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_compressed_formats_are_decoded(tmp_path, suffix, fmt):
    if fmt not in soundfile.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    path = tmp_path / f"tone{suffix}"
    t = np.arange(2 * 44_100) / 44_100
    soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * 330 * t), 44_100, format=fmt)
    from pipelines.transcribe.audio import read_audio

    audio = read_audio(path, max_duration_s=60)
    assert audio.sample_rate_hz == 44_100 and abs(audio.duration_s - 2.0) < 0.1
