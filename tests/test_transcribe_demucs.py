"""Demucs through its real API (apply_model, get_model on a folder, the torch hub cache) with a
small HTDemucs built from a config with random weights; stems cached by input hash."""
from __future__ import annotations

import numpy as np
import pretty_midi
import pytest
import soundfile
import torch

from pipelines.common.errors import StudioError
from pipelines.transcribe.compare import run_ab
from pipelines.transcribe.config import ABConfig
from pipelines.transcribe.separate import hub_weight_files, separate, separate_with_model

SOURCES = ["drums", "bass", "other", "vocals"]


def tiny_htdemucs(sources=SOURCES):
    """HTDemucs at 44.1 kHz with 8 channels, one transformer layer and 4 s segments (~0.3 M params)."""
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(0)
    return HTDemucs(sources=sources, channels=8, depth=4, t_layers=1, t_heads=2, segment=4,
                    dconv_depth=1, dconv_comp=4, t_hidden_scale=1.0).eval()


def save_package(model, path):
    """The file layout demucs' own pretrained .th files have (klass, args, kwargs, state)."""
    from demucs.states import get_state

    args, kwargs = model._init_args_kwargs
    torch.save({"klass": type(model), "args": args, "kwargs": kwargs,
                "state": get_state(model, None, half=False), "training_args": {}}, path)
    return path


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """A folder as a user would place it: htdemucs.yaml naming one model, and that model's .th."""
    folder = tmp_path_factory.mktemp("demucs_weights")
    save_package(tiny_htdemucs(), folder / "tiny0001.th")
    (folder / "htdemucs.yaml").write_text("models: ['tiny0001']\n")
    return folder


def clip(seconds=3.0, rate=44_100, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.02 * rng.standard_normal(len(t))
    return np.repeat(tone[:, None], channels, axis=1).astype(np.float32)


def test_apply_model_returns_every_source_at_the_model_rate():
    model = tiny_htdemucs()
    stems = separate_with_model(model, clip(2.5, rate=22_050, channels=1), 22_050)
    assert list(stems) == SOURCES
    for audio in stems.values():
        assert audio.shape == (int(2.5 * 44_100), 2) and audio.dtype == np.float32
        assert np.isfinite(audio).all()


def test_folder_weights_are_loaded_and_stems_cached_by_input_hash(weights_dir, studio_home):
    cfg = ABConfig(separator="demucs", demucs_weights_dir=str(weights_dir))
    first = separate(clip(), 44_100, cfg)
    assert not first.cached and first.sample_rate_hz == 44_100 and list(first.stems) == SOURCES
    assert first.stems["bass"].shape == (3 * 44_100, 2)
    second = separate(clip(), 44_100, cfg)
    assert second.cached
    for name in SOURCES:
        np.testing.assert_array_equal(first.stems[name], second.stems[name])
    assert list((studio_home / ".cache" / "transcribe" / "stems").iterdir())
    other = separate(clip(seed=1), 44_100, cfg)
    assert not other.cached


def test_the_torch_hub_cache_is_used_without_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (name,) = hub_weight_files("htdemucs")
    save_package(tiny_htdemucs(), checkpoints / name)
    result = separate(clip(1.5), 44_100, ABConfig(separator="demucs", use_cache=False))
    assert list(result.stems) == SOURCES and not result.cached


def test_missing_weights_name_the_oracle_mode_and_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(StudioError) as err:
        separate(clip(1.0), 44_100, ABConfig(separator="demucs", demucs_model="htdemucs_6s"))
    message, detail = str(err.value), err.value.local_detail
    assert "oracle" in message and "TORCH_HOME" in message and "demucs_weights_dir" in message
    assert str(tmp_path) not in message  # a browser never learns the server's folders
    assert "5c90dfd2-34c22ccb.th" in detail and str(tmp_path / "empty") in detail  # the CLI prints them


def test_ab_on_audio_with_a_reference_runs_mix_and_demucs_sides(weights_dir, tmp_path):
    rate = 22_050  # any rate: resampled for Demucs and for basic-pitch
    soundfile.write(tmp_path / "song.wav", clip(4.0, rate=rate, channels=1), rate)
    ref = pretty_midi.PrettyMIDI()
    bass = pretty_midi.Instrument(program=33)
    bass.notes = [pretty_midi.Note(90, 57, t, t + 0.9) for t in range(4)]
    ref.instruments.append(bass)
    ref.write(str(tmp_path / "ref.mid"))
    cfg = ABConfig(separator="demucs", demucs_weights_dir=str(weights_dir))
    result = run_ab(tmp_path / "song.wav", cfg, tmp_path / "out", reference=tmp_path / "ref.mid")
    assert result.sides == ["mix", "demucs"] and result.kind == "audio"
    assert {r.stem for r in result.runs if r.side == "demucs"} == set(SOURCES)
    rows = {(r["side"], r["stem"]): r for r in result.scores}
    assert rows[("demucs", "other")]["onset_50ms"]["f1"] is None  # no reference notes: N/A
    assert rows[("demucs", "bass")]["onset_50ms"]["n_ref"] == 4
    assert rows[("mix", "all pitched")]["onset_50ms"]["n_ref"] == 4
    assert "cpu" in result.device["separator"] and "separate" in result.timings_s


def test_a_cuda_device_without_a_gpu_is_refused(weights_dir):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(StudioError, match="no CUDA GPU"):
        separate(clip(1.0), 44_100, ABConfig(separator="demucs", device="cuda",
                                              demucs_weights_dir=str(weights_dir)))


@pytest.mark.cuda
def test_demucs_runs_on_cuda():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    stems = separate_with_model(tiny_htdemucs(), clip(2.0), 44_100, device="cuda")
    assert list(stems) == SOURCES and stems["vocals"].shape == (2 * 44_100, 2)


def test_a_multitrack_midi_with_demucs_compares_all_three_sides(weights_dir, tmp_path):
    from test_transcribe_cli import band_midi

    song = band_midi(tmp_path / "band.mid", bars=2)
    cfg = ABConfig(separator="demucs", demucs_weights_dir=str(weights_dir))
    result = run_ab(song, cfg, tmp_path / "out")
    assert result.sides == ["mix", "demucs", "oracle"]
    rows = {(r["side"], r["stem"]) for r in result.scores}
    for side in ("demucs", "oracle"):
        assert {(side, s) for s in ("bass", "other", "vocals", "all pitched")} <= rows
    assert ("mix", "all pitched") in rows


def test_a_model_with_other_sources_is_refused(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    save_package(tiny_htdemucs(["drums", "bass", "other", "vocals", "guitar", "piano"]), folder / "six.th")
    (folder / "htdemucs.yaml").write_text("models: ['six']\n")
    with pytest.raises(StudioError, match="separates drums, bass, other, vocals, guitar, piano"):
        separate(clip(1.0), 44_100, ABConfig(separator="demucs", demucs_weights_dir=str(folder)))


def test_the_stem_cache_keeps_only_the_newest_entries(weights_dir, studio_home, monkeypatch):
    import pipelines.transcribe.separate as separate_module

    monkeypatch.setattr(separate_module, "CACHE_ENTRIES", 1)
    cfg = ABConfig(separator="demucs", demucs_weights_dir=str(weights_dir))
    separate(clip(1.0, seed=3), 44_100, cfg)
    separate(clip(1.0, seed=4), 44_100, cfg)
    entries = list((studio_home / ".cache" / "transcribe" / "stems").iterdir())
    assert len(entries) == 1
    assert separate(clip(1.0, seed=4), 44_100, cfg).cached
