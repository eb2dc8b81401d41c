"""The registry's entries through their real code paths on tiny random models built from each
package's own configuration: MuScriptor (its LMModel, checkpoint loading and decoding), BS-RoFormer
and Mel-Band RoFormer (audio-separator's MDXC separator), SCNet (msst's Separator), Demucs
htdemucs_ft / htdemucs_6s (bags on a folder); instrument labels on notes; the stem SDR; devices;
offline and wrong-weights sentences."""
from __future__ import annotations

import copy
import json

import numpy as np
import pretty_midi
import pytest
import soundfile
import torch
import yaml

from pipelines.common.errors import StudioError
from pipelines.transcribe import separate as sep
from pipelines.transcribe.audio import read_audio
from pipelines.transcribe.config import ABConfig, stem_classes
from pipelines.transcribe.notes import (DRUM_PROGRAM, Notes, concat, inst_class_of_program,
                                        merge_duplicates, notes_of_instruments)
from pipelines.transcribe.transcribers import LABELS_INSTRUMENTS, run_transcriber

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")


def two_second_wav(path, rate=22_050, channels=1):
    """A bass-like 110 Hz tone over a 440 Hz one, 2 s, written and read back as a user's WAV."""
    t = np.arange(2 * rate) / rate
    mono = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.1 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(path, np.repeat(mono[:, None], channels, axis=1).astype(np.float32), rate)
    audio = read_audio(path, max_duration_s=60)
    return audio.samples, audio.sample_rate_hz


# ---- instrument labels on notes -----------------------------------------------------------------

def test_slakh_classes_of_general_midi_programs():
    assert inst_class_of_program(0) == "Piano" and inst_class_of_program(33) == "Bass"
    assert inst_class_of_program(30) == "Guitar" and inst_class_of_program(48) == "Strings (continued)"
    assert inst_class_of_program(100) == "Sound Effects" and inst_class_of_program(120) == "Sound effects"
    assert inst_class_of_program(5, is_drum=True) == "Drums" == inst_class_of_program(DRUM_PROGRAM)
    assert inst_class_of_program(-1) == ""


def test_labels_follow_notes_through_sort_select_concat_merge_and_midi(tmp_path):
    labelled = Notes.from_tuples([(1.0, 2.0, 40, 90, 33, None), (0.0, 0.5, 36, 100, DRUM_PROGRAM, None),
                                  (0.5, 1.0, 64, 80, 0, None)], labelled=True)
    assert labelled.labelled and list(labelled.pitches) == [36, 64, 40]
    assert list(labelled.programs) == [DRUM_PROGRAM, 0, 33]
    assert list(labelled.inst_classes) == ["Drums", "Piano", "Bass"]
    assert list(labelled.of_inst_class("Bass").pitches) == [40]
    assert set(labelled.by_inst_class()) == {"Drums", "Piano", "Bass"}
    plain = Notes.from_tuples([(0.2, 0.4, 50, 80)])
    assert not plain.labelled and plain.by_inst_class() == {}
    both = concat([labelled, plain])
    assert list(both.programs) == [DRUM_PROGRAM, -1, 0, 33] and list(both.inst_classes)[1] == ""
    merged, dropped = merge_duplicates(concat([labelled, labelled]), 0.05)
    assert dropped == 3 and list(merged.programs) == [DRUM_PROGRAM, 0, 33]
    pm = pretty_midi.PrettyMIDI(str(labelled.write_midi(tmp_path / "x.mid", name="mix")))
    tracks = {(i.program, i.is_drum): len(i.notes) for i in pm.instruments}
    assert tracks == {(0, False): 1, (33, False): 1, (0, True): 1}
    back = notes_of_instruments(pm.instruments)
    assert sorted(back.inst_classes) == ["Bass", "Drums", "Piano"]
    assert not notes_of_instruments(pm.instruments, labelled=False).labelled


# ---- MuScriptor ---------------------------------------------------------------------------------

