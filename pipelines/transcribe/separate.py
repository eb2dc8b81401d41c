"""The separator registry: Demucs (htdemucs, htdemucs_6s, htdemucs_ft) through its Python API,
BS-RoFormer / Mel-Band RoFormer through audio-separator's own separator class, and SCNet through msst's
(ZFTurbo's Music-Source-Separation-Training) own Separator; stems from the cache.

    sep = separate_with("bs_roformer_sw", samples, 44_100, device="auto", weights_dir=folder)
    sep.stems["bass"], sep.rtf, sep.device
    stem_sdr(sep.stems["bass"], oracle_bass)       # dB, the separation quality of one stem

Weights are never downloaded here. Demucs: a folder (``<model>.yaml`` + its ``.th`` files) or the
torch hub cache (``$TORCH_HOME/hub/checkpoints``) where demucs puts them. RoFormer: a folder with the
checkpoint and its YAML (the names audio-separator uses), or audio-separator's own model folder
(``$AUDIO_SEPARATOR_MODEL_DIR``, else /tmp/audio-separator-models). SCNet: its checkpoint and config
YAML as ZFTurbo's release names them, in the same two places. Stems are cached on disk by a hash of
the input samples, the model, its weights and settings.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..common.errors import StudioError
from ..common.files import atomic_write_json, read_json
from ..common.paths import workspace_dir
from .audio import audio_hash, resample, to_channels, write_wav
from .config import ABConfig

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
CACHE_ENTRIES = 16  # stem sets kept on disk (one 3-minute song in 4 stems is about 250 MB as float)
DEVICES = ("auto", "cpu", "cuda")  # and cuda:N
FOUR_STEMS = ("drums", "bass", "other", "vocals")
SIX_STEMS = FOUR_STEMS + ("guitar", "piano")
AUDIO_SEPARATOR_DEFAULT_DIR = "/tmp/audio-separator-models"  # audio-separator's own default
MSST_RELEASE = "github.com/ZFTurbo/Music-Source-Separation-Training/releases/download"

# BS-RoFormer's standard band split (62 bands over the 1025 bins of a 2048-point STFT).
_BS_BANDS = (2,) * 24 + (4,) * 12 + (12,) * 8 + (24,) * 8 + (48,) * 8 + (128, 129)


@dataclass(frozen=True)
class SeparatorModel:
    """One entry of the registry: what it separates and which files it needs."""

    name: str
    family: str                  # "demucs", "roformer" (audio-separator) or "msst" (SCNet)
    label: str
    stems: tuple[str, ...]       # the stem classes it gives, in the studio's order
    files: tuple[str, ...] = ()  # roformer / msst: (checkpoint, yaml) as their publishers name them
    fetch: str = ""              # where the weights are published
    config: dict = field(default_factory=dict, compare=False)  # the published YAML's values


SEPARATOR_MODELS: dict[str, SeparatorModel] = {
    "htdemucs": SeparatorModel("htdemucs", "demucs", "Demucs v4 htdemucs", FOUR_STEMS,
                               fetch="demucs' release (955717e8-8726e21a.th)"),
    "htdemucs_6s": SeparatorModel("htdemucs_6s", "demucs", "Demucs v4 htdemucs_6s", SIX_STEMS,
                                  fetch="demucs' release (5c90dfd2-34c22ccb.th)"),
    "htdemucs_ft": SeparatorModel("htdemucs_ft", "demucs", "Demucs v4 htdemucs_ft (4 fine-tuned models)",
                                  FOUR_STEMS, fetch="demucs' release (4 .th files)"),
    "bs_roformer_sw": SeparatorModel(
        "bs_roformer_sw", "roformer", "BS-RoFormer SW (6 stems)", SIX_STEMS,
        files=("BS-Roformer-SW.ckpt", "BS-Roformer-SW.yaml"),
        fetch="audio-separator's model list ('BS Roformer SW by jarredou')",
        config={
            "audio": {"chunk_size": 588800, "dim_f": 1024, "dim_t": 1151, "hop_length": 512,
                      "n_fft": 2048, "num_channels": 2, "sample_rate": 44100, "min_mean_abs": 0.0},
            "model": {"dim": 256, "depth": 12, "stereo": True, "num_stems": 6, "time_transformer_depth": 1,
                      "freq_transformer_depth": 1, "freqs_per_bands": list(_BS_BANDS), "dim_head": 64,
                      "heads": 8, "attn_dropout": 0.1, "ff_dropout": 0.1, "flash_attn": True,
                      "dim_freqs_in": 1025, "stft_n_fft": 2048, "stft_hop_length": 512,
                      "stft_win_length": 2048, "stft_normalized": False, "mask_estimator_depth": 2},
            "training": {"instruments": ["bass", "drums", "other", "vocals", "guitar", "piano"],
                         "target_instrument": None},
            "inference": {"batch_size": 1, "dim_t": 1151, "num_overlap": 2},
        }),
    "mel_roformer_vocals": SeparatorModel(
        "mel_roformer_vocals", "roformer", "Mel-Band RoFormer vocals (Kimberley Jensen; 2 stems)",
        ("vocals", "other"), files=("vocals_mel_band_roformer.ckpt", "vocals_mel_band_roformer.yaml"),
        fetch="audio-separator's model list ('MelBand Roformer | Vocals by Kimberley Jensen')",
        config={
            "audio": {"chunk_size": 352800, "dim_f": 1024, "dim_t": 801, "hop_length": 441,
                      "n_fft": 2048, "num_channels": 2, "sample_rate": 44100, "min_mean_abs": 0.0},
            "model": {"dim": 384, "depth": 6, "stereo": True, "num_stems": 1, "time_transformer_depth": 1,
                      "freq_transformer_depth": 1, "num_bands": 60, "dim_head": 64, "heads": 8,
                      "attn_dropout": 0.0, "ff_dropout": 0.0, "flash_attn": True, "dim_freqs_in": 1025,
                      "sample_rate": 44100, "stft_n_fft": 2048, "stft_hop_length": 441,
                      "stft_win_length": 2048, "stft_normalized": False, "mask_estimator_depth": 2},
            "training": {"instruments": ["vocals", "other"], "target_instrument": "vocals"},
            "inference": {"batch_size": 1, "dim_t": 801, "num_overlap": 2},
        }),
    "scnet": SeparatorModel(
        "scnet", "msst", "SCNet (starrytong; MUSDB18, 4 stems)", FOUR_STEMS,
        files=("scnet_checkpoint_musdb18.ckpt", "config_musdb18_scnet.yaml"),
        fetch=f"ZFTurbo's Music-Source-Separation-Training release v.1.0.6 ({MSST_RELEASE}/v.1.0.6/)",
        config={  # configs/config_musdb18_scnet.yaml of that repository, less its training augmentations
            "audio": {"chunk_size": 485100, "num_channels": 2, "sample_rate": 44100, "min_mean_abs": 0.0},
            "model": {"sources": list(FOUR_STEMS), "audio_channels": 2, "dims": [4, 32, 64, 128],
                      "nfft": 4096, "hop_size": 1024, "win_size": 4096, "normalized": True,
                      "band_SR": [0.175, 0.392, 0.433], "band_stride": [1, 4, 16], "band_kernel": [3, 4, 16],
                      "conv_depths": [3, 2, 1], "compress": 4, "conv_kernel": 3, "num_dplayer": 6,
                      "expand": 1},
            "training": {"instruments": list(FOUR_STEMS), "target_instrument": None, "use_amp": True,
                         "batch_size": 10},
            "inference": {"batch_size": 8, "dim_t": 256, "num_overlap": 4, "normalize": True},
        }),
}


def separator_model(name: str) -> SeparatorModel:
    if name not in SEPARATOR_MODELS:
        raise StudioError(f"separator model must be one of {', '.join(SEPARATOR_MODELS)} (got {name!r})")
    return SEPARATOR_MODELS[name]


@dataclass
class Separation:
    """Stems (each (frames, channels) float32 at ``sample_rate_hz``) and how they were had.

    ``seconds`` is the wall time of the call (cache reads included), ``audio_s`` the input's length and
    ``rtf`` their ratio (the real-time factor: below 1 is faster than real time); ``device`` what ran it.
    """

    stems: dict[str, np.ndarray]
    sample_rate_hz: int
    cached: bool
    seconds: float
    model: str
    audio_s: float = 0.0
    device: str = "cpu"

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_s if self.audio_s > 0 else float("nan")


# ---- device -------------------------------------------------------------------------------------

def resolve_device(device: str = "auto") -> str:
    """"auto" -> "cuda" when torch sees a GPU, else "cpu"; "cuda"/"cuda:N" refused without one."""
    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise StudioError(f"device must be auto, cpu or cuda (got {device!r})")
    if device == "cpu":
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise StudioError(f"device {device} was asked for but this machine has no CUDA GPU "
                          "(or torch is a CPU build); use device=cpu or auto")
    return device


def check_device(device: str) -> None:
    """Refuse a CUDA device on a machine without one, before any model loads."""
    if str(device).startswith("cuda"):
        resolve_device(device)


# ---- Demucs -------------------------------------------------------------------------------------

def _demucs_root() -> Path:
    try:
        import demucs.pretrained
    except ImportError as exc:
        raise StudioError("demucs is not installed: pip install --no-deps -r "
                          f"requirements/transcribe-nodeps.txt ({exc})") from None
    return Path(demucs.pretrained.REMOTE_ROOT)


def hub_weight_files(name: str) -> list[str]:
    """The .th files demucs' own remote repo lists for a named model (e.g. 955717e8-8726e21a.th)."""
    import yaml

    root = _demucs_root()
    bag = yaml.safe_load((root / f"{name}.yaml").read_text())
    files = [line.strip() for line in (root / "files.txt").read_text().splitlines()
             if line.strip() and not line.startswith(("#", "root:"))]
    by_sig = {line.split("-", 1)[0]: line.rsplit("/", 1)[-1] for line in files}
    return [by_sig[sig] for sig in bag["models"]]


