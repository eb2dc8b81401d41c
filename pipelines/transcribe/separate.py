"""Demucs separation through its Python API on tensors we decode and encode ourselves.

Weights come from a folder (``<model>.yaml`` + its ``.th`` files), or from the torch hub cache
(``$TORCH_HOME/hub/checkpoints``) where demucs itself puts them; nothing is downloaded here.
Stems are cached on disk by a hash of the input samples, the model and its settings.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass
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


@dataclass
class Separation:
    """Stems (each (frames, channels) float32 at ``sample_rate_hz``) and how they were had."""

    stems: dict[str, np.ndarray]
    sample_rate_hz: int
    cached: bool
    seconds: float
    model: str


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
    return (f"the Demucs weights for {name} are not on this machine and cannot be downloaded here: "
            "choose the oracle separator with a multi-track MIDI, which needs no weights, or put the "
            "weights on the server (the torch hub cache, moved by TORCH_HOME, or a folder given as "
            "demucs_weights_dir)")


def missing_weights_detail(name: str) -> str:
    """Where the files go, for the person at the server (the CLI prints it; a browser never sees it)."""
    return (f"put {', '.join(hub_weight_files(name))} in {torch_hub_checkpoints()}, or a folder with "
            f"{name}.yaml and its .th files and set demucs_weights_dir to it")


def weights_source(cfg: ABConfig) -> tuple[str, Path]:
    """("folder", dir) or ("torch_hub", dir) holding every file the model needs, else StudioError."""
    name = cfg.demucs_model
    if cfg.demucs_weights_dir:
        folder = Path(cfg.demucs_weights_dir)
        if (folder / f"{name}.yaml").is_file() or any(folder.glob(f"{name}*.th")):
            return "folder", folder
        raise StudioError(f"demucs_weights_dir {folder.name} holds neither {name}.yaml nor {name}.th; "
                          + missing_weights_message(name), local_detail=missing_weights_detail(name))
    hub = torch_hub_checkpoints()
    if all((hub / f).is_file() for f in hub_weight_files(name)):
        return "torch_hub", hub
    raise StudioError(missing_weights_message(name), local_detail=missing_weights_detail(name))


@functools.lru_cache(maxsize=2)
def load_model(name: str, source: str, folder: str, device: str):
    """The Demucs model (or bag of models), loaded once per (name, weights, device)."""
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files, get_model
    from demucs.repo import AnyModelRepo, BagOnlyRepo, RemoteRepo

    log.info("loading Demucs %s from %s", name, folder)
    if source == "folder":
        model = get_model(name, repo=Path(folder))
    else:  # the torch hub cache: demucs' remote repo finds the files there, no download
        remote = RemoteRepo(_parse_remote_files(REMOTE_ROOT / "files.txt"))
        model = AnyModelRepo(remote, BagOnlyRepo(REMOTE_ROOT, remote)).get_model(name)
    model.eval()
    return model.to(device)


def check_device(device: str) -> None:
    """Refuse a CUDA device on a machine without one, before any model loads."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise StudioError(f"device {device} was asked for but this machine has no CUDA GPU "
                              "(or torch is a CPU build); use device=cpu")


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


def separate(samples: np.ndarray, sample_rate_hz: int, cfg: ABConfig,
             progress: Progress | None = None) -> Separation:
    """Demucs stems of ``samples`` (frames, c), from the cache when the same input was seen."""
    start = time.perf_counter()
    check_device(cfg.device)
    source, folder = weights_source(cfg)
    weights_id = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
    key = "-".join([audio_hash(samples, sample_rate_hz), cfg.demucs_model, source, weights_id,
                    f"seg{cfg.demucs_segment_s}", f"sh{cfg.demucs_shifts}"])
    cache = _cache_dir(key)
    if cfg.use_cache:
        hit = _read_cache(cache)
        if hit:
            log.info("Demucs stems from the cache %s", cache)
            return Separation(hit["stems"], hit["sample_rate_hz"], True,
                              time.perf_counter() - start, cfg.demucs_model)
    model = load_model(cfg.demucs_model, source, str(folder), cfg.device)
    if set(model.sources) != set(cfg.stem_classes):
        raise StudioError(f"the Demucs model in {folder} separates {', '.join(model.sources)}; "
                          f"demucs_model {cfg.demucs_model} expects {', '.join(cfg.stem_classes)}")
    stems = separate_with_model(model, samples, sample_rate_hz, cfg.device, cfg.demucs_segment_s,
                                cfg.demucs_shifts, progress)
    if cfg.use_cache:
        for name, audio in stems.items():
            write_wav(cache / f"{name}.wav", audio, model.samplerate, subtype="FLOAT")
        atomic_write_json(cache / "stems.json", {"sources": list(stems),
                                                 "sample_rate_hz": model.samplerate,
                                                 "model": cfg.demucs_model})
        _prune_cache()
    return Separation(stems, int(model.samplerate), False, time.perf_counter() - start,
                      cfg.demucs_model)
