"""MuScriptor (Kyutai and Mirelo, 2026): multi-instrument transcription with instrument labels.

The package's own network and decoding: ``muscriptor.transcription_model._build_model`` (an
``LMModel`` conditioned on a mel spectrogram, sized by ``_ModelConfig``), the checkpoint's keys
remapped as its ``load_model`` does, and ``TranscriptionModel.transcribe`` (5-second chunks, greedy
decoding with prelude forcing) whose note events become labelled ``Notes`` (General MIDI program of
each note's instrument group, drums as program 128). No beat grid is detected (that needs beat_this
and its own weights), so the model's small constant onset lag (under ~25 ms) stays in.

Weights (CC BY-NC 4.0, gated) are never downloaded here: the Hugging Face cache
(``MuScriptor/muscriptor-<size>``: ``model.safetensors`` + ``config.json``) once the user has
accepted the license and fetched them, or a file/folder given as ``muscriptor_weights``.
"""
from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from ..common.errors import StudioError
from .notes import DRUM_PROGRAM, Notes

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
SIZES = ("small", "medium", "large")
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VELOCITY = 100  # MuScriptor predicts no velocities
SAMPLE_RATE_HZ = 16_000


def repo_id(size: str) -> str:
    return f"MuScriptor/muscriptor-{size}"


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise StudioError(f"muscriptor_model must be one of {', '.join(SIZES)} (got {size!r})")


def missing_weights_message(size: str) -> str:
    repo = repo_id(size)
    return (f"the MuScriptor {size} weights are not on this machine and are not downloaded here: accept "
            f"the CC BY-NC 4.0 license at huggingface.co/{repo}, then run `hf download {repo} "
            f"{WEIGHTS_FILE} {CONFIG_FILE}` (it fills the Hugging Face cache), or put those two files "
            "in a folder given as muscriptor_weights")


def _installed() -> None:
    try:
        import muscriptor  # noqa: F401
    except ImportError as exc:
        raise StudioError("muscriptor is not installed: pip install --no-deps -r "
                          f"requirements/transcribe-nodeps.txt ({exc})") from None


def weights_files(size: str, weights: str | None = None) -> tuple[Path, Path | None]:
    """(model.safetensors, config.json or None): from ``weights`` (file or folder) or the HF cache."""
    _check_size(size)
    if weights:
        path = Path(weights)
        if path.is_dir():
            path = path / WEIGHTS_FILE
        if not path.is_file():
            raise StudioError(f"muscriptor_weights has no {path.name}; " + missing_weights_message(size))
        config = path.parent / CONFIG_FILE
        return path, config if config.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id(size), WEIGHTS_FILE)
    if not isinstance(found, str):  # None, or the "known missing" marker
        raise StudioError(missing_weights_message(size),
                          local_detail=f"looked in the Hugging Face cache (HF_HOME / HF_HUB_CACHE) for "
                                       f"{repo_id(size)}/{WEIGHTS_FILE}")
    config = try_to_load_from_cache(repo_id(size), CONFIG_FILE)
    return Path(found), Path(config) if isinstance(config, str) else None


def model_config(size: str, config_path: Path | None):
    """MuScriptor's own ``_ModelConfig``: from config.json when present, else the package's table."""
    from muscriptor.transcription_model import _CONFIG_FIELDS, _CONFIGS, _ModelConfig

    if config_path is None:
        return _CONFIGS[size]
    try:
        data = json.loads(Path(config_path).read_text())
        return _ModelConfig(**{k: int(data[k]) for k in _CONFIG_FIELDS})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StudioError(f"{Path(config_path).name} next to the MuScriptor weights is not a MuScriptor "
                          f"config ({type(exc).__name__}: it needs {', '.join(_CONFIG_FIELDS)}); fetch it "
                          f"again from {repo_id(size)}") from None


def tokenizer():
    from muscriptor.tokenizer.mt3 import MT3Tokenizer

    return MT3Tokenizer(instrument_vocabulary="MT3_FULL_PLUS", max_shift_steps=1001)


