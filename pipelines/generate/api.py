"""Generation as one function on a config: chart + style + model -> MIDI, audio and metrics."""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..common.errors import StudioError
from ..common.files import atomic_write_json
from ..common.paths import workspace_dir
from ..common.progress import Progress
from ..music.chords import Chart, parse_chart
from ..music.metrics import all_metrics
from ..music.midi_reader import read_midi
from ..music.piece import Piece

if TYPE_CHECKING:
    from ..music.render import StreamingRender

log = logging.getLogger(__name__)

STYLES = ("gospel", "mehldau")
METERS = {"4/4": (4, 4), "3/4": (3, 4), "5/4": (5, 4), "7/4": (7, 4)}
BACKENDS = ("auto", "torch", "onnxruntime")
# Per-style defaults of the trained models' rules. Registers from the style's corpus (the rule
# engines' performances the shipped models learned from span MIDI 28-87 in Gospel and 36-86 in
# Mehldau, 0.5th-99.5th percentile 29-84 and 36-85), widened a little above for melody; at most
# 8 notes an onset for Gospel's octave bass under a doubled right-hand voicing, 6 for Mehldau's
# open ones; harmony strength below 1 leaves Mehldau more chromatic passing tones.
# Trained models sample at the style's temperature, chosen on the held-out charts of
# bench/bench_model_quality.py (shipped models at harmony strength 0, 24 charts x 2 seeds):
# Gospel repeats itself below 1.3 (the Gospel adapter's two seeds shared 44 % of their notes at 1.0,
# 33-38 % at 1.1-1.15, 21-24 % at 1.35, with 0.99-0.97 chord tones); Mehldau keeps its chord tones
# only near 1.0 (the Mehldau adapter's 0.97 at 1.0, 0.95-0.96 from 1.1 up, its seeds sharing 21-27 %).
STYLE_RULES = {
    "gospel": {"register": (28, 92), "max_notes_per_onset": 8, "harmony_strength": 0.9, "temperature": 1.3},
    "mehldau": {"register": (33, 93), "max_notes_per_onset": 6, "harmony_strength": 0.8, "temperature": 1.0},
}
OTHER_STYLE_RULES = {"register": (21, 108), "max_notes_per_onset": 10, "harmony_strength": 0.8, "temperature": 1.15}


def style_defaults(style: str) -> dict:
    """A style's defaults of the trained models' rules and sampling temperature (STYLE_RULES)."""
    return STYLE_RULES.get(style, OTHER_STYLE_RULES)


