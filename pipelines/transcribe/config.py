"""The one config of the transcription A/B: what to separate with, how to transcribe, how to score."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..common.errors import StudioError
from ..common.paths import configs_dir

SEPARATORS = ("demucs", "oracle", "none")  # none: the mix alone (offline audio, no weights)


@dataclass
class ABConfig:
    """Everything one A/B run needs; defaults in code, YAML presets in configs/transcribe/ override."""

    separator: Literal["demucs", "oracle", "none"] = "oracle"
    demucs_model: str = "htdemucs"  # any separate.SEPARATOR_MODELS name; also picks the stem classes
    demucs_weights_dir: str | None = None  # <model>.yaml + its .th files (RoFormer: its .ckpt + .yaml)
    demucs_segment_s: float | None = None  # None: the model's own segment (7.8 s for htdemucs)
    demucs_shifts: int = 0                 # 0: one pass; >0 averages random time shifts (slower)
    device: str = "cpu"                    # "cpu", "cuda" (or "cuda:N") or "auto" (cuda when present)
    transcriber: str = "basic-pitch"
    muscriptor_model: str = "small"          # small, medium or large (MuScriptor/muscriptor-<size>)
    muscriptor_weights: str | None = None    # a model.safetensors (+ config.json) file or folder
    onset_threshold: float = 0.5   # basic-pitch's default; lower finds more (and more false) notes
    frame_threshold: float = 0.3
    min_note_ms: float = 127.7     # basic-pitch's 11 frames of 11.6 ms
    external_command: list[str] | None = None  # plug-in: argv with {input} {output} {checkpoint}
    external_checkpoint: str | None = None
    external_timeout_s: float = 600.0
    onset_tolerances_s: tuple[float, ...] = (0.05, 0.1)
    pitch_tolerance_cents: float = 50.0
    merge_window_s: float = 0.05   # duplicates of one pitch closer than this are one note
    excerpt_s: float | None = None  # keep only the first N seconds of the input
    max_duration_s: float = 900.0   # longer inputs are refused (say excerpt_s)
    sample_rate_hz: int = 44_100    # oracle rendering and stem files
    soundfont: str | None = None
    use_cache: bool = True          # Demucs stems cached by input hash

    def __post_init__(self) -> None:
        if self.separator not in SEPARATORS:
            raise StudioError(f"separator must be one of {', '.join(SEPARATORS)} (got {self.separator!r})")
        if self.demucs_model not in separator_names():
            raise StudioError(f"demucs_model must be one of {', '.join(separator_names())} "
                              f"(got {self.demucs_model!r})")
        for name in ("onset_threshold", "frame_threshold"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise StudioError(f"{name} must be between 0 and 1 (got {value})")
        if not 0.0 <= self.min_note_ms <= 2000.0:
            raise StudioError(f"min_note_ms must be 0-2000 (got {self.min_note_ms})")
        if self.excerpt_s is not None and not 1.0 <= self.excerpt_s <= 3600.0:
            raise StudioError(f"excerpt_s must be 1-3600 seconds (got {self.excerpt_s})")
        if not 1.0 <= self.max_duration_s <= 4 * 3600:
            raise StudioError(f"max_duration_s must be 1-14400 seconds (got {self.max_duration_s})")
        if not self.onset_tolerances_s or any(not 0.0 < t <= 0.5 for t in self.onset_tolerances_s):
            raise StudioError("onset_tolerances_s must list tolerances in (0, 0.5] seconds "
                              f"(got {self.onset_tolerances_s})")
        if not 8_000 <= self.sample_rate_hz <= 96_000:
            raise StudioError(f"sample_rate_hz must be 8000-96000 (got {self.sample_rate_hz})")
        if self.demucs_shifts < 0 or self.demucs_shifts > 10:
            raise StudioError(f"demucs_shifts must be 0-10 (got {self.demucs_shifts})")
        if self.device not in ("cpu", "cuda", "auto") and not self.device.startswith("cuda:"):
            raise StudioError(f"device must be auto, cpu or cuda (got {self.device!r})")
        if self.muscriptor_model not in ("small", "medium", "large"):
            raise StudioError("muscriptor_model must be small, medium or large "
                              f"(got {self.muscriptor_model!r})")
        if self.external_timeout_s <= 0:
            raise StudioError(f"external_timeout_s must be positive (got {self.external_timeout_s})")
        if self.demucs_weights_dir is not None and not Path(self.demucs_weights_dir).is_dir():
            raise StudioError(f"demucs_weights_dir {self.demucs_weights_dir} is not a folder; give the "
                              "folder that holds the model's .yaml and .th files")

    @property
    def stem_classes(self) -> tuple[str, ...]:
        """The separator's stem names, in Demucs' order (the oracle groups MIDI the same way)."""
        return stem_classes(self.demucs_model)

    @property
    def primary_tolerance_s(self) -> float:
        return self.onset_tolerances_s[0]


def transcribe_presets() -> list[str]:
    """The names of the A/B presets (``configs/transcribe/*.yaml``)."""
    return sorted(p.stem for p in (configs_dir() / "transcribe").glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The YAML of the preset ``name`` (a name, never a path: only its last part is used)."""
    return configs_dir() / "transcribe" / f"{Path(name).name}.yaml"


def separator_names() -> tuple[str, ...]:
    """The separation models of the registry (separate.SEPARATOR_MODELS): Demucs, RoFormer, SCNet."""
    from .separate import SEPARATOR_MODELS

    return tuple(SEPARATOR_MODELS)


def stem_classes(demucs_model: str) -> tuple[str, ...]:
    """The model's stems: htdemucs(_ft): drums, bass, other, vocals; htdemucs_6s and bs_roformer_sw add
    guitar and piano; mel_roformer_vocals: vocals, other."""
    from .separate import SEPARATOR_MODELS

    spec = SEPARATOR_MODELS.get(demucs_model)
    return spec.stems if spec is not None else ("drums", "bass", "other", "vocals")
