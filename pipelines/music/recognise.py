"""A template chord recogniser for spans of notes, tolerant of rootless and fifthless voicings.

Each candidate (12 roots x the templates below) is scored on the span's duration-weighted
pitch-class profile ``w`` (sums to 1) and its lowest note:

    score = 1.0 w[root] + 1.3 w[3rd] + 0.5 w[5th] + 1.0 w[7th/6th] + 0.25 w[allowed tensions]
            (on a dominant, the #9 counts as a tension only where the major 3rd is at least half as loud)
            - 1.0 w[everything else] - 0.3 [3rd missing] - 0.3 [7th of a seventh template missing]
            - 0.3 [the b5 or #5 of a diminished / augmented template, or a sus chord's 5th, missing]
            + 0.35 [lowest note is the root] - 0.15 [lowest note outside the chord]

so a missing root or fifth costs only its own weight (rootless voicings with the bass elsewhere
still name the chord), while notes that clash with a template count against it. Template matching
after Fujishima (1999), "Realtime chord recognition of musical sound", with jazz templates and
chord-scale tensions (see chords.ALLOWED_TENSIONS).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .chords import ALLOWED_TENSIONS, TOKEN_ROOTS

# name -> (family, root/3rd/5th/7th intervals with None where absent)
TEMPLATES: dict[str, tuple[str, tuple[int | None, int | None, int | None]]] = {
    "": ("maj", (4, 7, None)),
    "maj7": ("maj", (4, 7, 11)),
    "6": ("maj", (4, 7, 9)),
    "m": ("min", (3, 7, None)),
    "m7": ("min", (3, 7, 10)),
    "m6": ("min", (3, 7, 9)),
    "mMaj7": ("min", (3, 7, 11)),
    "7": ("dom", (4, 7, 10)),
    "m7b5": ("hdim", (3, 6, 10)),
    "dim": ("dim", (3, 6, None)),
    "dim7": ("dim", (3, 6, 9)),
    "aug": ("aug", (4, 8, None)),
    "sus4": ("sus", (5, 7, None)),
    "7sus4": ("sus", (5, 7, 10)),
}
_WEIGHTS = {"root": 1.0, "third": 1.3, "fifth": 0.5, "seventh": 1.0, "tension": 0.25, "other": -1.0}


@dataclass(frozen=True)
class RecognisedChord:
    """The best template for a span."""

    root: int | None
    quality: str
    family: str
    score: float

    @property
    def name(self) -> str:
        return "NC" if self.root is None else f"{TOKEN_ROOTS[self.root]}{self.quality}"


class ProfileRecogniser:
    """The scores above for all 12 roots x TEMPLATES as one (candidates x 12) matrix built once, so
    a span costs one ``matrix @ profile`` (tokenizing a dataset recognises thousands of spans)."""

    def __init__(self) -> None:
        self.candidates = [(root, quality) for root in range(12) for quality in TEMPLATES]
        size = len(self.candidates)
        self.weights = np.zeros((size, 12))          # score per unit of pitch-class weight
        self.chord_pcs = np.zeros((size, 12), dtype=bool)
        self.third_pc = np.zeros(size, dtype=int)
        self.seventh_pc = np.full(size, -1)          # -1: the template has no 7th/6th
        self.required_fifth_pc = np.full(size, -1)   # the b5/#5 of dim/aug, the 5th of sus; else -1
        for index, (root, quality) in enumerate(self.candidates):
            family, (third, fifth, seventh) = TEMPLATES[quality]
            roles = {0: "root", third: "third"}
            if fifth is not None:
                roles[fifth] = "fifth"
            if seventh is not None:
                roles[seventh] = "seventh"
            for interval in range(12):
                role = roles.get(interval, "tension" if interval in ALLOWED_TENSIONS[family] else "other")
                self.weights[index, (root + interval) % 12] = _WEIGHTS[role]
                self.chord_pcs[index, (root + interval) % 12] = interval in roles
            self.third_pc[index] = (root + third) % 12
            if seventh is not None:
                self.seventh_pc[index] = (root + seventh) % 12
            if fifth in (6, 8) or family == "sus":
                self.required_fifth_pc[index] = (root + fifth) % 12
        self.roots = np.array([root for root, _ in self.candidates])
        self.dominant = np.array([TEMPLATES[q][0] == "dom" for _, q in self.candidates])
        self.sharp9_pc = (self.roots + 3) % 12
        self.major3_pc = (self.roots + 4) % 12

    def scores(self, weights: np.ndarray, bass: int | None) -> np.ndarray:
        """Every candidate's score for a normalised profile ``weights``."""
        scores = self.weights @ weights
        sharp9 = weights[self.sharp9_pc]
        minor_third = self.dominant & (sharp9 > 2 * weights[self.major3_pc])
        scores -= minor_third * (_WEIGHTS["tension"] - _WEIGHTS["other"]) * sharp9
        scores -= 0.3 * (weights[self.third_pc] == 0)
        for pcs in (self.seventh_pc, self.required_fifth_pc):
            present = pcs >= 0
            scores -= 0.3 * (present & (weights[np.where(present, pcs, 0)] == 0))
        if bass is not None:
            scores += 0.35 * (self.roots == bass)
            scores -= 0.15 * ((self.roots != bass) & ~self.chord_pcs[:, bass])
        return scores

    def recognise(self, profile: Sequence[float], bass: int | None = None) -> RecognisedChord:
        weights = np.asarray(profile, dtype=float)
        total = weights.sum()
        if total <= 0:
            return RecognisedChord(None, "nc", "nc", 0.0)
        scores = self.scores(weights / total, bass)
        best = int(np.argmax(np.round(scores, 9)))
        root, quality = self.candidates[best]
        return RecognisedChord(root, quality, TEMPLATES[quality][0], round(float(scores[best]), 4))


@functools.lru_cache(maxsize=1)
def default_recogniser() -> ProfileRecogniser:
    """The one recogniser, built on first use (its matrices never change)."""
    return ProfileRecogniser()


def recognise_profile(profile: Sequence[float], bass: int | None = None) -> RecognisedChord:
    """Best chord for a 12-bin pitch-class profile (any scale) and an optional bass pitch class."""
    return default_recogniser().recognise(profile, bass)


def span_profile(notes: Iterable, start: float, end: float) -> tuple[np.ndarray, int | None]:
    """Duration-weighted pitch-class profile of the notes sounding in [start, end) (beats), and the
    bass: the pitch class of the lowest pitch that sounds (all its notes together) for at least a
    fifth of the span, or of the lowest pitch when none does."""
    profile = np.zeros(12)
    span = max(end - start, 1e-9)
    by_pitch: dict[int, float] = {}
    for note in notes:
        overlap = min(note.start + note.duration, end) - max(note.start, start)
        if overlap <= 1e-9:
            continue
        profile[note.pitch % 12] += overlap
        by_pitch[note.pitch] = by_pitch.get(note.pitch, 0.0) + overlap
    if not by_pitch:
        return profile, None
    held = [p for p, time in by_pitch.items() if time >= 0.2 * span]
    return profile, min(held or by_pitch) % 12


def recognise_span(notes: Iterable, start: float, end: float) -> RecognisedChord:
    """The chord heard in the notes sounding between ``start`` and ``end`` beats."""
    profile, bass = span_profile(notes, start, end)
    return recognise_profile(profile, bass)