def temperatures_text() -> str:
    """The styles' default temperatures in words: 'gospel 1.3, mehldau 1.0, others 1.15'."""
    return ", ".join([f"{style} {float(rules['temperature'])}" for style, rules in STYLE_RULES.items()]
                     + [f"others {float(OTHER_STYLE_RULES['temperature'])}"])


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
    temperature: float | None = None  # sampling controls of trained models (None: the style's); `rules` varies by seed
    top_k: int = 0                   # 0 = off
    top_p: float = 0.95
    render_audio: bool = True
    out_dir: str | None = None       # None: <workspace>/outputs/<time>-<style>-<seed>
    key: str | None = None           # trained models: "Ebmaj", "F#min"; None: estimated from the chart
    variations: int = 1              # takes sampled at once (seed, seed+1 ... for rules)
    base_model: str = ""             # an adapter's base folder when not the one it records
    primer_midi: str | None = None   # continue this MIDI over the chart (trained models)
    regenerate_from: str | None = None  # a take's .json/.mid: regenerate regenerate_bars of it
    regenerate_bars: str = ""        # "3-4": bars (1-based, inclusive) to generate again
    device: str = "cpu"              # cpu, cuda or mps (trained models)
    backend: str = "auto"            # trained models: auto (the faster of torch / onnxruntime), torch, onnxruntime
    # the trained models' rules (None: the style's default, STYLE_RULES); the rules engines follow their own
    harmony_strength: float | None = None   # 0 = the raw model, 1 = notes outside chord tones and tensions masked
    bass_on_change: bool = True      # the lowest note struck at each chord change is its root or slash bass
    guide_tones: bool = True         # ... struck with the chord's 3rd and 7th
    register_low: int | None = None  # MIDI notes; None: the style's register
    register_high: int | None = None
    max_notes_per_onset: int | None = None   # notes struck together at most (two hands: up to 10)

    def rules(self):
        """The decoder's Rules: these settings, the style's defaults where they are None."""
        from .model.constrain import Rules

        style = style_defaults(self.style)
        low, high = style["register"]
        strength = style["harmony_strength"] if self.harmony_strength is None else float(self.harmony_strength)
        notes = style["max_notes_per_onset"] if self.max_notes_per_onset is None else int(self.max_notes_per_onset)
        return Rules(pitch_range=(low if self.register_low is None else int(self.register_low),
                                  high if self.register_high is None else int(self.register_high)),
                     bass_on_change=bool(self.bass_on_change), guide_tones=bool(self.guide_tones),
                     harmony_strength=strength, max_notes_per_onset=notes)

    def sampling_temperature(self) -> float:
        """The temperature trained models sample at: this one, or the style's default."""
        return style_defaults(self.style)["temperature"] if self.temperature is None else float(self.temperature)

    def validate(self) -> None:
        if self.style not in STYLES and self.model in MODELS:
            raise StudioError(f"style must be one of {', '.join(STYLES)} (got {self.style!r})")
        if self.bars is not None and not 1 <= int(self.bars) <= 64:
            raise StudioError(f"bars must be 1-64 (got {self.bars})")
        if self.tempo_bpm is not None and not 20 <= float(self.tempo_bpm) <= 300:
            raise StudioError(f"tempo must be 20-300 bpm (got {self.tempo_bpm:g})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise StudioError(f"seed must be a whole number ≥ 0 (got {self.seed!r})")
        if self.meter not in METERS:
            raise StudioError(f"meter must be one of {', '.join(METERS)} (got {self.meter!r})")
        if not 0.05 <= self.sampling_temperature() <= 5.0:
            raise StudioError(f"temperature must be 0.05-5 (got {self.sampling_temperature():g})")
        if not 0.0 < float(self.top_p) <= 1.0:
            raise StudioError(f"top-p must be in (0, 1] (got {self.top_p:g})")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise StudioError(f"top-k must be a whole number ≥ 0 (got {self.top_k!r})")
        if self.device not in ("cpu", "cuda", "mps"):
            raise StudioError(f"device must be cpu, cuda or mps (got {self.device!r})")
        if self.backend not in BACKENDS:
            raise StudioError(f"backend must be one of {', '.join(BACKENDS)} (got {self.backend!r})")
        if isinstance(self.variations, bool) or not isinstance(self.variations, int) or not 1 <= self.variations <= 8:
            raise StudioError(f"variations must be 1-8 (got {self.variations!r})")
        self._validate_rules()
        if self.model not in MODELS:
            from .model.loading import resolve_model

            resolve_model(self.model)  # raises with the models that exist
        elif self.primer_midi or self.regenerate_from:
            raise StudioError("continuing a MIDI and regenerating bars need a trained model, not "
                              f"{self.model!r}; pick default or a checkpoint")


    def _validate_rules(self) -> None:
        strength = self.harmony_strength
        if strength is not None and not (isinstance(strength, (int, float)) and 0.0 <= float(strength) <= 1.0):
            raise StudioError(f"harmony strength must be 0-1 (got {strength!r})")
        for name in ("register_low", "register_high"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 21 <= value <= 108):
                raise StudioError(f"{name.replace('_', ' ')} must be a MIDI note 21-108 (got {value!r})")
        low, high = self.rules().pitch_range
        if low >= high:
            raise StudioError(f"the register's low note must be below its high note (got {low}-{high})")
        notes = self.max_notes_per_onset
        if notes is not None and (isinstance(notes, bool) or not isinstance(notes, int) or not 1 <= notes <= 10):
            raise StudioError(f"notes per onset must be 1-10 (two hands; got {notes!r})")


@dataclass
class Take:
    """One variation: its piece, files, metrics, novelty and (trained models) its words."""

    piece: Piece
    midi_path: Path
    wav_path: Path | None
    metrics: dict
    tokens: list[str] | None = None
    novelty: dict | None = None

    def summary(self) -> dict:
        return {"midi": str(self.midi_path), "wav": str(self.wav_path) if self.wav_path else None,
                "metrics": self.metrics, "novelty": self.novelty}


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
    takes: list[Take] = field(default_factory=list)   # every variation, the first is the one above
    decoding: dict = field(default_factory=dict)      # trained models: tokens/s, backend, substitutions
    corpus_metrics: dict | None = None                # the same metrics over the training corpus

    def summary(self) -> dict:
        out = {"midi": str(self.midi_path), "wav": str(self.wav_path) if self.wav_path else None,
               "style": self.config.style, "model": self.config.model, "seed": self.config.seed,
               "tempo_bpm": self.piece.tempo_bpm, "bars": self.piece.bars,
               "meter": self.config.meter, "chart": self.chart.text(), "metrics": self.metrics,
               "timings_s": self.timings_s}
        if self.takes and self.takes[0].novelty is not None:
            out["novelty"] = self.takes[0].novelty
        if self.decoding:
            out.update(decoding=self.decoding, corpus_metrics=self.corpus_metrics)
        if len(self.takes) > 1:
            out["variations"] = [t.summary() for t in self.takes]
        return out


def _rules_model(chart: Chart, cfg: GenerateConfig) -> Piece:
    from .rules import default_tempo, perform_chart

    tempo = float(cfg.tempo_bpm) if cfg.tempo_bpm is not None else default_tempo(cfg.style, cfg.seed)
    return perform_chart(chart, cfg.style, tempo, cfg.seed, METERS[cfg.meter])


# model name -> play(chart, cfg) -> Piece. Trained checkpoints (any other --model) go through .model.takes.
MODELS: dict[str, Callable[[Chart, GenerateConfig], Piece]] = {"rules": _rules_model}


def generate(cfg: GenerateConfig, progress: Progress | None = None, midi_path: str | Path | None = None,
             wav_path: str | Path | None = None) -> GenerateResult:
    """Chart -> performance(s) -> MIDI (+ WAV) + metrics, written under ``cfg.out_dir`` (or the first
    take to the given ``midi_path`` / ``wav_path``)."""
    cfg.validate()
    report = progress or (lambda fraction, message: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    chart = parse_chart(cfg.chords)
    if cfg.bars is not None:
        chart = chart.fit(int(cfg.bars))
    elif len(chart) > 64:
        raise StudioError(f"the chart has {len(chart)} bars; at most 64 can be generated at once")
    # 1. play: the rules engines (one take per seed) or a trained model (all variations in one batch)
    report(0.1, f"playing {len(chart)} bars in the {cfg.style} style")
    pieces, words, novelty, decoding, corpus, chart, live = _play(chart, cfg, report)
    timings["generate"] = time.perf_counter() - t0
    # 2. files and metrics for every take
    out_dir = Path(cfg.out_dir) if cfg.out_dir else _default_out_dir(cfg)
    takes = []
    for index, piece in enumerate(pieces):
        report(0.5 + 0.4 * index / len(pieces), f"writing take {index + 1} of {len(pieces)}")
        stem = f"{cfg.style}-seed{cfg.seed}" + (f"-v{index + 1}" if len(pieces) > 1 else "")
        midi = Path(midi_path) if (midi_path and index == 0) else out_dir / f"{stem}.mid"
        wav = Path(wav_path) if (wav_path and index == 0) else None
        takes.append(_write_take(piece, midi, wav, cfg, timings, words[index] if words else None,
                                 novelty[index] if novelty else None, live.streams[index] if live else None))
    first = takes[0]
    result = GenerateResult(cfg, chart, first.piece, first.midi_path, first.wav_path, first.metrics,
                            {k: round(v, 4) for k, v in timings.items()}, takes, decoding, corpus)
    for take in takes:
        atomic_write_json(take.midi_path.with_suffix(".json"), saved_take(result, take))
    return result


def saved_take(result: GenerateResult, take: Take) -> dict:
    """What a take's ``.json`` holds: its summary, words and settings, with file names instead of
    server paths (the file sits in a served folder beside the MIDI and WAV it names)."""
    def name(path) -> str | None:
        return Path(path).name if path else None

    out = {**result.summary(), **take.summary(), "tokens": take.tokens, "config": asdict(result.config)}
    out["midi"], out["wav"] = name(out["midi"]), name(out["wav"])
    for variation in out.get("variations", []):
        variation["midi"], variation["wav"] = name(variation["midi"]), name(variation["wav"])
    if "decoding" in out:
        out["decoding"] = {k: v for k, v in out["decoding"].items() if k != "checkpoint"}
    config = out["config"]
    for key in ("out_dir", "primer_midi", "regenerate_from"):
        config[key] = name(config[key])
    if config["model"] not in MODELS and Path(config["model"]).is_absolute():
        config["model"] = Path(config["model"]).name
    return out


def _play(chart: Chart, cfg: GenerateConfig, report: Progress) -> tuple:
    """(pieces, words or None, novelty or None, decoding info, corpus metrics, the whole piece's chart,
    the audio rendered while playing or None)."""
    if cfg.model in MODELS:
        pieces = [MODELS[cfg.model](chart, replace(cfg, seed=cfg.seed + i)) for i in range(cfg.variations)]
        return pieces, None, None, {}, None, chart, None
    from .model.takes import model_takes

    tempo = float(cfg.tempo_bpm) if cfg.tempo_bpm is not None else _default_tempo(cfg)
    made = model_takes(chart, cfg, METERS[cfg.meter], tempo, report)
    return made.pieces, made.words, made.novelty or None, made.info, made.corpus_metrics, made.chart, made.live


def _default_tempo(cfg: GenerateConfig) -> float:
    from .rules import default_tempo

    return default_tempo(cfg.style, cfg.seed)


def _write_take(piece: Piece, midi_path: Path, wav_path: Path | None, cfg: GenerateConfig,
                timings: dict[str, float], words: list[str] | None, novelty: dict | None,
                stream: "StreamingRender | None" = None) -> Take:
    """MIDI, metrics and (in a second thread, meanwhile: FluidSynth leaves Python's lock) the WAV."""
    t0 = time.perf_counter()
    rendering = None
    if cfg.render_audio or wav_path:
        from concurrent.futures import ThreadPoolExecutor

        from ..music.render import render_wav

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        rendering = pool.submit(render_wav, piece.to_pretty_midi(), wav_path or midi_path.with_suffix(".wav"),
                                stream=stream)
        pool.shutdown(wait=False)
    midi_path = piece.write_midi(midi_path)
    # the panel measures the MIDI the user downloads (MIDI cuts a note re-struck before it ends)
    metrics = all_metrics(read_midi(midi_path))
    timings["midi"] = timings.get("midi", 0.0) + time.perf_counter() - t0
    if rendering is not None:
        wav_path = rendering.result().path
        timings["render"] = timings.get("render", 0.0) + time.perf_counter() - t0
    return Take(piece, midi_path, wav_path, metrics, words, novelty)


def _default_out_dir(cfg: GenerateConfig) -> Path:
    # a served folder: its name cannot be guessed from another visitor's take
    return workspace_dir() / "outputs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.style}-{secrets.token_hex(8)}"
