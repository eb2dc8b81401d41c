"""The stems-versus-mix study over a Slakh2100 split: one cached result per track, then the report.

    summary = run_slakh("slakh2100_flac_redux/test", cfg, "out/", separators=["htdemucs"])

Sides of every track: ``mix`` (the mix transcribed whole), one side per separator (its stems
transcribed one by one) and ``oracle`` (the track's own stems). Each track's result is written to
``out/tracks/<track>/track.json`` with a key of everything that decides it; a stopped batch run
again re-uses every track whose key matches and goes on with the rest. A track with bad files is
skipped with one sentence naming it and the file, and listed in the report.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..common.config import to_dict
from ..common.errors import StudioError
from ..common.files import atomic_write_json, read_json
from .audio import resample
from .compare import UNPITCHED, StemRun, _stage, _transcribe_side, check_device, score_result
from .config import ABConfig, separator_names, stem_classes
from .notes import concat
from .slakh import TrackData, list_tracks, load_track, read_track
from .transcribers import LABELS_INSTRUMENTS, get_transcriber

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
CACHE_VERSION = 1  # bump when a track's result changes meaning


def study_separators(cfg: ABConfig, separators: list[str] | None) -> list[str]:
    """The separator models of the study: those given, else the config's model when the config
    separates, else none (the mix against the oracle stems alone). Each must give the study's
    classes (``cfg.stem_classes``, picked by ``cfg.demucs_model``), else one sentence."""
    chosen = list(dict.fromkeys(separators)) if separators else \
        ([cfg.demucs_model] if cfg.separator == "demucs" else [])
    for model in chosen:
        if model not in separator_names():
            raise StudioError(f"separator {model!r} is not in the registry; one of "
                              f"{', '.join(separator_names())}")
        missing = [c for c in cfg.stem_classes if c not in stem_classes(model)]
        if missing:
            raise StudioError(f"the separator {model} gives no {', '.join(missing)} stem but the study "
                              f"scores {', '.join(cfg.stem_classes)} ({cfg.demucs_model}'s classes); set "
                              "demucs_model to a model with the same stems, or leave it out")
    return chosen


def cache_key(cfg: ABConfig, separators: list[str], track: Path) -> str:
    """A hash of everything that decides a track's result: the config, the separators, the
    version, and the name, size and modification time of each of the track's files."""
    files = sorted((str(p.relative_to(track)), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in track.rglob("*") if p.is_file())
    blob = json.dumps({"config": to_dict(cfg), "separators": separators, "version": CACHE_VERSION,
                       "files": files}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _separate(data: TrackData, model: str, cfg: ABConfig, say: Progress):
    """One separator's stems of the track's mix, with the study's classes (else one sentence)."""
    from .separate import separate

    sep_cfg = dataclasses.replace(cfg, separator="demucs", demucs_model=model)
    sep = separate(data.mix.samples, data.mix.sample_rate_hz, sep_cfg, say)
    missing = [c for c in cfg.stem_classes if c not in sep.stems]
    if missing:
        raise StudioError(f"the separator {model} gives {', '.join(sep.stems)} but the study scores "
                          f"{', '.join(cfg.stem_classes)}; list separators with the same stems")
    return sep


def study_stems(stems: dict[str, np.ndarray], classes: tuple[str, ...]) -> dict[str, np.ndarray]:
    """A separator's stems in the study's classes: stems the study does not score on their own
    (htdemucs_6s' piano and guitar in a 4-class study) are added into ``other``, where the oracle
    side has them, so both sides hold the same instruments."""
    out = {c: stems[c].astype(np.float32, copy=True) for c in classes}
    for name, audio in stems.items():
        if name not in classes and "other" in out:
            out["other"][: len(audio)] += audio[: len(out["other"])]
    return out


def stem_sdrs(estimates: dict[str, np.ndarray], estimate_rate_hz: int,
              references: dict[str, np.ndarray], rate_hz: int) -> dict:
    """SDR (dB, ``separate.stem_sdr``) of each separated stem against its oracle stem, at the
    track's rate, for the classes whose oracle stem sounds."""
    from .separate import stem_sdr

    out = {}
    for name, reference in references.items():
        if name in estimates and reference.size and float(np.max(np.abs(reference))) > 1e-4:
            estimate = resample(estimates[name], estimate_rate_hz, rate_hz)
            out[name] = stem_sdr(estimate, reference, sample_rate_hz=rate_hz)
    return out


def leakage_ratio(notes, reference_classes: list[str], labelled: bool = False) -> float | None:
    """MR-MT3's instrument leakage ratio (Tan et al., 2024): the number of instrument classes in
    the transcription over the number in the reference (1 is ideal; above 1, notes of one
    instrument leak into classes that do not play). Pitched Slakh classes; None when the
    transcriber labels no instruments (``labelled``: it does, even where it found no notes)."""
    if not notes.labelled and not labelled:
        return None
    reference = {c for c in reference_classes if c != "Drums"}
    found = {str(c) for c in notes.inst_classes if c and c != "Drums"} if notes.labelled else set()
    return len(found) / len(reference) if reference else None


def run_track(data: TrackData, cfg: ABConfig, separators: list[str], out_dir: Path,
              say: Progress) -> dict:
    """One track: transcribe the mix, each separator's stems and the oracle stems; score them."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    stem_sets: dict[str, tuple[dict, int]] = {}
    sdr: dict[str, dict] = {}
    for i, model in enumerate(separators):
        say(0.1 * i / max(1, len(separators)), f"separating with {model}")
        sep = _separate(data, model, cfg, lambda f, m: None)
        stem_sets[model] = (study_stems(sep.stems, cfg.stem_classes), sep.sample_rate_hz)
        t = _stage(timings, f"separate_{model}", t)
        sdr[model] = stem_sdrs(stem_sets[model][0], sep.sample_rate_hz, data.stems,
                               data.mix.sample_rate_hz)
        t = _stage(timings, "sdr", t)
    stem_sets["oracle"] = (data.stems, data.mix.sample_rate_hz)
    with tempfile.TemporaryDirectory(prefix="slakh-wav-") as wav_dir:
        say(0.3, "transcribing the mix")
        runs = _transcribe_side("mix", {"mix": data.mix.samples}, data.mix.sample_rate_hz, cfg,
                                out_dir, Path(wav_dir))
        t = _stage(timings, "transcribe_mix", t)
        for side, (stems, rate) in stem_sets.items():
            say(0.4 + 0.5 * len(timings) / (len(stem_sets) + len(separators) + 1),
                f"transcribing the {side} stems")
            runs += _transcribe_side(side, stems, rate, cfg, out_dir, Path(wav_dir))
            t = _stage(timings, f"transcribe_{side}", t)
    sides = ["mix", *stem_sets]
    labelled = LABELS_INSTRUMENTS.get(cfg.transcriber, False)
    scores, _, _ = score_result(runs, data.references, cfg, sides)
    t = _stage(timings, "score", t)
    return {"track": data.name, "duration_s": round(data.mix.duration_s, 3), "sides": sides,
            "scores": scores, "sdr_db": sdr,
            "leakage_ratio": _leakage_ratios(runs, sides, data, labelled),
            "inst_classes": data.inst_classes, "notes": data.notes,
            "labelled": labelled or _side_notes(runs, "mix").labelled,
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
            "real_time_factor": {k: round(v / data.mix.duration_s, 5) for k, v in timings.items()}}


def _side_notes(runs: list[StemRun], side: str):
    return concat(r.notes for r in runs if r.side == side and r.stem not in UNPITCHED)


def _leakage_ratios(runs: list[StemRun], sides: list[str], data: TrackData, labelled: bool) -> dict:
    return {side: leakage_ratio(_side_notes(runs, side), data.inst_classes, labelled) for side in sides}


def _eta(seconds: list[float], left: int) -> str:
    if not seconds or not left:
        return ""
    eta_s = float(np.mean(seconds)) * left
    return f", about {eta_s / 60:.0f} min left" if eta_s >= 90 else f", about {eta_s:.0f} s left"


def _cached(path: Path, key: str) -> dict | None:
    if not path.is_file():
        return None
    try:
        saved = read_json(path)
    except (OSError, ValueError):
        return None
    return saved.get("result") if saved.get("key") == key else None


def score_tracks(tracks: list[Path], cfg: ABConfig, separators: list[str], out_dir: Path,
                 say: Progress) -> tuple[list[dict], list[dict], int]:
    """Each track's result (from the cache when its key matches): (results, skipped, cached)."""
    results, skipped, cached, spent = [], [], 0, []
    for i, folder in enumerate(tracks):
        base = i / len(tracks)
        say(base, f"track {i + 1}/{len(tracks)}: {folder.name}{_eta(spent, len(tracks) - i)}")
        cache = out_dir / "tracks" / folder.name / "track.json"
        key = cache_key(cfg, separators, folder)
        result = _cached(cache, key)
        if result is not None:
            results.append(result)
            cached += 1
            continue
        start = time.perf_counter()
        try:
            data = load_track(read_track(folder), cfg.stem_classes, cfg.excerpt_s, cfg.max_duration_s)
            result = run_track(data, cfg, separators, cache.parent, lambda f, m, b=base: say(
                b + f / len(tracks), f"track {i + 1}/{len(tracks)}: {folder.name}: {m}"))
        except StudioError as exc:
            log.warning("skipped %s: %s", folder.name, exc)
            skipped.append({"track": folder.name, "reason": str(exc)})
            continue
        atomic_write_json(cache, {"key": key, "result": result})
        results.append(result)
        spent.append(time.perf_counter() - start)
    return results, skipped, cached


def run_slakh(folder: str | Path, cfg: ABConfig, out_dir: str | Path,
              separators: list[str] | None = None, progress: Progress | None = None,
              command: str | None = None, max_tracks: int | None = None) -> dict:
    """The study over a Slakh2100 split folder; writes the per-track cache and the report files.

    Args:
        separators: separator models to compare (default: the config's Demucs model when its
            separator is demucs, else none; the oracle stems are always a side).
        command: the command line that made the report (recorded in it).
        max_tracks: only the first N tracks (by name).
    """
    from .study_report import write_report

    say = progress or (lambda fraction, message: None)
    out_dir = Path(out_dir)
    get_transcriber(cfg.transcriber)
    check_device(cfg.device)
    separators = study_separators(cfg, separators)
    tracks = list_tracks(folder)[: max_tracks or None]
    start = time.perf_counter()
    results, skipped, cached = score_tracks(tracks, cfg, separators, out_dir, say)
    if not results:
        raise StudioError("no track of the folder could be scored: " +
                          "; ".join(s["reason"] for s in skipped[:3]))
    say(0.97, "bootstrap intervals and the chart")
    summary = write_report(results, skipped, cfg, separators, out_dir, command)
    summary.update({"tracks": len(tracks), "scored": len(results), "cached": cached,
                    "seconds": round(time.perf_counter() - start, 2)})
    atomic_write_json(out_dir / "study.json", summary)
    say(1.0, "done")
    return summary

