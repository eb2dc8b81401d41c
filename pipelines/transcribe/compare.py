"""The A/B comparison: transcribe the mix, the Demucs stems and the oracle stems, score each side.

    result = run_ab(input_path, cfg, out_dir, reference=None, progress=None, rolls=True)

``run_ab`` finishes the whole run: every output (stems, MIDI, piano rolls, table.csv, report.json)
is written here, so the CLI and the studio tab, which both call it, leave the same files.

Sides: ``mix`` always; ``oracle`` when the input is a multi-track MIDI (rendered stems, exact
reference); ``demucs`` when ``cfg.separator == "demucs"``. Drums are not transcribed (basic-pitch
is pitched only) and are left out of every score.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..common.errors import StudioError
from ..common.files import atomic_write_json, atomic_write_text
from ..common.config import to_dict
from . import scoring
from .audio import MIDI_SUFFIXES, Audio, checked_audio, read_audio, write_wav
from .config import ABConfig
from .notes import DRUM_PROGRAM, Notes, concat, merge_duplicates
from .oracle import excerpt, read_multitrack, references_by_class, render_oracle, stem_class
from .transcribers import LABELS_INSTRUMENTS, device_of, get_transcriber

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
UNPITCHED = ("drums",)
SHORT_REFERENCE_RATIO = 0.5  # a reference covering less than half the audio is refused


@dataclass
class StemRun:
    """One transcribed (or skipped) track of one side."""

    side: str
    stem: str
    wav: Path
    midi: Path | None
    notes: Notes
    skipped: str | None = None  # why it was not transcribed (drums, silence)


@dataclass
class ABResult:
    """What an A/B produced; ``to_dict()`` is the JSON report."""

    input: str
    kind: str  # "audio" or "midi"
    sides: list[str]
    classes: tuple[str, ...]
    runs: list[StemRun]
    references: dict[str, Notes] | None
    reference_union: Notes | None
    scores: list[dict]
    timings_s: dict[str, float]
    device: dict[str, str]
    duration_s: float
    notes: list[str] = field(default_factory=list)
    out_dir: Path | None = None
    config: dict = field(default_factory=dict)

    def run_of(self, side: str, stem: str) -> StemRun | None:
        return next((r for r in self.runs if r.side == side and r.stem == stem), None)

    def real_time_factors(self) -> dict[str, float]:
        """Seconds of work per second of audio, stage by stage (below 1: faster than real time)."""
        return {k: round(v / self.duration_s, 4) for k, v in self.timings_s.items()
                if self.duration_s > 0}

    def to_dict(self) -> dict:
        return {
            "input": self.input, "kind": self.kind, "sides": self.sides, "classes": list(self.classes),
            "duration_s": round(self.duration_s, 3), "device": self.device,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
            "real_time_factor": self.real_time_factors(),
            "notes": self.notes, "scores": self.scores, "config": self.config,
            "stems": [{"side": r.side, "stem": r.stem, "wav": str(r.wav),
                       "midi": str(r.midi) if r.midi else None, "n_notes": len(r.notes),
                       "skipped": r.skipped} for r in self.runs],
            "reference_notes": ({k: len(v) for k, v in self.references.items()}
                                if self.references is not None else None),
        }


def check_device(device: str) -> None:
    """Refuse ``cuda`` on a machine without a CUDA GPU, in one sentence, before any work."""
    if device.startswith("cuda"):
        from .separate import check_device as check

        check(device)


def _stage(timings: dict[str, float], name: str, start: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - start
    return now


def _load_input(path: Path, cfg: ABConfig, reference: Path | None, notes: list[str]):
    """(kind, mix Audio, {side: {class: (frames, 2)}}, references or None)."""
    if path.suffix.lower() in MIDI_SUFFIXES:
        pm = excerpt(read_multitrack(path), cfg.excerpt_s)
        if pm.get_end_time() > cfg.max_duration_s:
            raise StudioError(f"{path.name} lasts {pm.get_end_time() / 60:.1f} min; the A/B takes at "
                              f"most {cfg.max_duration_s / 60:.0f} min: set excerpt_s to use its start")
        if reference is not None:
            notes.append("a multi-track MIDI is its own reference; the reference MIDI was not used")
        oracle = render_oracle(pm, cfg.stem_classes, cfg.sample_rate_hz, cfg.soundfont)
        mix = checked_audio(Audio(oracle.mix, oracle.sample_rate_hz), path.name)
        sides = {} if cfg.separator == "none" else {"oracle": oracle.stems}
        return "midi", mix, sides, oracle.references
    if cfg.separator == "oracle":
        raise StudioError(f"{path.name} is audio: oracle stems need a multi-track MIDI input; choose "
                          "the demucs separator for audio, or none to transcribe the mix alone")
    mix = read_audio(path, cfg.max_duration_s, cfg.excerpt_s)
    references = None
    if reference is not None:
        ref_pm = read_multitrack(reference)
        ref_end = ref_pm.get_end_time()
        if ref_end < SHORT_REFERENCE_RATIO * mix.duration_s:
            raise StudioError(
                f"the reference MIDI {reference.name} ends at {ref_end:.1f} s but the audio lasts "
                f"{mix.duration_s:.1f} s; give the matching reference, or set excerpt_s to "
                f"{max(1.0, ref_end):.0f} to score only the part it covers")
        references = references_by_class(excerpt(ref_pm, mix.duration_s), cfg.stem_classes)
    return "audio", mix, {}, references


def _transcribe_side(side: str, stems: dict[str, np.ndarray], rate: int, cfg: ABConfig,
                     out_dir: Path, wav_dir: Path | None = None) -> list[StemRun]:
    """Transcribe each stem of one side: WAVs into ``wav_dir`` (default ``out_dir``), MIDI into
    ``out_dir``."""
    transcribe = get_transcriber(cfg.transcriber)
    runs = []
    for stem, audio in stems.items():
        wav = write_wav((wav_dir or out_dir) / side / f"{stem}.wav", audio, rate)
        if stem in UNPITCHED:
            runs.append(StemRun(side, stem, wav, None, Notes.empty(), "drums are not transcribed"))
            continue
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        if not mono.size or float(np.max(np.abs(mono))) < 1e-4:
            runs.append(StemRun(side, stem, wav, None, Notes.empty(), "silent stem"))
            continue
        notes = transcribe(mono.astype(np.float32), rate, cfg)
        midi = notes.write_midi(out_dir / side / f"{stem}.mid", name=f"{side} {stem}")
        runs.append(StemRun(side, stem, wav, midi, notes))
    return runs


def notes_by_stem_class(notes: Notes, classes: tuple[str, ...],
                        labelled: bool = False) -> dict[str, Notes] | None:
    """A labelled transcription split into the separator's classes by each note's program (notes
    of an unknown program count as other); None when the transcriber labels no instruments (as
    basic-pitch). ``labelled``: the transcriber labels them (then no notes at all is empty classes)."""
    if not notes.labelled:
        return {name: Notes.empty() for name in classes} if labelled and not len(notes) else None
    names = np.array([stem_class(int(p), int(p) == DRUM_PROGRAM, classes) for p in notes.programs],
                     dtype=object)
    return {name: notes.select(names == name) for name in classes}


def _score_rows(side: str, stem: str, ref: Notes, est: Notes, cfg: ABConfig,
                extra: dict | None = None) -> dict:
    row = {"side": side, "stem": stem}
    for tol in cfg.onset_tolerances_s:
        ms = int(round(tol * 1000))
        for label, offset in (("onset", False), ("onset_offset", True)):
            row[f"{label}_{ms}ms"] = scoring.score(ref, est, tol, cfg.pitch_tolerance_cents,
                                                   with_offset=offset).to_dict()
    row.update(extra or {})
    return row


def score_result(runs: list[StemRun], references: dict[str, Notes], cfg: ABConfig,
                 sides: list[str]) -> tuple[list[dict], Notes, int]:
    """Score rows: the mix against the pitched union (and per class when its transcriber labels
    instruments); each stem against its class; each side's pooled stems against the union."""
    pitched = [c for c in cfg.stem_classes if c not in UNPITCHED]
    union, merged_ref = merge_duplicates(concat(references[c] for c in pitched), cfg.merge_window_s)
    rows = []
    by_key = {(r.side, r.stem): r for r in runs}
    mix_notes = by_key[("mix", "mix")].notes
    rows.append(_score_rows("mix", "all pitched", union, mix_notes, cfg))
    mix_by_class = notes_by_stem_class(mix_notes, cfg.stem_classes,
                                       LABELS_INSTRUMENTS.get(cfg.transcriber, False))
    for stem in pitched if mix_by_class is not None else ():  # labelled: the mix per class too
        rows.append(_score_rows("mix", stem, references[stem], mix_by_class[stem], cfg))
    for side in sides:
        if side == "mix":
            continue
        for stem in pitched:
            est = by_key[(side, stem)].notes
            leak = scoring.leakage(est, stem, references, cfg.primary_tolerance_s,
                                   cfg.pitch_tolerance_cents)
            rows.append(_score_rows(side, stem, references[stem], est, cfg, {"leakage": leak}))
        pooled, merged_est = merge_duplicates(concat(by_key[(side, s)].notes for s in pitched),
                                              cfg.merge_window_s)
        rows.append(_score_rows(side, "all pitched", union, pooled, cfg,
                                {"duplicates_merged": merged_est}))
    return rows, union, merged_ref


