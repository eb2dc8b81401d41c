"""The transcriber registry: every backend is ``fn(mono, sample_rate_hz, cfg) -> Notes``.

    notes = get_transcriber("muscriptor")(mono, 44_100, cfg)          # just the notes
    run = run_transcriber("muscriptor", mono, 44_100, cfg)            # notes + seconds, rtf, device

``LABELS_INSTRUMENTS`` says which backends label each note with an instrument (``Notes.programs`` /
``Notes.inst_classes``); only those can be scored per instrument class on the mix.
``cfg.device`` (auto/cpu/cuda) picks where the torch backends run; basic-pitch runs on onnxruntime's CPU.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..common.errors import StudioError
from .config import ABConfig
from .notes import Notes


def _basic_pitch(mono: np.ndarray, sample_rate_hz: int, cfg: ABConfig) -> Notes:
    from . import basicpitch

    return basicpitch.transcribe(mono, sample_rate_hz, cfg.onset_threshold, cfg.frame_threshold,
                                 cfg.min_note_ms)


def _external(mono: np.ndarray, sample_rate_hz: int, cfg: ABConfig) -> Notes:
    from . import external

    return external.transcribe(mono, sample_rate_hz, cfg.external_command, cfg.external_checkpoint,
                               cfg.external_timeout_s)


def _muscriptor(mono: np.ndarray, sample_rate_hz: int, cfg: ABConfig) -> Notes:
    from . import muscriptor

    return muscriptor.transcribe(mono, sample_rate_hz, cfg.muscriptor_model, cfg.muscriptor_weights,
                                 device_of("muscriptor", cfg.device))


TRANSCRIBERS: dict[str, Callable[[np.ndarray, int, ABConfig], Notes]] = {
    "basic-pitch": _basic_pitch,
    "muscriptor": _muscriptor,
    "external": _external,
}
LABELS_INSTRUMENTS = {"basic-pitch": False, "muscriptor": True, "external": False}


def get_transcriber(name: str) -> Callable[[np.ndarray, int, ABConfig], Notes]:
    if name not in TRANSCRIBERS:
        raise StudioError(f"transcriber must be one of {', '.join(TRANSCRIBERS)} (got {name!r})")
    return TRANSCRIBERS[name]


def device_of(name: str, device: str = "auto") -> str:
    """Where transcriber ``name`` runs for the asked ``device`` (auto/cpu/cuda[:N])."""
    if name == "basic-pitch":
        return "cpu (onnxruntime)"
    if name == "external":
        return "external"
    from .separate import resolve_device

    return resolve_device(device)


@dataclass
class TranscriberRun:
    """One transcription and its cost: ``rtf`` = seconds / audio_s (below 1: faster than real time)."""

    notes: Notes
    seconds: float
    audio_s: float
    device: str
    transcriber: str

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_s if self.audio_s > 0 else float("nan")


def run_transcriber(name: str, mono: np.ndarray, sample_rate_hz: int, cfg: ABConfig) -> TranscriberRun:
    """``get_transcriber(name)`` on ``mono``, timed (model loading included the first time)."""
    fn = get_transcriber(name)
    device = device_of(name, cfg.device)
    start = time.perf_counter()
    notes = fn(mono, sample_rate_hz, cfg)
    return TranscriberRun(notes, time.perf_counter() - start, len(mono) / float(sample_rate_hz), device, name)
