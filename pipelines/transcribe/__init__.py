"""Transcription A/B: separate (Demucs, or oracle stems rendered from MIDI), transcribe the mix
and every stem (basic-pitch, plug-in transcribers), and score each side with mir_eval.

    from pipelines.transcribe import ABConfig, run_ab
    result = run_ab("song.mid", ABConfig(separator="oracle", excerpt_s=30), "out/")

Heavy packages (torch, demucs, onnxruntime, basic_pitch) load only when a stage needs them.
"""
from __future__ import annotations

from typing import Any

from .config import ABConfig, stem_classes

__all__ = ["ABConfig", "run_ab", "run_batch", "stem_classes"]


def __getattr__(name: str) -> Any:  # lazy: importing the package stays light
    if name == "run_ab":
        from .compare import run_ab

        return run_ab
    if name == "run_batch":
        from .batch import run_batch

        return run_batch
    raise AttributeError(name)
