"""The study's report: per instrument class and pooled, mix vs each separator vs oracle.

Onset F1 and onset+offset F1 (mir_eval, the first onset tolerance), each side's mean over tracks
and every difference between sides with a paired bootstrap 95 % interval over tracks; each
separator's SDR beside them; MR-MT3's instrument leakage ratio; the real-time factor of each
stage; the tracks left out and why; the command and package versions that made it.
Files: study_scores.csv, study_differences.csv, study_chart.png (study.json is written by the caller).
"""
from __future__ import annotations

import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from ..common.config import to_dict
from ..common.files import atomic_write_text
from . import stats
from .compare import UNPITCHED
from .config import ABConfig
from .report import dict_rows_csv

POOLED = "all pitched"
PACKAGES = ("numpy", "scipy", "mir_eval", "pretty_midi", "soundfile", "pyfluidsynth", "basic-pitch",
            "onnxruntime", "demucs", "torch", "matplotlib", "muscriptor", "audio-separator")
UNLABELLED_NOTE = ("The transcriber labels no instruments: the mix side is scored on all its notes "
                   "against the union of the pitched references (the A/B's method), so only the "
                   f"'{POOLED}' rows compare with the mix; per class, separators are compared with "
                   "the oracle stems.")
LABELLED_NOTE = ("The transcriber labels instruments: the mix side is also scored per class, its "
                 "notes split by their General MIDI program into the separator's classes.")


def metrics(cfg: ABConfig) -> dict[str, str]:
    """{score key: label} of the two reported metrics at the first onset tolerance."""
    ms = int(round(cfg.primary_tolerance_s * 1000))
    return {f"onset_{ms}ms": f"onset F1 ({ms} ms)",
            f"onset_offset_{ms}ms": f"onset+offset F1 ({ms} ms)"}


def comparisons(separators: list[str]) -> list[tuple[str, str]]:
    """(a, b) pairs reported as a - b: each separator and the oracle against the mix, then the
    oracle against each separator."""
    return ([(s, "mix") for s in separators] + [("oracle", "mix")] +
            [("oracle", s) for s in separators])


def _f1(result: dict, side: str, stem: str, metric: str) -> float | None:
    for row in result["scores"]:
        if row["side"] == side and row["stem"] == stem:
            return row.get(metric, {}).get("f1")
    return None


def score_rows(results: list[dict], classes: list[str], sides: list[str], cfg: ABConfig) -> list[dict]:
    """Each side's mean F1 per class and metric with its interval; a separator's rows carry the
    mean SDR (dB) of its stems of that class beside them."""
    rows = []
    for metric, label in metrics(cfg).items():
        for stem in classes:
            for side in sides:
                ci = stats.mean_ci([_f1(r, side, stem, metric) for r in results])
                sdr = [r["sdr_db"][side].get(stem) for r in results if side in r.get("sdr_db", {})]
                sdr = [v for v in sdr if v is not None]
                rows.append({"class": stem, "side": side, "metric": label, **ci,
                             "sdr_db": round(sum(sdr) / len(sdr), 2) if sdr else None})
    return rows


def difference_rows(results: list[dict], classes: list[str], separators: list[str],
                    cfg: ABConfig) -> list[dict]:
    rows = []
    for metric, label in metrics(cfg).items():
        for stem in classes:
            for a, b in comparisons(separators):
                ci = stats.paired_difference_ci([_f1(r, b, stem, metric) for r in results],
                                                [_f1(r, a, stem, metric) for r in results])
                rows.append({"class": stem, "comparison": f"{a} - {b}", "metric": label, **ci})
    return rows


def sdr_rows(results: list[dict], classes: list[str], separators: list[str]) -> list[dict]:
    return [{"separator": sep, "class": stem,
             **stats.mean_ci([r["sdr_db"].get(sep, {}).get(stem) for r in results])}
            for sep in separators for stem in classes if stem != POOLED]


def provenance(command: str | None) -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"command": command or " ".join(sys.argv), "python": platform.python_version(),
            "platform": platform.platform(), "packages": versions,
            "made_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bootstrap": {"confidence": stats.CONFIDENCE, "n_resamples": stats.N_RESAMPLES,
                          "seed": stats.SEED, "paired": True, "unit": "track"}}