def torch_hub_checkpoints() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def missing_weights_message(name: str) -> str:
    """The sentence a user sees (no server folder in it; where the files go is ``missing_weights_detail``)."""
    spec = SEPARATOR_MODELS.get(name)
    if spec is not None and spec.family == "msst":
        return (f"the {spec.label} weights ({' and '.join(spec.files)}) are not on this machine and are "
                f"not downloaded here: on a machine with internet fetch both from {spec.fetch} and copy "
                "them to audio-separator's model folder (AUDIO_SEPARATOR_MODEL_DIR, where the RoFormers' "
                "files go too) or to the folder given as demucs_weights_dir, or choose the oracle "
                "separator with a multi-track MIDI, which needs no weights")
    if spec is not None and spec.family == "roformer":
        return (f"the {spec.label} weights ({' and '.join(spec.files)}) are not on this machine and "
                "are not downloaded here: on a machine with internet run `audio-separator "
                f"--download_model_only -m {spec.files[0]}` (it fills audio-separator's model folder, "
                "AUDIO_SEPARATOR_MODEL_DIR) and copy both files there or to the folder given as "
                "demucs_weights_dir, or choose the oracle separator with a multi-track MIDI, which needs "
                "no weights")
    return (f"the Demucs weights for {name} are not on this machine and cannot be downloaded here: "
            "choose the oracle separator with a multi-track MIDI, which needs no weights, or put the "
            "weights on the server (the torch hub cache, moved by TORCH_HOME, or a folder given as "
            "demucs_weights_dir)")


