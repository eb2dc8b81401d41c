"""Transcription A/B: separate (Demucs, or oracle stems rendered from MIDI), transcribe the mix
and every stem (basic-pitch, plug-in transcribers), and score each side with mir_eval.

    from pipelines.transcribe import ABConfig, run_ab
    result = run_ab("song.mid", ABConfig(separator="oracle", excerpt_s=30), "out/")
    study = run_slakh("slakh2100_flac_redux/test", ABConfig(), "study/")  # the Slakh2100 study

Heavy packages (torch, demucs, onnxruntime, basic_pitch) load only when a stage needs them.
"""
from __future__ import annotations

from ..common.lazy_exports import lazy_exports
from .config import ABConfig, preset_path, stem_classes, transcribe_presets

# imported on first use: importing the package stays light
_EXPORTS = {
    "run_ab": ".compare", "run_batch": ".batch", "MAX_SONGS": ".batch",
    "TABLE_COLUMNS": ".report", "comparison_table": ".report",
    "SEPARATOR_MODELS": ".separate", "TRANSCRIBERS": ".transcribers", "run_slakh": ".study",
}
__all__ = sorted(["ABConfig", "preset_path", "stem_classes", "transcribe_presets", *_EXPORTS])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
