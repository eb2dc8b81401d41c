"""Generation as one function on a config: chart + style + model -> MIDI, audio and metrics."""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..common.errors import StudioError
from ..common.files import atomic_write_json
from ..common.paths import workspace_dir
from ..music.chords import Chart, parse_chart
from ..music.metrics import all_metrics
from ..music.piece import Piece

log = logging.getLogger(__name__)

STYLES = ("gospel", "mehldau")
METERS = {"4/4": (4, 4), "3/4": (3, 4), "5/4": (5, 4), "7/4": (7, 4)}
Progress = Callable[[float, str], None]


@dataclass
class GenerateConfig:
    """What to generate. ``bars`` None = the chart's own length (a longer request loops the chart)."""

    chords: str = "| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 |"
    style: str = "gospel"
    model: str = "rules"
    bars: int | None = None
    tempo_bpm: float | None = None   # None: drawn from the style's range by the seed
    seed: int = 1
    meter: str = "4/4"               # 4/4, 3/4, 5/4 or 7/4
    temperature: float = 1.0         # sampling controls of trained models; `rules` varies by seed
    top_k: int = 0                   # 0 = off
    top_p: float = 0.95
    render_audio: bool = True
    out_dir: str | None = None       # None: <workspace>/outputs/<time>-<style>-<seed>

    def validate(self) -> None:
        if self.style not in STYLES:
            raise StudioError(f"style must be one of {', '.join(STYLES)} (got {self.style!r})")
        if self.bars is not None and not 1 <= int(self.bars) <= 64:
            raise StudioError(f"bars must be 1-64 (got {self.bars})")
        if self.tempo_bpm is not None and not 20 <= float(self.tempo_bpm) <= 300:
            raise StudioError(f"tempo must be 20-300 bpm (got {self.tempo_bpm:g})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise StudioError(f"seed must be a whole number ≥ 0 (got {self.seed!r})")
        if self.meter not in METERS:
            raise StudioError(f"meter must be one of {', '.join(METERS)} (got {self.meter!r})")
        if not 0.05 <= float(self.temperature) <= 5.0:
            raise StudioError(f"temperature must be 0.05-5 (got {self.temperature:g})")
        if not 0.0 < float(self.top_p) <= 1.0:
            raise StudioError(f"top-p must be in (0, 1] (got {self.top_p:g})")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise StudioError(f"top-k must be a whole number ≥ 0 (got {self.top_k!r})")
        if self.model not in MODELS:
            raise StudioError(f"model must be one of {', '.join(MODELS)} (got {self.model!r})")


@dataclass
class GenerateResult:
    """A generated take and where its files are."""

    config: GenerateConfig
    chart: Chart
    piece: Piece
    midi_path: Path
    wav_path: Path | None
    metrics: dict
    timings_s: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"midi": str(self.midi_path), "wav": str(self.wav_path) if self.wav_path else None,
                "style": self.config.style, "model": self.config.model, "seed": self.config.seed,
                "tempo_bpm": self.piece.tempo_bpm, "bars": self.piece.bars,
                "meter": self.config.meter, "chart": self.chart.text(), "metrics": self.metrics,
                "timings_s": self.timings_s}


def _rules_model(chart: Chart, cfg: GenerateConfig) -> Piece:
    from .rules import default_tempo, perform_chart

    tempo = float(cfg.tempo_bpm) if cfg.tempo_bpm is not None else default_tempo(cfg.style, cfg.seed)
    return perform_chart(chart, cfg.style, tempo, cfg.seed, METERS[cfg.meter])


# model name -> play(chart, cfg) -> Piece. Trained checkpoints join here (issue 5).
MODELS: dict[str, Callable[[Chart, GenerateConfig], Piece]] = {"rules": _rules_model}


def generate(cfg: GenerateConfig, progress: Progress | None = None, midi_path: str | Path | None = None,
             wav_path: str | Path | None = None) -> GenerateResult:
    """Chart -> performance -> MIDI (+ WAV) + metrics, written under ``cfg.out_dir`` (or to the
    given ``midi_path`` / ``wav_path``)."""
    cfg.validate()
    report = progress or (lambda fraction, message: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    chart = parse_chart(cfg.chords)
    if cfg.bars is not None:
        chart = chart.fit(int(cfg.bars))
    elif len(chart) > 64:
        raise StudioError(f"the chart has {len(chart)} bars; at most 64 can be generated at once")
    report(0.1, f"playing {len(chart)} bars in the {cfg.style} style")
    piece = MODELS[cfg.model](chart, cfg)
    timings["generate"] = time.perf_counter() - t0
    out_dir = Path(cfg.out_dir) if cfg.out_dir else _default_out_dir(cfg)
    midi_path = piece.write_midi(midi_path or out_dir / f"{cfg.style}-seed{cfg.seed}.mid")
    timings["midi"] = time.perf_counter() - t0 - timings["generate"]
    if cfg.render_audio or wav_path:
        report(0.5, "rendering audio with FluidSynth")
        from ..music.render import render_wav

        t1 = time.perf_counter()
        wav_path = render_wav(piece.to_pretty_midi(), wav_path or midi_path.with_suffix(".wav")).path
        timings["render"] = time.perf_counter() - t1
    report(0.9, "measuring")
    metrics = all_metrics(piece)
    result = GenerateResult(cfg, chart, piece, midi_path, wav_path, metrics,
                            {k: round(v, 4) for k, v in timings.items()})
    atomic_write_json(Path(midi_path).with_suffix(".json"), {**result.summary(), "config": asdict(cfg)})
    return result


def _default_out_dir(cfg: GenerateConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
    return workspace_dir() / "outputs" / f"{stamp}-{cfg.style}-{cfg.seed}"
