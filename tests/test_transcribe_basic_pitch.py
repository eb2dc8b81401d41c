"""basic-pitch through onnxruntime on a rendered piano clip (golden-ish: F1 against the score)."""
from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from pipelines.common.config import load_config
from pipelines.common.paths import configs_dir
from pipelines.music.render import synthesize
from pipelines.transcribe import basicpitch, scoring
from pipelines.transcribe.config import ABConfig
from pipelines.transcribe.notes import notes_of_instruments


@pytest.fixture(scope="module")
def piano_clip():
    """12 s of piano written note by note: a melody over a bass note every other beat."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    rng = np.random.default_rng(7)
    t = 0.25
    for i in range(22):
        pitch = int(rng.choice(scale))
        piano.notes.append(pretty_midi.Note(90, pitch, t, t + 0.4))
        if i % 2 == 0:
            piano.notes.append(pretty_midi.Note(75, pitch - 12 - 3 * (i % 4 == 0), t, t + 0.9))
        t += 0.5
    pm.instruments.append(piano)
    return synthesize(pm, 44_100), notes_of_instruments(pm.instruments)


def test_tuned_thresholds_reach_onset_f1_0_8_on_rendered_piano(piano_clip):
    audio, reference = piano_clip
    cfg = load_config(ABConfig, configs_dir() / "transcribe" / "piano_tuned.yaml")
    est = basicpitch.transcribe(audio.mean(axis=1), 44_100, cfg.onset_threshold, cfg.frame_threshold,
                                cfg.min_note_ms)
    s = scoring.score(reference, est, 0.05)
    assert s.f1 >= 0.8, s
    default = scoring.score(reference, basicpitch.transcribe(audio.mean(axis=1), 44_100), 0.05)
    assert s.f1 >= default.f1, (s, default)  # tuning must not be worse than the defaults
    assert set(est.pitches) <= set(range(21, 109))
    assert est.intervals[:, 0].min() >= 0 and est.end_s <= len(audio) / 44_100 + 0.1


def test_thresholds_change_the_output(piano_clip):
    audio, _ = piano_clip
    mono = audio.mean(axis=1)[: 44_100 * 6]
    strict = basicpitch.transcribe(mono, 44_100, onset_threshold=0.9, frame_threshold=0.6)
    loose = basicpitch.transcribe(mono, 44_100, onset_threshold=0.2, frame_threshold=0.1,
                                  min_note_ms=20)
    assert len(loose) > len(strict)
    long_only = basicpitch.transcribe(mono, 44_100, 0.5, 0.3, min_note_ms=700)
    durations = long_only.intervals[:, 1] - long_only.intervals[:, 0]
    assert (durations >= 0.69).all()


def test_any_sample_rate_gives_the_same_notes(piano_clip):
    from pipelines.transcribe.audio import resample

    audio, reference = piano_clip
    mono = audio.mean(axis=1)[: 44_100 * 6]
    at_96k = resample(mono, 44_100, 96_000)
    a = basicpitch.transcribe(mono, 44_100, 0.6, 0.3)
    b = basicpitch.transcribe(at_96k, 96_000, 0.6, 0.3)
    assert scoring.score(a, b, 0.05).f1 >= 0.95


def test_the_onnx_session_is_loaded_once_and_silence_gives_no_notes():
    path = str(basicpitch.default_model_path())
    assert path.endswith("saved_models/icassp_2022/nmp.onnx")
    assert basicpitch.onnx_session(path) is basicpitch.onnx_session(path)
    assert len(basicpitch.transcribe(np.zeros(44_100, dtype=np.float32), 44_100)) == 0


def test_silent_windows_are_skipped_without_changing_the_notes(piano_clip, monkeypatch):
    audio, _ = piano_clip
    mono = audio.mean(axis=1)[: 44_100 * 4]
    gapped = np.concatenate([mono, np.zeros(44_100 * 7, dtype=np.float32), mono])
    skipped = basicpitch.transcribe(gapped, 44_100, 0.6, 0.3)
    monkeypatch.setattr(basicpitch, "SILENT_WINDOW_PEAK", 0.0)  # run every window
    full = basicpitch.transcribe(gapped, 44_100, 0.6, 0.3)
    np.testing.assert_array_equal(skipped.pitches, full.pitches)
    np.testing.assert_allclose(skipped.intervals, full.intervals, atol=0.02)
    assert len(full) > 0 and (full.intervals[:, 0] > 11).any()