def tiny_muscriptor_config():
    """MuScriptor's own _ModelConfig, shrunk (dim 32, 1 layer); card = the tokenizer's vocabulary."""
    from muscriptor.transcription_model import _ModelConfig

    from pipelines.transcribe import muscriptor

    return _ModelConfig(dim=32, num_heads=2, num_layers=1, card=len(muscriptor.tokenizer()._vocab))


def save_muscriptor(folder, cfg, seed=0):
    """A weights folder as the Hugging Face repo has it: model.safetensors + config.json."""
    from safetensors.torch import save_file

    from pipelines.transcribe import muscriptor

    torch.manual_seed(seed)
    tm = muscriptor.build(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in tm._model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"dim": cfg.dim, "num_heads": cfg.num_heads,
                                                    "num_layers": cfg.num_layers, "card": cfg.card}))
    return folder


@pytest.fixture(scope="module")
def muscriptor_weights(tmp_path_factory):
    return save_muscriptor(tmp_path_factory.mktemp("muscriptor") / "small", tiny_muscriptor_config())


def test_muscriptor_runs_from_a_weights_folder_on_a_two_second_wav(muscriptor_weights, tmp_path):
    from pipelines.transcribe import muscriptor

    muscriptor.load.cache_clear()
    mono, rate = two_second_wav(tmp_path / "clip.wav")
    cfg = ABConfig(transcriber="muscriptor", muscriptor_weights=str(muscriptor_weights), device="auto")
    run = run_transcriber("muscriptor", mono, rate, cfg)
    assert run.notes.labelled and run.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert run.audio_s == pytest.approx(2.0) and run.seconds > 0 and run.rtf == run.seconds / 2.0
    assert LABELS_INSTRUMENTS["muscriptor"] and not LABELS_INSTRUMENTS["basic-pitch"]
    loaded = muscriptor.load("small", str(muscriptor_weights), "cpu")
    assert loaded._model.dim == 32  # the config.json beside the weights sized the network


def test_muscriptor_decoding_gives_notes_labelled_with_programs_and_classes(muscriptor_weights):
    """The package's decoder on a token stream in its own vocabulary (the model's generate replaced
    by that stream): a bass note, a piano note and a drum hit come out labelled."""
    from pipelines.transcribe import muscriptor

    tm = muscriptor.load("small", str(muscriptor_weights), "cpu")
    index = tm._tokenizer._token_index
    tokens = [index[("tie", 0)],
              index[("shift", 50)], index[("program", 33)], index[("velocity", 1)], index[("pitch", 40)],
              index[("program", 0)], index[("pitch", 64)],
              index[("shift", 80)], index[("drum", 36)],
              index[("shift", 150)], index[("program", 33)], index[("velocity", 0)], index[("pitch", 40)],
              index[("shift", 170)], index[("program", 0)], index[("pitch", 64)],
              tm._tokenizer.eos_id]

    def scripted(**kwargs):
        for token in tokens:
            yield torch.tensor([token])

    real = tm._model.generate
    tm._model.generate = scripted
    try:
        notes = muscriptor.transcribe_with(tm, np.zeros(2 * 16_000, dtype=np.float32), 16_000)
    finally:
        tm._model.generate = real
    rows = {(int(p), str(c)): tuple(np.round(iv, 2)) for p, c, iv in
            zip(notes.programs, notes.inst_classes, notes.intervals)}
    assert rows[(33, "Bass")] == (0.5, 1.5) and rows[(0, "Piano")] == (0.5, 1.7)
    assert rows[(DRUM_PROGRAM, "Drums")][0] == 0.8 and len(notes) == 3
    assert list(notes.pitches) == [40, 64, 36]