def missing_weights_detail(name: str) -> str:
    """Where the files go, for the person at the server (the CLI prints it; a browser never sees it)."""
    spec = SEPARATOR_MODELS.get(name)
    if spec is not None and spec.family in ("roformer", "msst"):
        return (f"put {' and '.join(spec.files)} (published in {spec.fetch}) in {roformer_default_dir()} "
                "(AUDIO_SEPARATOR_MODEL_DIR), or in a folder given as demucs_weights_dir")
    return (f"put {', '.join(hub_weight_files(name))} in {torch_hub_checkpoints()}, or a folder with "
            f"{name}.yaml and its .th files and set demucs_weights_dir to it")


def _demucs_weights(name: str, weights_dir: str | None) -> tuple[str, Path]:
    """("folder", dir) or ("torch_hub", dir) holding every file the model needs, else StudioError."""
    if weights_dir:
        folder = Path(weights_dir)
        if (folder / f"{name}.yaml").is_file() or any(folder.glob(f"{name}*.th")):
            return "folder", folder
        raise StudioError(f"demucs_weights_dir {folder.name} holds neither {name}.yaml nor {name}.th; "
                          + missing_weights_message(name), local_detail=missing_weights_detail(name))
    hub = torch_hub_checkpoints()
    if all((hub / f).is_file() for f in hub_weight_files(name)):
        return "torch_hub", hub
    raise StudioError(missing_weights_message(name), local_detail=missing_weights_detail(name))


def weights_source(cfg: ABConfig) -> tuple[str, Path]:
    """Where ``cfg``'s Demucs model's weights are (see ``_demucs_weights``)."""
    return _demucs_weights(cfg.demucs_model, cfg.demucs_weights_dir)


