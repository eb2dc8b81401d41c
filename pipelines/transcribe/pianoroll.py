"""A piano roll of a transcription drawn over its reference: hits, misses and false notes.

Every reference note is a grey outline; over it, hits (transcribed notes that match a reference
note, onset-only within the tolerance) in green, misses (reference notes left unmatched) in red,
false notes (transcribed notes matching nothing) in blue.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import scoring
from .notes import Notes

COLOURS = {"hit": "#2ca02c", "miss": "#d62728", "false": "#1f77b4", "estimate": "#555555"}


def classify(ref: Notes | None, est: Notes, onset_tolerance_s: float) -> dict[str, Notes]:
    """Split into hits (estimated notes that match), misses (reference) and false notes."""
    if ref is None:
        return {"estimate": est}
    pairs = scoring.match(ref, est, onset_tolerance_s)
    ref_hit = np.zeros(len(ref), dtype=bool)
    est_hit = np.zeros(len(est), dtype=bool)
    for r, e in pairs:
        ref_hit[r], est_hit[e] = True, True
    return {"hit": est.select(est_hit), "miss": ref.select(~ref_hit), "false": est.select(~est_hit)}


def draw_overlay(ref: Notes | None, est: Notes, title: str, onset_tolerance_s: float = 0.05,
                 duration_s: float | None = None):
    """A matplotlib Figure: time (s) across, MIDI pitch up; a legend with the counts."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(10, 2.6), dpi=90)
    ax = fig.add_subplot(1, 1, 1)
    groups = classify(ref, est, onset_tolerance_s)
    pitches = [g.pitches for g in groups.values() if len(g)]
    if ref is not None and len(ref):  # every reference note as a thin outline underneath
        ax.barh(ref.pitches, np.maximum(ref.intervals[:, 1] - ref.intervals[:, 0], 0.02),
                left=ref.intervals[:, 0], height=0.8, fill=False, edgecolor="#777777", linewidth=0.5)
    for kind, notes in groups.items():
        if not len(notes):
            continue
        starts, ends = notes.intervals[:, 0], notes.intervals[:, 1]
        ax.barh(notes.pitches, np.maximum(ends - starts, 0.02), left=starts, height=0.8,
                color=COLOURS[kind], alpha=0.55 if kind == "miss" else 0.85, linewidth=0)
    if pitches:
        all_pitches = np.concatenate(pitches)
        ax.set_ylim(all_pitches.min() - 2, all_pitches.max() + 2)
    end = duration_s or max([g.end_s for g in groups.values()] + [1.0])
    ax.set_xlim(0, end)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title, fontsize=10, loc="left")
    handles = [Patch(color=COLOURS[k], label=f"{k} ({len(v)})") for k, v in groups.items()]
    if ref is not None:
        handles.append(Patch(fill=False, edgecolor="#777777", label=f"reference ({len(ref)})"))
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              ncol=len(handles), frameon=False, borderaxespad=0.1)
    fig.tight_layout()
    return fig


def save_overlay(path: str | Path, ref: Notes | None, est: Notes, title: str,
                 onset_tolerance_s: float = 0.05, duration_s: float | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_overlay(ref, est, title, onset_tolerance_s, duration_s).savefig(str(path))
    return path


def save_all(result, onset_tolerance_s: float = 0.05) -> dict[tuple[str, str], Path]:
    """One PNG per transcribed track of an ABResult, next to its MIDI; {(side, stem): path}."""
    out = {}
    for run in result.runs:
        if run.skipped:
            continue
        if result.references is None:
            ref = None
        elif run.side == "mix":
            ref = result.reference_union
        else:
            ref = result.references.get(run.stem)
        name = "the mix" if run.side == "mix" else f"{run.side} {run.stem}"
        title = f"{name}: transcription over the reference" if ref is not None \
            else f"{name}: transcription"
        out[(run.side, run.stem)] = save_overlay(run.wav.with_suffix(".png"), ref, run.notes, title,
                                                 onset_tolerance_s, result.duration_s)
    return out