def test_muscriptor_offline_names_the_repo_and_what_to_fetch(tmp_path, monkeypatch):
    from pipelines.transcribe import muscriptor

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty"))
    muscriptor.load.cache_clear()
    with pytest.raises(StudioError) as err:
        run_transcriber("muscriptor", np.zeros(16_000, np.float32), 16_000,
                        ABConfig(transcriber="muscriptor"))
    message = str(err.value)
    assert "huggingface.co/MuScriptor/muscriptor-small" in message and "CC BY-NC" in message
    assert "hf download MuScriptor/muscriptor-small model.safetensors config.json" in message
    assert "muscriptor_weights" in message and str(tmp_path) not in message


def test_muscriptor_weights_of_another_model_are_named(tmp_path):
    from pipelines.transcribe import muscriptor

    cfg = tiny_muscriptor_config()
    folder = save_muscriptor(tmp_path / "w", type(cfg)(dim=48, num_heads=2, num_layers=1, card=cfg.card))
    (folder / "config.json").write_text(json.dumps({"dim": 32, "num_heads": 2, "num_layers": 1,
                                                    "card": cfg.card}))
    muscriptor.load.cache_clear()
    with pytest.raises(StudioError, match=r"^the weights file model.safetensors does not fit the "
                                          r"MuScriptor model"):
        muscriptor.load("small", str(folder), "cpu")
    (folder / "model.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(StudioError, match="model.safetensors is not a safetensors checkpoint"):
        muscriptor.load("small", str(folder), "cpu")
    with pytest.raises(StudioError, match="muscriptor_model must be small, medium or large"):
        ABConfig(muscriptor_model="huge")


# ---- RoFormer separators (audio-separator) ------------------------------------------------------

def tiny_roformer_config(name):
    """The published model's YAML (bands, STFT, stems as released) with tiny widths and one layer."""
    cfg = copy.deepcopy(sep.SEPARATOR_MODELS[name].config)
    cfg["model"].update(dim=16, depth=1, heads=2, dim_head=8, mask_estimator_depth=1)
    return cfg


def save_roformer(folder, name, cfg=None, seed=0, as_name=None):
    torch.manual_seed(seed)
    cfg = cfg or tiny_roformer_config(name)
    ckpt, yml = sep.SEPARATOR_MODELS[as_name or name].files
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(sep.build_roformer(cfg).state_dict(), folder / ckpt)
    (folder / yml).write_text(yaml.safe_dump(cfg))
    return folder


@pytest.mark.parametrize("name,stems", [("bs_roformer_sw", sep.SIX_STEMS),
                                        ("mel_roformer_vocals", ("vocals", "other"))])
def test_roformer_separates_a_two_second_wav_from_a_weights_folder(name, stems, tmp_path):
    folder = save_roformer(tmp_path / "w", name)
    samples, rate = two_second_wav(tmp_path / "clip.wav", rate=22_050, channels=2)
    progress = []
    first = sep.separate_with(name, samples, rate, device="cpu", weights_dir=str(folder),
                              progress=lambda f, m: progress.append(f))
    assert tuple(first.stems) == stems == stem_classes(name) and first.sample_rate_hz == 44_100
    for audio in first.stems.values():
        assert audio.shape == (2 * 44_100, 2) and audio.dtype == np.float32 and np.isfinite(audio).all()
    assert progress and progress[-1] == 1.0 and not first.cached
    assert first.device == "cpu" and first.audio_s == pytest.approx(2.0) and first.rtf > 0
    if name == "mel_roformer_vocals":  # a one-target model: the other stem is the mix less vocals
        mix = sep.resample(samples, rate, 44_100)
        np.testing.assert_allclose(first.stems["vocals"] + first.stems["other"], mix, atol=1e-4)
    again = sep.separate_with(name, samples, rate, device="cpu", weights_dir=str(folder))
    assert again.cached
    np.testing.assert_array_equal(again.stems["vocals"], first.stems["vocals"])


def test_roformer_weights_come_from_audio_separators_folder(tmp_path, monkeypatch):
    folder = save_roformer(tmp_path / "models", "mel_roformer_vocals")
    monkeypatch.setenv("AUDIO_SEPARATOR_MODEL_DIR", str(folder))
    samples, rate = two_second_wav(tmp_path / "clip.wav")
    result = sep.separate(samples, rate, ABConfig(separator="demucs", demucs_model="mel_roformer_vocals",
                                                  use_cache=False))
    assert list(result.stems) == ["vocals", "other"]


def test_roformer_offline_says_what_to_fetch_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIO_SEPARATOR_MODEL_DIR", str(tmp_path / "none"))
    with pytest.raises(StudioError) as err:
        sep.separate_with("bs_roformer_sw", np.zeros((44_100, 2), np.float32), 44_100, device="cpu")
    message = str(err.value)
    assert "audio-separator --download_model_only -m BS-Roformer-SW.ckpt" in message
    assert "BS-Roformer-SW.yaml" in message and "AUDIO_SEPARATOR_MODEL_DIR" in message
    assert str(tmp_path) not in message and str(tmp_path / "none") in err.value.local_detail


def test_roformer_weights_of_another_model_are_named(tmp_path):
    folder = save_roformer(tmp_path / "w", "mel_roformer_vocals", as_name="bs_roformer_sw")
    (folder / "BS-Roformer-SW.yaml").write_text(yaml.safe_dump(tiny_roformer_config("bs_roformer_sw")))
    clip = np.zeros((44_100, 2), np.float32)
    with pytest.raises(StudioError, match=r"^the weights file BS-Roformer-SW.ckpt does not fit the model "
                                          r"that BS-Roformer-SW.yaml describes"):
        sep.separate_with("bs_roformer_sw", clip, 44_100, device="cpu", weights_dir=str(folder))
    (folder / "BS-Roformer-SW.ckpt").write_bytes(b"truncated")
    with pytest.raises(StudioError, match="BS-Roformer-SW.ckpt is not a PyTorch checkpoint"):
        sep.separate_with("bs_roformer_sw", clip, 44_100, device="cpu", weights_dir=str(folder))
    (folder / "BS-Roformer-SW.yaml").write_text("model: [unclosed")
    with pytest.raises(StudioError, match="BS-Roformer-SW.yaml is not a readable RoFormer YAML"):
        sep.separate_with("bs_roformer_sw", clip, 44_100, device="cpu", weights_dir=str(folder))


# ---- SCNet (msst) -------------------------------------------------------------------------------

def tiny_scnet_config(**model):
    """The published config_musdb18_scnet.yaml (bands, strides, stems, inference) with tiny widths, one
    conv per band, two dual-path layers (SCNet's FFT pairs need an even number) and 1-s chunks."""
    cfg = copy.deepcopy(sep.SEPARATOR_MODELS["scnet"].config)
    cfg["model"].update({"dims": [4, 8, 8, 16], "conv_depths": [1, 1, 1], "num_dplayer": 2} | model)
    cfg["audio"]["chunk_size"] = 44_100
    cfg["inference"]["batch_size"] = 2
    return cfg


def save_scnet(folder, cfg=None, seed=0):
    torch.manual_seed(seed)
    cfg = cfg or tiny_scnet_config()
    ckpt, yml = sep.SEPARATOR_MODELS["scnet"].files
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(sep.build_msst(cfg).state_dict(), folder / ckpt)
    (folder / yml).write_text(yaml.safe_dump(cfg))
    return folder


def test_scnet_separates_a_two_second_wav_and_its_bass_is_scored_against_the_oracle(tmp_path):
    folder = save_scnet(tmp_path / "w")
    rate = 22_050
    t = np.arange(2 * rate) / rate
    bass, other = 0.3 * np.sin(2 * np.pi * 110 * t), 0.1 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(tmp_path / "mix.wav", np.stack([bass + other] * 2, axis=1).astype(np.float32), rate)
    mix = read_audio(tmp_path / "mix.wav", max_duration_s=60)
    progress = []
    sep.load_msst.cache_clear()
    first = sep.separate_with("scnet", mix.samples, mix.sample_rate_hz, device="cpu",
                              weights_dir=str(folder), progress=lambda f, m: progress.append(f))
    assert tuple(first.stems) == sep.FOUR_STEMS == stem_classes("scnet") and first.sample_rate_hz == 44_100
    for audio in first.stems.values():
        assert audio.shape == (2 * 44_100, 2) and audio.dtype == np.float32 and np.isfinite(audio).all()
    assert progress and progress[-1] == 1.0 and len(progress) >= 3 and not first.cached
    assert first.device == "cpu" and first.audio_s == pytest.approx(2.0) and first.rtf > 0
    oracle_bass = sep.resample(bass[:, None].astype(np.float32), rate, 44_100)
    sdr = sep.stem_sdr(first.stems["bass"], oracle_bass)
    residual = np.sum((np.repeat(oracle_bass, 2, axis=1) - first.stems["bass"]) ** 2)
    assert sdr == pytest.approx(10 * np.log10(2 * np.sum(oracle_bass ** 2) / residual), abs=1e-6)
    other_seed = sep.separate_with("scnet", mix.samples, mix.sample_rate_hz, device="cpu",
                                   weights_dir=str(save_scnet(tmp_path / "w2", seed=1)), use_cache=False)
    assert not np.allclose(other_seed.stems["bass"], first.stems["bass"])  # the weights were used
    again = sep.separate_with("scnet", mix.samples, mix.sample_rate_hz, device="cpu",
                              weights_dir=str(folder))
    assert again.cached
    np.testing.assert_array_equal(again.stems["vocals"], first.stems["vocals"])


def test_scnet_is_in_the_config_the_study_and_the_tab(tmp_path, monkeypatch):
    from pipelines.transcribe.study import study_separators
    from studio.transcribe_tab import SEPARATORS

    folder = save_scnet(tmp_path / "models")
    monkeypatch.setenv("AUDIO_SEPARATOR_MODEL_DIR", str(folder))  # the RoFormers' folder holds it too
    assert ("SCNet (starrytong; MUSDB18, 4 stems): drums, bass, other, vocals", "demucs:scnet") in SEPARATORS
    cfg = ABConfig(separator="demucs", demucs_model="scnet", use_cache=False)
    assert cfg.stem_classes == sep.FOUR_STEMS
    assert study_separators(ABConfig(demucs_model="htdemucs"), ["scnet", "htdemucs"]) == ["scnet",
                                                                                         "htdemucs"]
    sep.load_msst.cache_clear()
    samples, rate = two_second_wav(tmp_path / "clip.wav")
    assert tuple(sep.separate(samples, rate, cfg).stems) == sep.FOUR_STEMS


def test_scnet_offline_says_what_to_fetch_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIO_SEPARATOR_MODEL_DIR", str(tmp_path / "none"))
    with pytest.raises(StudioError) as err:
        sep.separate_with("scnet", np.zeros((44_100, 2), np.float32), 44_100, device="cpu")
    message = str(err.value)
    assert message.startswith("the SCNet (starrytong; MUSDB18, 4 stems) weights "
                              "(scnet_checkpoint_musdb18.ckpt and config_musdb18_scnet.yaml) are not on")
    assert "Music-Source-Separation-Training/releases/download/v.1.0.6/" in message
    assert "AUDIO_SEPARATOR_MODEL_DIR" in message and "demucs_weights_dir" in message
    assert str(tmp_path) not in message and str(tmp_path / "none") in err.value.local_detail


def test_scnet_weights_of_another_model_are_named(tmp_path):
    folder = save_scnet(tmp_path / "w", tiny_scnet_config(dims=[4, 8, 16, 16]))
    (folder / "config_musdb18_scnet.yaml").write_text(yaml.safe_dump(tiny_scnet_config()))
    clip = np.zeros((44_100, 2), np.float32)
    sep.load_msst.cache_clear()
    with pytest.raises(StudioError, match=r"^the weights file scnet_checkpoint_musdb18.ckpt does not fit "
                                          r"the SCNet model that config_musdb18_scnet.yaml describes"):
        sep.separate_with("scnet", clip, 44_100, device="cpu", weights_dir=str(folder))
    save_roformer(tmp_path / "r", "mel_roformer_vocals")  # a RoFormer checkpoint under SCNet's name
    (tmp_path / "r" / "vocals_mel_band_roformer.ckpt").replace(folder / "scnet_checkpoint_musdb18.ckpt")
    with pytest.raises(StudioError, match=r"^the weights file scnet_checkpoint_musdb18.ckpt does not fit"):
        sep.separate_with("scnet", clip, 44_100, device="cpu", weights_dir=str(folder))
    (folder / "scnet_checkpoint_musdb18.ckpt").write_bytes(b"truncated")
    with pytest.raises(StudioError, match="scnet_checkpoint_musdb18.ckpt is not a PyTorch checkpoint"):
        sep.separate_with("scnet", clip, 44_100, device="cpu", weights_dir=str(folder))
    (folder / "config_musdb18_scnet.yaml").write_text(yaml.safe_dump(tiny_roformer_config("bs_roformer_sw")))
    with pytest.raises(StudioError, match="config_musdb18_scnet.yaml has no model: sources"):
        sep.separate_with("scnet", clip, 44_100, device="cpu", weights_dir=str(folder))
    bad = tiny_scnet_config()
    bad["model"]["depth"] = 3  # not an SCNet argument
    (folder / "config_musdb18_scnet.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(StudioError, match="config_musdb18_scnet.yaml does not describe a model msst can "
                                          "build as scnet"):
        sep.separate_with("scnet", clip, 44_100, device="cpu", weights_dir=str(folder))


# ---- Demucs entries -----------------------------------------------------------------------------

def save_demucs_bag(folder, name, n_models, sources, weights=None):
    from test_transcribe_demucs import save_package, tiny_htdemucs

    folder.mkdir(parents=True, exist_ok=True)
    sigs = []
    for i in range(n_models):
        torch.manual_seed(i)
        sigs.append(f"tiny{i:04d}")
        save_package(tiny_htdemucs(list(sources)), folder / f"{sigs[-1]}.th")
    bag = {"models": sigs} | ({"weights": weights} if weights else {})
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(bag))
    return folder