def _demucs_files(name: str, folder: Path) -> list[str]:
    """The .th files of ``folder`` that demucs reads for ``name`` (those its YAML names, or name.th)."""
    import yaml

    try:
        sigs = (yaml.safe_load((folder / f"{name}.yaml").read_text()) or {}).get("models", [])
    except (OSError, yaml.YAMLError, AttributeError):
        sigs = [name]
    return sorted({p.name for sig in sigs for p in folder.glob(f"{sig}*.th")})


@functools.lru_cache(maxsize=2)
def load_model(name: str, source: str, folder: str, device: str):
    """The Demucs model (or bag of models), loaded once per (name, weights, device)."""
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files, get_model
    from demucs.repo import AnyModelRepo, BagOnlyRepo, RemoteRepo
    import pickle

    log.info("loading Demucs %s from %s", name, folder)
    try:
        if source == "folder":
            model = get_model(name, repo=Path(folder))
        else:  # the torch hub cache: demucs' remote repo finds the files there, no download
            remote = RemoteRepo(_parse_remote_files(REMOTE_ROOT / "files.txt"))
            model = AnyModelRepo(remote, BagOnlyRepo(REMOTE_ROOT, remote)).get_model(name)
    except (KeyError, RuntimeError, TypeError, AttributeError, ValueError, EOFError) as exc:
        files = _demucs_files(name, Path(folder)) if source == "folder" else hub_weight_files(name)
        raise StudioError(f"the Demucs weights for {name} ({', '.join(files) or 'its .th files'} in "
                          f"{Path(folder).name}) are not a Demucs model of that name "
                          f"({type(exc).__name__}); put the .th files demucs released for {name} "
                          "there") from None
    except pickle.UnpicklingError:  # pragma: no cover - a truncated or foreign file
        raise StudioError(f"a Demucs weights file for {name} in {Path(folder).name} is not a Demucs "
                          "checkpoint; fetch it again") from None
    model.eval()
    return model.to(device)