def build(cfg, device: str = "cpu"):
    """A ``TranscriptionModel`` of MuScriptor's own network for ``cfg`` (a ``_ModelConfig``), random
    weights."""
    import torch
    from muscriptor.transcription_model import TranscriptionModel, _build_model

    dev = torch.device(device)
    model = _build_model(dev, cfg)
    model.eval()
    return TranscriptionModel(model=model, tokenizer=tokenizer(), device=dev)


def load_state(tm, weights: Path) -> None:
    """Load ``weights`` (safetensors) into ``tm``'s network as MuScriptor's ``load_model`` does."""
    from muscriptor.transcription_model import _remap_single_codebook_keys
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = _remap_single_codebook_keys(load_file(str(weights), device="cpu"))
    except (SafetensorError, OSError, ValueError) as exc:
        raise StudioError(f"{weights.name} is not a safetensors checkpoint ({type(exc).__name__}); fetch "
                          "model.safetensors again") from None
    try:
        tm._model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0][:100]
        raise StudioError(f"the weights file {weights.name} does not fit the MuScriptor model its config "
                          f"describes ({first}); it is another model's checkpoint: put the "
                          "model.safetensors and config.json of one muscriptor-<size> repo "
                          "together") from None


@functools.lru_cache(maxsize=1)
def load(size: str, weights: str | None, device: str):
    """The ready TranscriptionModel for ``size`` (or the given weights) on ``device``, loaded once."""
    _installed()
    path, config_path = weights_files(size, weights)
    cfg = model_config(size, config_path)
    log.info("loading MuScriptor %s (%s) on %s", size, path.name, device)
    tm = build(cfg, device)  # built on the device: CUDA gets the package's fp16 autocast
    load_state(tm, path)
    return tm


def transcribe_with(tm, mono: np.ndarray, sample_rate_hz: int, progress: Progress | None = None,
                    instruments: list[str] | None = None) -> Notes:
    """MuScriptor's greedy decoding of ``mono`` into labelled Notes (the package's note cleanup)."""
    import torch
    from muscriptor.events import NoteEndEvent, NoteStartEvent, ProgressEvent
    from muscriptor.tokenizer.notes import Note, trim_overlapping_notes, validate_notes

    wav = torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32)).reshape(1, -1)
    open_notes: dict[int, Note] = {}
    done: list[Note] = []
    for ev in tm.transcribe((wav, int(sample_rate_hz)), instruments=instruments):
        if isinstance(ev, ProgressEvent):
            if progress and ev.total:
                progress(ev.completed / ev.total, f"MuScriptor chunk {ev.completed}/{ev.total}")
        elif isinstance(ev, NoteStartEvent):
            is_drum = ev.instrument == "drums"
            program = DRUM_PROGRAM if is_drum else tm._program_for_instrument(ev.instrument)
            open_notes[ev.index] = Note(is_drum=is_drum, program=program, onset=ev.start_time,
                                        offset=ev.start_time, pitch=ev.pitch)
        elif isinstance(ev, NoteEndEvent):
            note = open_notes.pop(ev.start_event_index)
            note.offset = ev.end_time
            done.append(note)
    notes = trim_overlapping_notes(validate_notes(done, fix=True), sort=True)
    rows = [(n.onset, max(n.offset, n.onset + 0.01), n.pitch, VELOCITY, n.program, None) for n in notes
            if 0 <= n.pitch <= 127]
    return Notes.from_tuples(rows, labelled=True)


def transcribe(mono: np.ndarray, sample_rate_hz: int, size: str = "small", weights: str | None = None,
               device: str = "cpu", progress: Progress | None = None) -> Notes:
    """Labelled notes of ``mono`` by MuScriptor ``size`` (weights from the HF cache or ``weights``)."""
    return transcribe_with(load(size, weights, device), mono, sample_rate_hz, progress)