def test_htdemucs_ft_is_a_bag_of_four_models_one_per_source(tmp_path):
    eye = np.eye(4).tolist()  # as demucs' own htdemucs_ft.yaml: each model gives one source
    folder = save_demucs_bag(tmp_path / "ft", "htdemucs_ft", 4, sep.FOUR_STEMS, eye)
    samples, rate = two_second_wav(tmp_path / "clip.wav")
    result = sep.separate_with("htdemucs_ft", samples, rate, device="cpu", weights_dir=str(folder),
                               use_cache=False)
    assert tuple(result.stems) == sep.FOUR_STEMS and result.stems["bass"].shape == (2 * 44_100, 2)
    model = sep.load_model("htdemucs_ft", "folder", str(folder), "cpu")
    assert len(model.models) == 4
    assert sep.hub_weight_files("htdemucs_ft")[0].startswith("f7e0c4bc")


def test_htdemucs_6s_gives_six_stems(tmp_path):
    folder = save_demucs_bag(tmp_path / "6s", "htdemucs_6s", 1, sep.SIX_STEMS)
    samples, rate = two_second_wav(tmp_path / "clip.wav")
    result = sep.separate(samples, rate, ABConfig(separator="demucs", demucs_model="htdemucs_6s",
                                                  demucs_weights_dir=str(folder), use_cache=False))
    assert tuple(result.stems) == sep.SIX_STEMS


