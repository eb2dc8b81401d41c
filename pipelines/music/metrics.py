"""Music metrics shared by the Generate, Data, Train and Listen tabs.

All take a :class:`Piece` (notes in beats); chord metrics also take the chart's chord events
(``Piece.chords`` by default). Each docstring gives the formula and where it comes from.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np

from .chords import Chord, ChordEvent
from .piece import Note, Piece
from .playing import ANTICIPATION_BEATS, playing_evidence, pushed_into
from .recognise import RecognisedChord, recognise_profile, recognise_span, span_profile

GROOVE_GRID_PER_BEAT = 4   # 16th-note grid for grooving patterns


def _active_events(piece: Piece, chords: Sequence[ChordEvent] | None) -> list[ChordEvent]:
    return [e for e in (piece.chords if chords is None else chords) if not e.chord.is_no_chord]


def _anticipates(note: Note, event: ChordEvent, following: ChordEvent | None) -> bool:
    """True when ``note`` starts inside ``event`` but is heard against ``following``: it starts at
    most an eighth before the change and rings mostly after it (a pushed chord)."""
    return following is not None and abs(following.start - event.end) < 1e-9 and pushed_into(note, following.start)


def chord_for_note(note: Note, events: Sequence[ChordEvent]) -> Chord | None:
    """The chart chord a note is heard against: the one at its onset, or the next one when the
    note anticipates it (see _anticipates)."""
    for index, event in enumerate(events):
        if event.start - 1e-9 <= note.start < event.end - 1e-9:
            following = events[index + 1] if index + 1 < len(events) else None
            return following.chord if _anticipates(note, event, following) else event.chord
    return None


def chord_tone_ratio(piece: Piece, chords: Sequence[ChordEvent] | None = None,
                     tension_aware: bool = False) -> float | None:
    """Share of notes whose pitch class belongs to the chord they sound against.

    CTR = |{n : pc(n) ∈ S(chord(n))}| / |{n : chord(n) exists}|, where S is the chord symbol's pitch
    classes (plain) or those plus the tensions its family allows (tension-aware: 9/#11/13 on a maj7,
    b9/#9/#11/b13 on a dominant, ...). Plain CTR follows the chord-tone ratio of Yeh et al. (2021),
    "Automatic melody harmonization with triad chords", JNMR 50(1); the tension-aware variant is
    ours, so that idiomatic jazz tensions do not count as wrong notes. None when no note has a chord.
    """
    events = _active_events(piece, chords)
    hits = total = 0
    for note in piece.notes:
        chord = chord_for_note(note, events)
        if chord is None:
            continue
        allowed = chord.tension_aware_set if tension_aware else chord.pitch_classes
        total += 1
        hits += (note.pitch % 12) in allowed
    return hits / total if total else None


def chord_accuracy(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> dict[str, float | int | None]:
    """How often the chord recognised in the notes of each chart span is the chart's chord.

    For every non-N.C. chart chord, the recogniser names the chord heard in its span;
    ``root`` = share with the same root, ``root_quality`` = share with the same root and family
    (maj/min/dom/hdim/dim/aug/sus; a power chord accepts maj or min). A slash chord whose bass lies
    (``Ab/Bb``, ``C/E``) is checked as a musician hears it: the lowest note must be the written
    bass, and the chord is recognised on the notes above it. Pushed notes belong to the chord they
    anticipate, as in chord_tone_ratio. The MIREX chord-estimation
    "root" and "majmin"-style comparisons (Harte 2010, "Towards automatic extraction of harmony
    information from music signals"), on symbolic notes instead of audio.
    """
    events = _active_events(piece, chords)
    root_hits = quality_hits = 0
    for index, event in enumerate(events):
        heard, bass_ok = _heard_chord(piece.notes, events, index)
        if heard.root == event.chord.root and bass_ok:
            root_hits += 1
            family = event.chord.family
            if heard.family == family or (family == "power" and heard.family in ("maj", "min")):
                quality_hits += 1
    n = len(events)
    return {"root": root_hits / n if n else None, "root_quality": quality_hits / n if n else None, "n": n}


def _heard_chord(notes: Sequence[Note], events: Sequence[ChordEvent], index: int
                 ) -> tuple[RecognisedChord, bool]:
    """The chord recognised in event ``index``'s span, and whether its written slash bass is the bass.

    Notes that anticipate the next chord are left to it. A slash chord is recognised on its upper
    structure: the bass notes are set aside and checked on their own (and a bass foreign to the
    chord, as in a pedal point, has its pitch class set aside too)."""
    event = events[index]
    following = events[index + 1] if index + 1 < len(events) else None
    heard = [n for n in notes if not (event.start <= n.start < event.end and _anticipates(n, event, following))]
    chord = event.chord
    if chord.bass is None:
        return recognise_span(heard, event.start, event.end), True
    _, bass = span_profile(heard, event.start, event.end)
    lowest = min((n.pitch for n in heard if n.pitch % 12 == bass and
                  min(n.end, event.end) > max(n.start, event.start)), default=None)
    profile, _ = span_profile([n for n in heard if n.pitch != lowest], event.start, event.end)
    if chord.bass not in {(chord.root + i) % 12 for i in chord.intervals}:
        profile[chord.bass] = 0.0
    return recognise_profile(profile, None), bass == chord.bass


def _entropy(counts: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def pitch_class_entropy(piece: Piece, window_bars: int | None = None) -> float | None:
    """Entropy of the pitch-class histogram, H = -Σ p_i log2 p_i over 12 classes (0 to log2 12 ≈ 3.58).

    With ``window_bars`` = k: the mean of H over consecutive k-bar windows that hold notes
    (H1 and H4 of Wu & Yang 2020, "The Jazz Transformer on the front line", ISMIR, MusDr suite).
    """
    if not piece.notes:
        return None
    if window_bars is None:
        counts = np.bincount([n.pitch % 12 for n in piece.notes], minlength=12)
        return _entropy(counts)
    span = window_bars * piece.beats_per_bar
    windows: dict[int, np.ndarray] = {}
    for note in piece.notes:
        windows.setdefault(int(note.start // span), np.zeros(12))[note.pitch % 12] += 1
    return float(np.mean([_entropy(c) for c in windows.values()]))


def bar_onset_patterns(piece: Piece) -> np.ndarray:
    """Binary onset vectors, one per bar, on a 16th grid: shape (bars, beats_per_bar * 4)."""
    slots = int(round(piece.beats_per_bar * GROOVE_GRID_PER_BEAT))
    patterns = np.zeros((piece.bars, slots), dtype=bool)
    for note in piece.notes:
        bar = int(note.start // piece.beats_per_bar)
        slot = int(round((note.start - bar * piece.beats_per_bar) * GROOVE_GRID_PER_BEAT)) % slots
        if 0 <= bar < piece.bars:
            patterns[bar, slot] = True
    return patterns


def grooving_similarity(piece: Piece) -> float | None:
    """Mean grooving-pattern similarity over all pairs of bars.

    GS(a, b) = 1 - (1/Q) Σ_q XOR(a_q, b_q) for binary onset vectors a, b of Q grid slots; averaged
    over every pair of bars (Wu & Yang 2020, MusDr "GS"). 1 = every bar has the same rhythm.
    """
    patterns = bar_onset_patterns(piece)
    if len(patterns) < 2:
        return None
    sims = [1.0 - np.logical_xor(a, b).mean() for a, b in itertools.combinations(patterns, 2)]
    return float(np.mean(sims))


def note_density(piece: Piece) -> dict[str, float]:
    """Notes per bar and per second over the piece's bars."""
    bars = piece.bars
    return {"notes_per_bar": len(piece.notes) / bars,
            "notes_per_s": len(piece.notes) / piece.duration_s if piece.duration_s else 0.0}


def polyphony(piece: Piece) -> float | None:
    """Mean number of notes sounding at once, sampled on a 16th grid where at least one sounds."""
    if not piece.notes:
        return None
    step = 1.0 / GROOVE_GRID_PER_BEAT
    slots = int(math.ceil(piece.end_beat / step)) + 1
    counts = np.zeros(slots)
    for note in piece.notes:
        first = int(math.ceil(note.start / step - 1e-9))
        last = int(math.ceil(note.end / step - 1e-9))
        counts[first:max(last, first + 1)] += 1
    sounding = counts[counts > 0]
    return float(sounding.mean()) if sounding.size else None


def empty_beat_rate(piece: Piece) -> float:
    """Share of the piece's beats in which no note sounds (neither starts nor rings).

    The empty-bar rate of MuseGAN (Dong et al. 2018, AAAI) at beat resolution: a piece that
    "breathes" has some; a wall of notes has none; a broken generator has many.
    """
    beats = int(round(piece.bars * piece.beats_per_bar))
    if beats == 0:
        return 0.0
    busy = np.zeros(beats, dtype=bool)
    for note in piece.notes:
        first = max(int(math.floor(note.start)), 0)
        last = min(int(math.ceil(note.end - 1e-9)), beats)
        busy[first:max(last, first + 1)] = True
    return float(1.0 - busy[:beats].mean())


def all_metrics(piece: Piece, chords: Sequence[ChordEvent] | None = None) -> dict[str, float | int | None]:
    """Every metric above as one flat dict (what the Generate tab's panel and the CLI show)."""
    accuracy = chord_accuracy(piece, chords)
    density = note_density(piece)
    values = {
        "chord_accuracy_root": accuracy["root"],
        "chord_accuracy_root_quality": accuracy["root_quality"],
        "chord_tone_ratio": chord_tone_ratio(piece, chords),
        "chord_tone_ratio_tension_aware": chord_tone_ratio(piece, chords, tension_aware=True),
        "pitch_class_entropy": pitch_class_entropy(piece),
        "pitch_class_entropy_1bar": pitch_class_entropy(piece, 1),
        "pitch_class_entropy_4bar": pitch_class_entropy(piece, 4),
        "grooving_similarity": grooving_similarity(piece),
        "notes_per_bar": density["notes_per_bar"],
        "notes_per_s": density["notes_per_s"],
        "polyphony": polyphony(piece),
        "empty_beat_rate": empty_beat_rate(piece),
        **playing_evidence(piece, chords),   # music.playing
        "notes": len(piece.notes),
        "bars": piece.bars,
    }
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values.items()}


METRIC_LABELS = {
    "chord_accuracy_root": "Chord accuracy (root)",
    "chord_accuracy_root_quality": "Chord accuracy (root + quality)",
    "chord_tone_ratio": "Chord-tone ratio",
    "chord_tone_ratio_tension_aware": "Chord-tone ratio (tension-aware)",
    "pitch_class_entropy": "Pitch-class entropy (bits)",
    "pitch_class_entropy_1bar": "Pitch-class entropy, 1-bar windows",
    "pitch_class_entropy_4bar": "Pitch-class entropy, 4-bar windows",
    "grooving_similarity": "Grooving similarity",
    "notes_per_bar": "Notes per bar",
    "notes_per_s": "Notes per second",
    "polyphony": "Polyphony (notes at once)",
    "empty_beat_rate": "Empty-beat rate",
    "bass_on_change": "Root or slash bass at chord changes",
    "guide_tones": "3rd and 7th sound during the chord",
    "silent_bars": "Silent bars",
    "max_notes_per_onset": "Most notes struck together",
    "doubled_keys": "Keys struck twice at one onset",
    "notes": "Notes",
    "bars": "Bars",
}