def run_ab(input_path: str | Path, cfg: ABConfig, out_dir: str | Path,
           reference: str | Path | None = None, progress: Progress | None = None,
           rolls: bool = True) -> ABResult:
    """The whole A/B on one input (audio or multi-track MIDI) and every file it leaves.

    Writes each side's stems (WAV) and transcriptions (MIDI), a piano roll per transcription (PNG,
    unless ``rolls`` is False), ``table.csv`` (the comparison table) and ``report.json``.
    """
    say = progress or (lambda fraction, desc: None)
    input_path, out_dir = Path(input_path), Path(out_dir)
    if not input_path.is_file():
        raise StudioError(f"input {input_path} does not exist")
    get_transcriber(cfg.transcriber)  # refuse a bad name (or a GPU this machine lacks) before any work
    check_device(cfg.device)
    timings: dict[str, float] = {}
    notes: list[str] = []
    t = time.perf_counter()
    # 1. decode the audio, or render the MIDI into a mix and its oracle stems
    say(0.02, "reading the input")
    kind, mix, stem_sets, references = _load_input(input_path, cfg, Path(reference) if reference else None,
                                                   notes)
    notes += mix.notes
    t = _stage(timings, "render" if kind == "midi" else "decode", t)
    # 2. separate with Demucs (cached by input hash)
    device = {"transcriber": device_of(cfg.transcriber, cfg.device)}
    if cfg.separator == "demucs":
        from .separate import separate

        say(0.1, f"separating with Demucs {cfg.demucs_model}")
        sep = separate(mix.samples, mix.sample_rate_hz, cfg,
                       lambda f, d: say(0.1 + 0.4 * f, d))
        stem_sets = {"demucs": sep.stems, **stem_sets}  # sides in the order mix, demucs, oracle
        device["separator"] = f"{cfg.device} (Demucs {cfg.demucs_model}{', cached' if sep.cached else ''})"
        t = _stage(timings, "separate", t)
        rates = {"demucs": sep.sample_rate_hz}
    else:
        device["separator"] = ("none (oracle stems rendered by FluidSynth)"
                               if "oracle" in stem_sets else "none (the mix alone)")
        rates = {}
    # 3. transcribe the mix, then every side's stems
    say(0.5, "transcribing the mix")
    runs = _transcribe_side("mix", {"mix": mix.samples}, mix.sample_rate_hz, cfg, out_dir)
    t = _stage(timings, "transcribe_mix", t)
    sides = ["mix"]
    for i, (side, stems) in enumerate(stem_sets.items()):
        say(0.6 + 0.3 * i / max(1, len(stem_sets)), f"transcribing the {side} stems")
        runs += _transcribe_side(side, stems, rates.get(side, mix.sample_rate_hz), cfg, out_dir)
        sides.append(side)
        t = _stage(timings, f"transcribe_{side}", t)
    # 4. score against the reference, when there is one
    scores: list[dict] = []
    union = None
    if references is not None:
        say(0.92, "scoring with mir_eval")
        scores, union, merged_ref = score_result(runs, references, cfg, sides)
        if merged_ref:
            notes.append(f"{merged_ref} duplicate reference notes (same pitch within "
                         f"{cfg.merge_window_s * 1000:.0f} ms) were merged")
        t = _stage(timings, "score", t)
    else:
        notes.append("no reference MIDI: transcriptions only, no scores")
    timings["total"] = sum(timings.values())
    result = ABResult(str(input_path), kind, sides, cfg.stem_classes, runs, references, union, scores,
                      timings, device, mix.duration_s, notes, out_dir, to_dict(cfg))
    write_outputs(result, cfg, rolls, say)
    say(1.0, "done")
    return result


def write_outputs(result: ABResult, cfg: ABConfig, rolls: bool, say: Progress) -> None:
    """The files of a finished A/B: piano rolls, table.csv (when scored) and report.json."""
    from .report import comparison_table, table_csv

    if rolls:
        from .pianoroll import save_all

        say(0.96, "drawing piano rolls")
        save_all(result, cfg.primary_tolerance_s)
    if result.scores:
        atomic_write_text(result.out_dir / "table.csv", table_csv(comparison_table(result.scores)))
    atomic_write_json(result.out_dir / "report.json", result.to_dict())