def test_demucs_weights_of_another_model_are_named(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    torch.save({"not": torch.zeros(3)}, folder / "tiny0001.th")
    (folder / "htdemucs.yaml").write_text("models: ['tiny0001']\n")
    with pytest.raises(StudioError, match=r"^the Demucs weights for htdemucs \(tiny0001.th in w\) are not "
                                          r"a Demucs model"):
        sep.separate_with("htdemucs", np.zeros((44_100, 2), np.float32), 44_100, device="cpu",
                          weights_dir=str(folder))


# ---- devices, registry names, SDR ---------------------------------------------------------------

def test_devices_auto_cpu_cuda():
    assert sep.resolve_device("cpu") == "cpu"
    assert sep.resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(StudioError, match="device must be auto, cpu or cuda"):
        sep.resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(StudioError, match="no CUDA GPU"):
            sep.resolve_device("cuda")
    assert ABConfig(device="auto").device == "auto"
    with pytest.raises(StudioError, match="separator model must be one of htdemucs, htdemucs_6s"):
        sep.separator_model("scnet_xl")


def test_stem_sdr_global_and_bss_eval():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((44_100, 2))
    noise = rng.standard_normal((44_100, 2))
    noise *= np.sqrt(np.sum(ref ** 2) / np.sum(noise ** 2)) / 10 ** (12 / 20)  # 12 dB below
    assert sep.stem_sdr(ref + noise, ref) == pytest.approx(12.0, abs=1e-6)
    assert sep.stem_sdr(ref[:, 0] + noise[:, 0], ref[:, 0]) == pytest.approx(12.0, abs=0.3)
    assert sep.stem_sdr(np.zeros_like(ref), ref) == pytest.approx(0.0, abs=1e-6)
    assert sep.stem_sdr(ref, np.zeros_like(ref)) is None  # a silent oracle stem: undefined
    mono_est = ref.mean(axis=1)
    assert sep.stem_sdr(mono_est, ref) < sep.stem_sdr(ref, ref)  # broadcast over channels
    framewise = sep.stem_sdr(ref + noise, ref, method="bss_eval", window_s=0.25)
    assert 10.0 < framewise < 14.0  # bss_eval's filter explains a little of the noise
    assert sep.stem_sdr(np.zeros_like(ref), ref, method="bss_eval", window_s=0.5) == 0.0
    with pytest.raises(StudioError, match="SDR method must be global or bss_eval"):
        sep.stem_sdr(ref, ref, method="si")


# ---- GPU and real weights (skipped where absent) ------------------------------------------------

@pytest.mark.cuda
def test_roformer_and_muscriptor_run_on_cuda(tmp_path, muscriptor_weights):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from pipelines.transcribe import muscriptor

    folder = save_roformer(tmp_path / "w", "bs_roformer_sw")
    samples, rate = two_second_wav(tmp_path / "clip.wav", channels=2)
    result = sep.separate_with("bs_roformer_sw", samples, rate, device="cuda", weights_dir=str(folder),
                               use_cache=False)
    assert result.device == "cuda" and result.stems["bass"].shape == (2 * 44_100, 2)
    muscriptor.load.cache_clear()
    notes = muscriptor.transcribe(samples.mean(axis=1), rate, "small", str(muscriptor_weights), "cuda")
    assert notes.labelled


@pytest.mark.weights
def test_real_muscriptor_small_finds_a_labelled_bass_line(tmp_path):
    """With MuScriptor small in the Hugging Face cache: a rendered bass line comes back as Bass."""
    from pipelines.transcribe import muscriptor
    from pipelines.transcribe.oracle import render_oracle

    try:
        muscriptor.weights_files("small")
    except StudioError:
        pytest.skip("MuScriptor small is not in the Hugging Face cache")
    pm = pretty_midi.PrettyMIDI()
    bass = pretty_midi.Instrument(program=33)
    bass.notes = [pretty_midi.Note(100, p, i * 0.5, i * 0.5 + 0.45)
                  for i, p in enumerate([40, 43, 45, 47] * 2)]
    pm.instruments.append(bass)
    rendered = render_oracle(pm, sep.FOUR_STEMS, 44_100)
    muscriptor.load.cache_clear()
    notes = muscriptor.transcribe(rendered.mix.mean(axis=1), 44_100, "small")
    assert len(notes.of_inst_class("Bass")) >= 4
