"""The transcriber registry: every backend is ``fn(mono, sample_rate_hz, cfg) -> Notes``."""
from __future__ import annotations

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


TRANSCRIBERS: dict[str, Callable[[np.ndarray, int, ABConfig], Notes]] = {
    "basic-pitch": _basic_pitch,
    "external": _external,
}


def get_transcriber(name: str) -> Callable[[np.ndarray, int, ABConfig], Notes]:
    if name not in TRANSCRIBERS:
        raise StudioError(f"transcriber must be one of {', '.join(TRANSCRIBERS)} (got {name!r})")
    return TRANSCRIBERS[name]