def _mean_by_stage(results: list[dict], key: str) -> dict[str, float]:
    stages: dict[str, list[float]] = {}
    for r in results:
        for stage, value in r.get(key, {}).items():
            stages.setdefault(stage, []).append(value)
    return {stage: round(sum(v) / len(v), 5) for stage, v in stages.items()}


def write_report(results: list[dict], skipped: list[dict], cfg: ABConfig, separators: list[str],
                 out_dir: Path, command: str | None = None) -> dict:
    """Compute every table, write the CSVs and the chart; the summary dict for study.json."""
    first = next(iter(metrics(cfg)))  # classes no track plays (vocals of MIDI) are left out
    classes = [c for c in cfg.stem_classes if c not in UNPITCHED and
               any(_f1(r, "oracle", c, first) is not None for r in results)] + [POOLED]
    sides = ["mix", *separators, "oracle"]
    labelled = all(r.get("labelled") for r in results)
    scores = score_rows(results, classes, sides, cfg)
    differences = difference_rows(results, classes, separators, cfg)
    sdr = sdr_rows(results, classes, separators)
    leakage = {side: stats.mean_ci([r["leakage_ratio"].get(side) for r in results]) for side in sides}
    scores_csv = atomic_write_text(out_dir / "study_scores.csv", dict_rows_csv(scores))
    diff_csv = atomic_write_text(out_dir / "study_differences.csv", dict_rows_csv(differences))
    sdr_csv = atomic_write_text(out_dir / "study_sdr.csv", dict_rows_csv(sdr)) if sdr else None
    chart = save_chart(differences, out_dir / "study_chart.png", len(results))
    return {"classes": classes, "sides": sides, "separators": separators,
            "transcriber": cfg.transcriber, "labelled": labelled,
            "mix_scoring": LABELLED_NOTE if labelled else UNLABELLED_NOTE,
            "scores": scores, "differences": differences, "sdr_db": sdr,
            "sdr_note": ("SDR (dB) of each separated stem against the track's own stem, "
                         "separate.stem_sdr's global SDR" if separators else "no separator: no SDR"),
            "leakage_ratio": leakage,
            "leakage_note": ("MR-MT3's instrument leakage ratio: pitched Slakh classes in the "
                             "transcription over those in the reference (1 is ideal)"
                             if labelled else "N/A: the transcriber labels no instruments"),
            "real_time_factor": _mean_by_stage(results, "real_time_factor"),
            "timings_s": _mean_by_stage(results, "timings_s"),
            "skipped": skipped, "track_names": [r["track"] for r in results],
            "config": to_dict(cfg), "provenance": provenance(command),
            "files": {"scores_csv": str(scores_csv), "differences_csv": str(diff_csv),
                      "sdr_csv": str(sdr_csv) if sdr_csv else None, "chart": str(chart)}}


def save_chart(differences: list[dict], path: Path, n_tracks: int) -> Path:
    """Every difference with its 95 % interval, one panel per metric (matplotlib's object API)."""
    from matplotlib.figure import Figure

    by_metric: dict[str, list[dict]] = {}
    for row in differences:
        if row["mean"] is not None:
            by_metric.setdefault(row["metric"], []).append(row)
    panels = max(1, len(by_metric))
    height = 1.2 + 0.28 * max([len(v) for v in by_metric.values()] + [1])
    fig = Figure(figsize=(6.5 * panels, height), dpi=100)
    for i, (metric, rows) in enumerate(by_metric.items() or [("no differences", [])]):
        ax = fig.add_subplot(1, panels, i + 1)
        y = list(range(len(rows)))
        means = [r["mean"] for r in rows]
        low = [r["mean"] - r["low"] if r["low"] is not None else 0.0 for r in rows]
        high = [r["high"] - r["mean"] if r["high"] is not None else 0.0 for r in rows]
        ax.errorbar(means, y, xerr=[low, high], fmt="o", color="#1f77b4", ecolor="#555555",
                    capsize=3, markersize=4)
        ax.axvline(0.0, color="#999999", linewidth=0.8)
        ax.set_yticks(y, [f"{r['class']}: {r['comparison']} (n={r['n']})" for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"difference in {metric}, mean over tracks, 95 % CI")
        ax.set_title(f"{metric} ({n_tracks} tracks)", fontsize=9, loc="left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(path))
    return path
