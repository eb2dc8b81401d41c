"""Note-level scores with mir_eval: onset-only and onset+offset F1, leakage between stems.

A score is None ("N/A") when its reference holds no notes: a perfect 0 would be a lie.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from .notes import Notes


@dataclass
class NoteScore:
    """Precision/recall/F1 with the raw counts they come from (None where the reference is empty)."""

    precision: float | None
    recall: float | None
    f1: float | None
    n_ref: int
    n_est: int
    n_match: int

    def to_dict(self) -> dict:
        return asdict(self)


def _mir_eval():
    import mir_eval.transcription

    return mir_eval.transcription


def match(ref: Notes, est: Notes, onset_tolerance_s: float, pitch_tolerance_cents: float = 50.0,
          with_offset: bool = False) -> list[tuple[int, int]]:
    """mir_eval's optimal one-to-one matching: (reference index, estimate index) pairs."""
    if not len(ref) or not len(est):
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _mir_eval().match_notes(
            ref.intervals, ref.pitches_hz, est.intervals, est.pitches_hz,
            onset_tolerance=onset_tolerance_s, pitch_tolerance=pitch_tolerance_cents,
            offset_ratio=0.2 if with_offset else None, offset_min_tolerance=0.05)


def score(ref: Notes, est: Notes, onset_tolerance_s: float, pitch_tolerance_cents: float = 50.0,
          with_offset: bool = False) -> NoteScore:
    """mir_eval.transcription.precision_recall_f1_overlap, plus the counts behind it.

    Onset-only when ``with_offset`` is False (offset_ratio=None); onset+offset uses mir_eval's
    defaults (offset within 20% of the note or 50 ms).
    """
    n_ref, n_est = len(ref), len(est)
    if n_ref == 0:
        return NoteScore(None, None, None, 0, n_est, 0)
    if n_est == 0:
        return NoteScore(0.0, 0.0, 0.0, n_ref, 0, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        precision, recall, f1, _ = _mir_eval().precision_recall_f1_overlap(
            ref.intervals, ref.pitches_hz, est.intervals, est.pitches_hz,
            onset_tolerance=onset_tolerance_s, pitch_tolerance=pitch_tolerance_cents,
            offset_ratio=0.2 if with_offset else None, offset_min_tolerance=0.05)
    n_match = int(round(float(precision) * n_est))
    return NoteScore(float(precision), float(recall), float(f1), n_ref, n_est, n_match)


def from_counts(n_ref: int, n_est: int, n_match: int) -> NoteScore:
    """Micro pooling: one score from summed counts (N/A when there is no reference at all)."""
    if n_ref == 0:
        return NoteScore(None, None, None, 0, n_est, n_match)
    precision = n_match / n_est if n_est else 0.0
    recall = n_match / n_ref
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return NoteScore(precision, recall, f1, n_ref, n_est, n_match)


def leakage(est: Notes, own_class: str, references: dict[str, Notes], onset_tolerance_s: float,
            pitch_tolerance_cents: float = 50.0) -> dict:
    """How many of a stem's notes are another class's notes: they match (onset-only) some other
    class's reference and not the stem's own. Returns counts per source class and the ratio."""
    n_est = len(est)
    own = {e for _, e in match(references.get(own_class, Notes.empty()), est, onset_tolerance_s,
                               pitch_tolerance_cents)}
    leaked: set[int] = set()
    by_class: dict[str, int] = {}
    for name, ref in references.items():
        if name == own_class or name == "drums" or not len(ref):
            continue
        hits = {e for _, e in match(ref, est, onset_tolerance_s, pitch_tolerance_cents)} - own
        if hits:
            by_class[name] = len(hits)
        leaked |= hits
    return {"n_est": n_est, "n_leaked": len(leaked), "from": by_class,
            "ratio": (len(leaked) / n_est) if n_est else None}


def outcome(f1_a: float | None, f1_b: float | None, tie_margin: float = 0.005) -> str | None:
    """'win' when b beats a by more than ``tie_margin``, 'loss' when it trails, else 'tie'; None if N/A."""
    if f1_a is None or f1_b is None:
        return None
    delta = f1_b - f1_a
    if abs(delta) <= tie_margin:
        return "tie"
    return "win" if delta > 0 else "loss"


def macro_mean(values: list[float | None]) -> float | None:
    """Mean over the values that are not N/A (None when all are)."""
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None