def separate_with_model(model, samples: np.ndarray, sample_rate_hz: int, device: str = "cpu",
                        segment_s: float | None = None, shifts: int = 0,
                        progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Run demucs.apply.apply_model (split into segments: long inputs are chunked) on one clip.

    ``samples`` (frames, c) at any rate; returns {source: (frames', channels)} at the model's rate.
    """
    import torch
    from demucs.apply import apply_model

    audio = to_channels(resample(samples, sample_rate_hz, model.samplerate), model.audio_channels)
    mix = torch.from_numpy(np.ascontiguousarray(audio.T))  # (channels, frames)
    ref = mix.mean(0)
    mean, std = ref.mean(), ref.std().clamp_min(1e-8)
    length = mix.shape[-1]

    def on_segment(info: dict) -> None:
        if progress and info.get("state") == "end":
            progress(min(1.0, (info.get("segment_offset", 0) + 1) / max(length, 1)), "separating")

    with torch.no_grad():
        out = apply_model(model, ((mix - mean) / std)[None], shifts=shifts, split=True,
                          overlap=0.25, device=device, segment=segment_s, progress=False,
                          callback=on_segment)[0]  # (sources, channels, frames)
    out = out * std + mean
    return {name: out[i].T.contiguous().cpu().numpy().astype(np.float32)
            for i, name in enumerate(model.sources)}


# ---- RoFormer (audio-separator) -----------------------------------------------------------------

def roformer_default_dir() -> Path:
    return Path(os.environ.get("AUDIO_SEPARATOR_MODEL_DIR") or AUDIO_SEPARATOR_DEFAULT_DIR)


def roformer_weights(name: str, weights_dir: str | None) -> tuple[Path, Path]:
    """(checkpoint, yaml) of a RoFormer or SCNet entry: in ``weights_dir``, else audio-separator's folder.

    Files named after the entry (``bs_roformer_sw.ckpt`` + ``.yaml``) are taken too.
    """
    spec = separator_model(name)
    folders = [Path(weights_dir)] if weights_dir else [roformer_default_dir()]
    for folder in folders:
        for ckpt, yml in (spec.files, (f"{name}.ckpt", f"{name}.yaml")):
            if (folder / ckpt).is_file() and (folder / yml).is_file():
                return folder / ckpt, folder / yml
    raise StudioError(missing_weights_message(name), local_detail=missing_weights_detail(name))


def _read_roformer_yaml(path: Path) -> dict:
    import yaml

    try:  # the package's own loader: these YAMLs carry !!python/tuple band lists
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.FullLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StudioError(f"{path.name} is not a readable RoFormer YAML ({type(exc).__name__}); fetch "
                          "the YAML that comes with the checkpoint") from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict) \
            or not (data.get("training") or {}).get("instruments"):
        raise StudioError(f"{path.name} has no model: section or no training: instruments list; it is "
                          "not a RoFormer configuration")
    data["is_roformer"] = True  # what audio-separator's Separator sets for a RoFormer YAML
    return data


def build_roformer(config: dict):
    """The RoFormer network (random weights) that audio-separator builds for ``config`` (the YAML)."""
    from audio_separator.separator.roformer.roformer_loader import RoformerLoader

    loader = RoformerLoader()
    kind = loader.config_normalizer.resolve_model_type(config, "")
    normalized = loader.config_normalizer.normalize_config(config, kind, apply_defaults=True, validate=True)
    return (loader._create_bs_roformer(normalized) if kind == "bs_roformer"
            else loader._create_mel_band_roformer(normalized))


def _roformer_class():
    from audio_separator.separator.architectures.mdxc_separator import MDXCSeparator

    class StudioMDXCSeparator(MDXCSeparator):
        """audio-separator's MDXC separator, counting the chunks it runs (for progress)."""

        on_chunk: Callable[[], None] | None = None

        def _run_roformer_model(self, part):
            out = super()._run_roformer_model(part)
            if self.on_chunk is not None:
                self.on_chunk()
            return out

    return StudioMDXCSeparator


@functools.lru_cache(maxsize=1)
def load_roformer(ckpt: str, yaml_path: str, device: str, stamp: str):
    """audio-separator's MDXC separator for one checkpoint + YAML, loaded once per (files, device)."""
    import pickle

    import torch

    data = _read_roformer_yaml(Path(yaml_path))
    quiet = logging.getLogger("audio_separator.studio")  # its messages name server files
    quiet.setLevel(logging.CRITICAL)
    common = {"logger": quiet, "log_level": logging.ERROR, "torch_device": torch.device(device),
              "torch_device_cpu": torch.device("cpu"), "torch_device_mps": None,
              "onnx_execution_provider": None, "model_name": Path(ckpt).stem, "model_path": ckpt,
              "model_data": data, "output_format": "WAV", "output_bitrate": None, "output_dir": None,
              "normalization_threshold": 0.9, "amplification_threshold": 0.0, "output_single_stem": None,
              "invert_using_spec": False, "sample_rate": 44_100, "use_soundfile": True,
              "use_autocast": False, "use_native_fp16": False, "use_torch_compile": False}
    arch = {"segment_size": 256, "override_model_segment_size": False, "batch_size": None,
            "overlap": None, "pitch_shift": 0}  # audio-separator's own MDXC defaults
    log.info("loading RoFormer %s", Path(ckpt).name)
    try:
        separator = _roformer_class()(common_config=common, arch_config=arch)
    except (SystemExit, RuntimeError) as exc:  # audio-separator exits when load_state_dict fails
        raise StudioError(f"the weights file {Path(ckpt).name} does not fit the model that "
                          f"{Path(yaml_path).name} describes (another model's checkpoint, or a broken "
                          "download); put the checkpoint that comes with that YAML in the folder") from None
    except (pickle.UnpicklingError, EOFError, IndexError, KeyError, ValueError, TypeError, OSError):
        raise StudioError(f"the weights file {Path(ckpt).name} is not a PyTorch checkpoint of a RoFormer "
                          "(a broken or partial download?); fetch it again") from None
    return separator


def separate_with_roformer(separator, samples: np.ndarray, sample_rate_hz: int,
                           progress: Progress | None = None) -> dict[str, np.ndarray]:
    """audio-separator's own demix on one clip, as its ``separate`` runs it but without files.

    The mix is scaled to the package's 0.9 peak and the stems scaled back, so they keep the input's
    level (stems add up to the mix, as SDR against oracle stems needs). Returns {stem: (frames, 2)}.
    """
    import torch

    from audio_separator.separator.uvr_lib_v5 import spec_utils

    rate = int(separator.sample_rate)
    audio = to_channels(resample(samples, sample_rate_hz, rate), 2)
    mix = separator.prepare_mix(np.ascontiguousarray(audio, dtype=np.float32))  # (2, frames)
    override = separator._use_model_segment_override(mix.shape[1] / rate)
    peak = float(np.abs(mix).max())
    mix = spec_utils.normalize(wave=mix.copy(), max_peak=separator.normalization_threshold,
                               min_peak=separator.amplification_threshold)
    gain = float(np.abs(mix).max()) / peak if peak > 0 else 1.0
    cfg = separator.model_data_cfgdict
    segment = separator.segment_size if override else cfg.inference.dim_t
    hop = getattr(cfg.model, "stft_hop_length", None) or cfg.audio.hop_length
    chunk = int(hop) * (int(segment) - 1)
    step = max(1, chunk // separator.overlap)
    total = max(1, len(separator._roformer_chunk_starts(mix.shape[1], chunk, step)))
    done = [0]

    def on_chunk() -> None:
        done[0] += 1
        if progress:
            progress(min(1.0, done[0] / total), f"separating (chunk {done[0]}/{total})")

    separator.on_chunk = on_chunk
    try:
        with torch.no_grad():
            sources = separator.demix(mix=mix, override_model_segment_size=override)
    finally:
        separator.on_chunk = None
    if not isinstance(sources, dict):
        sources = {cfg.training.target_instrument or separator.primary_stem_name: sources}
    out = {}
    for name, wave in sources.items():
        wave = np.asarray(wave, dtype=np.float32)[:, : mix.shape[1]] / (gain or 1.0)
        out[str(name).lower()] = np.ascontiguousarray(wave.T)
    return out


# ---- SCNet (msst: ZFTurbo's Music-Source-Separation-Training) -----------------------------------

@dataclass
class MsstSeparator:
    """msst's own Separator (model and config loaded once) and the config it was built from."""

    separator: object
    config: dict
    model_type: str


def _read_msst_yaml(path: Path) -> dict:
    import yaml

    try:  # msst's own loader (FullLoader: its YAMLs carry !!python/tuple values)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.FullLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StudioError(f"{path.name} is not a readable SCNet config YAML ({type(exc).__name__}); fetch "
                          "the config that comes with the checkpoint") from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict) \
            or not (data.get("training") or {}).get("instruments") or "sources" not in data["model"]:
        raise StudioError(f"{path.name} has no model: sources or no training: instruments list; it is not "
                          "an SCNet configuration")
    return data


def build_msst(config: dict):
    """The SCNet network (random weights) that msst builds for ``config`` (the YAML's values)."""
    from ml_collections import ConfigDict
    from msst.utils.settings import build_model_from_config

    return build_model_from_config("scnet", ConfigDict(config))


@functools.lru_cache(maxsize=1)
def load_msst(ckpt: str, yaml_path: str, device: str, stamp: str) -> MsstSeparator:
    """msst's Separator for one checkpoint + config YAML, loaded once per (files, device)."""
    import contextlib
    import io

    try:
        from msst.errors import CheckpointError, ConfigurationError, DeviceError
        from msst.inference import Separator
    except ImportError as exc:
        raise StudioError("msst is not installed: pip install --no-deps -r "
                          f"requirements/transcribe-nodeps.txt and -r requirements/transcribe.txt "
                          f"({exc.name} is missing)") from None
    config = _read_msst_yaml(Path(yaml_path))
    model_type = str((config.get("training") or {}).get("model_type") or "scnet")
    index = int(device.split(":", 1)[1]) if device.startswith("cuda:") else 0
    log.info("loading SCNet %s", Path(ckpt).name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the server's file paths
            separator = Separator(config_path=yaml_path, checkpoint_path=ckpt, model_type=model_type,
                                  device_ids=index, force_cpu=device == "cpu", detailed_progress=False)
    except DeviceError:
        raise StudioError(f"device {device} is not a CUDA device of this machine; use cuda (the first) "
                          "or cpu") from None
    except ConfigurationError:
        raise StudioError(f"{Path(yaml_path).name} does not describe a model msst can build as "
                          f"{model_type}; put the config YAML that comes with the SCNet checkpoint "
                          "there") from None
    except CheckpointError as exc:
        if str(exc).startswith("Cannot read checkpoint"):
            raise StudioError(f"the weights file {Path(ckpt).name} is not a PyTorch checkpoint (a broken "
                              "or partial download?); fetch it again") from None
        raise StudioError(f"the weights file {Path(ckpt).name} does not fit the SCNet model that "
                          f"{Path(yaml_path).name} describes (another model's checkpoint, or a broken "
                          "download); put the checkpoint that comes with that YAML in the folder") from None
    return MsstSeparator(separator, config, model_type)


def _msst_calls(config: dict, frames: int) -> int:
    """How many times msst's demix runs the model on ``frames`` samples (its chunking and batching)."""
    inference, audio = config.get("inference") or {}, config.get("audio") or {}
    chunk = int(inference.get("chunk_size") or audio["chunk_size"])
    step = max(1, chunk // int(inference.get("num_overlap", 1)))
    border = chunk - step
    length = frames + 2 * border if frames > 2 * border and border > 0 else frames
    chunks = -(-length // step)
    return max(1, -(-chunks // max(1, int(inference.get("batch_size", 1)))))


def separate_with_msst(loaded: MsstSeparator, samples: np.ndarray, sample_rate_hz: int,
                       progress: Progress | None = None) -> dict[str, np.ndarray]:
    """msst's own in-memory ``Separator.separate`` on one clip (its chunking, overlap windows and
    normalisation); returns {stem: (frames, channels)} at the model's rate."""
    import warnings

    separator = loaded.separator
    rate = int(separator.sample_rate)
    channels = int((loaded.config.get("audio") or {}).get("num_channels", 2))
    audio = to_channels(resample(samples, sample_rate_hz, rate), channels)
    total, done = _msst_calls(loaded.config, len(audio)), [0]

    def on_call(*_args) -> None:
        done[0] += 1
        if progress:
            progress(min(1.0, done[0] / total), f"separating (pass {done[0]}/{total})")

    model = getattr(separator, "_model", None)  # the network msst loaded: its calls give the progress
    hook = model.register_forward_hook(on_call) if model is not None else None
    try:
        with warnings.catch_warnings():  # SCNet's STFT has no window argument (torch warns each call)
            warnings.filterwarnings("ignore", message="A window was not provided")
            sources = separator.separate(np.ascontiguousarray(audio.T, dtype=np.float32))
    finally:
        if hook is not None:
            hook.remove()
    if progress:
        progress(1.0, "separated")
    return {str(name).lower(): np.ascontiguousarray(np.asarray(wave, dtype=np.float32).T)
            for name, wave in sources.items()}


# ---- the cache and the one entry point ----------------------------------------------------------

def _cache_dir(key: str) -> Path:
    return workspace_dir() / ".cache" / "transcribe" / "stems" / key  # git-ignored


def _prune_cache(keep: int | None = None) -> None:
    """Drop the least recently written stem sets beyond ``keep`` (the cache must not fill a disk)."""
    import shutil

    keep = keep or CACHE_ENTRIES
    root = _cache_dir("x").parent
    entries = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in entries[:-keep] if len(entries) > keep else []:
        shutil.rmtree(old, ignore_errors=True)


def _read_cache(folder: Path) -> dict | None:
    meta = read_json(folder / "stems.json")
    if not meta:
        return None
    import soundfile

    stems = {}
    for name in meta["sources"]:
        samples, _ = soundfile.read(str(folder / f"{name}.wav"), dtype="float32", always_2d=True)
        stems[name] = samples
    return {"stems": stems, "sample_rate_hz": int(meta["sample_rate_hz"])}


def _file_stamp(paths: list[Path]) -> str:
    parts = [f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:8]


def separate_with(name: str, samples: np.ndarray, sample_rate_hz: int, *, device: str = "auto",
                  weights_dir: str | None = None, use_cache: bool = True, segment_s: float | None = None,
                  shifts: int = 0, expect_stems: tuple[str, ...] | None = None,
                  progress: Progress | None = None) -> Separation:
    """Stems of ``samples`` (frames, c) by the registry's model ``name``, on ``device`` (auto/cpu/cuda).

    ``weights_dir``: the folder with the model's files (see the module doc); ``segment_s``/``shifts``
    are Demucs' settings. ``expect_stems``: refuse a model that separates other stems.
    """
    start = time.perf_counter()
    spec = separator_model(name)
    device = resolve_device(device)
    audio_s = len(samples) / float(sample_rate_hz)
    if spec.family == "demucs":
        source, folder = _demucs_weights(name, weights_dir)
        weights_id = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
        settings = f"seg{segment_s}-sh{shifts}"
    else:
        ckpt, yml = roformer_weights(name, weights_dir)
        source, folder, weights_id = spec.family, ckpt.parent, _file_stamp([ckpt, yml])
        settings = "mdxc" if spec.family == "roformer" else "msst"
    key = "-".join([audio_hash(samples, sample_rate_hz), name, source, weights_id, settings])
    cache = _cache_dir(key)
    if use_cache:
        hit = _read_cache(cache)
        if hit:
            log.info("%s stems from the cache %s", name, cache)
            return Separation(hit["stems"], hit["sample_rate_hz"], True, time.perf_counter() - start,
                              name, audio_s, device)
    if spec.family == "demucs":
        model = load_model(name, source, str(folder), device)
        sources, rate = tuple(model.sources), int(model.samplerate)
        if expect_stems is not None and set(sources) != set(expect_stems):
            raise StudioError(f"the Demucs model in {folder} separates {', '.join(sources)}; "
                              f"demucs_model {name} expects {', '.join(expect_stems)}")
        stems = separate_with_model(model, samples, sample_rate_hz, device, segment_s, shifts, progress)
    else:
        if spec.family == "roformer":
            separator = load_roformer(str(ckpt), str(yml), device, weights_id)
            stems = separate_with_roformer(separator, samples, sample_rate_hz, progress)
            rate = int(separator.sample_rate)
        else:
            loaded = load_msst(str(ckpt), str(yml), device, weights_id)
            stems = separate_with_msst(loaded, samples, sample_rate_hz, progress)
            rate = int(loaded.separator.sample_rate)
        if expect_stems is not None and set(stems) != set(expect_stems):
            raise StudioError(f"{yml.name} separates {', '.join(stems)}; {name} expects "
                              f"{', '.join(expect_stems)}")
    order = [s for s in spec.stems if s in stems] + [s for s in stems if s not in spec.stems]
    stems = {s: stems[s] for s in order}
    if use_cache:
        for stem, audio in stems.items():
            write_wav(cache / f"{stem}.wav", audio, rate, subtype="FLOAT")
        atomic_write_json(cache / "stems.json", {"sources": list(stems), "sample_rate_hz": rate,
                                                 "model": name})
        _prune_cache()
    return Separation(stems, rate, False, time.perf_counter() - start, name, audio_s, device)


def separate(samples: np.ndarray, sample_rate_hz: int, cfg: ABConfig,
             progress: Progress | None = None) -> Separation:
    """Stems of ``samples`` (frames, c) by ``cfg.demucs_model`` (any registry name) on ``cfg.device``."""
    return separate_with(cfg.demucs_model, samples, sample_rate_hz, device=cfg.device,
                         weights_dir=cfg.demucs_weights_dir, use_cache=cfg.use_cache,
                         segment_s=cfg.demucs_segment_s, shifts=cfg.demucs_shifts,
                         expect_stems=cfg.stem_classes, progress=progress)


# ---- separation quality -------------------------------------------------------------------------

def stem_sdr(estimate: np.ndarray, reference: np.ndarray, method: str = "global",
             sample_rate_hz: int = 44_100, window_s: float = 1.0) -> float | None:
    """SDR in dB of one separated stem against its oracle stem (same sample rate; (frames,) or
    (frames, channels); the shorter length is used, a mono side is repeated over the other's channels).

    ``method="global"``: 10 log10(sum s^2 / sum (s - s_hat)^2) over the whole clip, the SDR of the
    Music Demixing / Sound Demixing challenges and of the MVSEP leaderboards. ``method="bss_eval"``:
    mir_eval.separation.bss_eval_images on ``window_s`` windows, the median over windows whose reference
    is not silent (museval's framewise SDR, which allows a short distortion filter). None when the
    reference is silent (SDR is undefined).
    """
    est, ref = np.asarray(estimate, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    est = est[:, None] if est.ndim == 1 else est
    ref = ref[:, None] if ref.ndim == 1 else ref
    n = min(len(est), len(ref))
    channels = max(est.shape[1], ref.shape[1])
    est = np.broadcast_to(est[:n], (n, channels)) if est.shape[1] == 1 else est[:n]
    ref = np.broadcast_to(ref[:n], (n, channels)) if ref.shape[1] == 1 else ref[:n]
    if est.shape != ref.shape:
        raise StudioError(f"the stems have {est.shape[1]} and {ref.shape[1]} channels; give both in "
                          "mono or in the same channels")
    eps = 1e-10
    if method == "global":
        signal = float(np.sum(ref ** 2))
        if n == 0 or signal <= eps:
            return None
        return float(10.0 * np.log10((signal + eps) / (float(np.sum((ref - est) ** 2)) + eps)))
    if method != "bss_eval":
        raise StudioError(f"SDR method must be global or bss_eval (got {method!r})")
    from mir_eval.separation import bss_eval_images

    win = max(1, int(window_s * sample_rate_hz))
    values = []
    for lo in range(0, n - win + 1 if n >= win else 1, win):
        r, e = ref[lo:lo + win], est[lo:lo + win]
        if float(np.sum(r ** 2)) <= eps:
            continue
        if float(np.sum(e ** 2)) <= eps:  # mir_eval refuses a silent estimate: all of it is error
            values.append(0.0)
            continue
        sdr = bss_eval_images(r[None], e[None], compute_permutation=False)[0]  # (src, frames, ch)
        values.append(float(sdr[0]))
    return float(np.median(values)) if values else None
