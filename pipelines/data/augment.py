"""Training-set augmentation: transposition inside the piano, tempo change, velocity jitter.

Each augmented copy is a new Piece (or symusic Score, for MidiTok with programs); the original is
never changed. Transpositions that would push a note outside 21-108 are not made; chords of the
chart move with the notes.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Iterator

from ..common.errors import StudioError
from ..music.chords import TOKEN_ROOTS, parse_chord
from ..music.piece import ChordEvent, Note, Piece
from .vocab import PITCH_HIGH, PITCH_LOW


@dataclass
class AugmentConfig:
    """Augmented copies made of every train file (valid and test are never augmented)."""

    transpose: int = 0            # copies at every shift in -k..k semitones (0 = none)
    tempo_pct: float = 0.0        # two copies at tempo -N% and +N% (0 = none)
    velocity_jitter: int = 0      # every augmented copy: each velocity moved by up to ±j
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.transpose <= 12:
            raise StudioError(f"transpose must be 0-12 semitones (got {self.transpose})")
        if not 0 <= self.tempo_pct <= 50:
            raise StudioError(f"tempo_pct must be 0-50 % (got {self.tempo_pct})")
        if not 0 <= self.velocity_jitter <= 40:
            raise StudioError(f"velocity_jitter must be 0-40 (got {self.velocity_jitter})")

    @property
    def enabled(self) -> bool:
        return bool(self.transpose or self.tempo_pct or self.velocity_jitter)


def allowed_shifts(pitches: list[int], k: int) -> list[int]:
    """Every shift in -k..k (not 0) that keeps all ``pitches`` inside the piano."""
    if not pitches or k <= 0:
        return []
    low, high = min(pitches), max(pitches)
    return [s for s in range(-k, k + 1) if s and low + s >= PITCH_LOW and high + s <= PITCH_HIGH]


def transpose_chord(chord, shift: int):
    if chord.is_no_chord:
        return chord
    bass = f"/{TOKEN_ROOTS[(chord.bass + shift) % 12]}" if chord.bass is not None else ""
    return parse_chord(f"{TOKEN_ROOTS[(chord.root + shift) % 12]}{chord.quality}{bass}")


def transpose(piece: Piece, shift: int) -> Piece:
    notes = [Note(n.start, n.pitch + shift, n.duration, n.velocity) for n in piece.notes]
    if any(not PITCH_LOW <= n.pitch <= PITCH_HIGH for n in notes):
        raise StudioError(f"a shift of {shift} moves notes outside the piano (21-108)")
    chords = [ChordEvent(c.start, c.duration, transpose_chord(c.chord, shift)) for c in piece.chords]
    return replace(piece, notes=notes, chords=chords)


def scale_tempo(piece: Piece, factor: float) -> Piece:
    return replace(piece, tempo_bpm=round(piece.tempo_bpm * factor, 3))


def jitter_velocity(piece: Piece, amount: int, rng: random.Random) -> Piece:
    if amount <= 0:
        return piece
    notes = [Note(n.start, n.pitch, n.duration, min(127, max(1, n.velocity + rng.randint(-amount, amount))))
             for n in piece.notes]
    return replace(piece, notes=notes)


def augmented_pieces(piece: Piece, cfg: AugmentConfig, key: str) -> Iterator[tuple[str, Piece]]:
    """(name, copy) for each augmented copy of ``piece``; ``key`` (the file hash) seeds the jitter."""
    rng = random.Random(f"{cfg.seed}:{key}")
    copies: list[tuple[str, Piece]] = []
    for shift in allowed_shifts([n.pitch for n in piece.notes], cfg.transpose):
        copies.append((f"transpose{shift:+d}", transpose(piece, shift)))
    if cfg.tempo_pct:
        for sign in (-1, 1):
            copies.append((f"tempo{sign * cfg.tempo_pct:+g}%", scale_tempo(piece, 1 + sign * cfg.tempo_pct / 100)))
    if cfg.velocity_jitter and not copies:
        copies.append(("velocity", piece))
    for name, copy in copies:
        yield name, jitter_velocity(copy, cfg.velocity_jitter, rng)


def augmented_scores(score, cfg: AugmentConfig, key: str) -> Iterator[tuple[str, object]]:
    """The same copies for a multi-track symusic Score (MidiTok with programs)."""
    import zlib

    import numpy as np
    import symusic

    rng = np.random.default_rng(zlib.crc32(f"{cfg.seed}:{key}".encode()))
    pitches = [int(n.pitch) for t in score.tracks for n in t.notes]
    copies = [(f"transpose{s:+d}", score.shift_pitch(s)) for s in allowed_shifts(pitches, cfg.transpose)]
    if cfg.tempo_pct:
        for sign in (-1, 1):
            copy = score.copy()
            for tempo in copy.tempos:
                tempo.qpm = tempo.qpm * (1 + sign * cfg.tempo_pct / 100)
            copies.append((f"tempo{sign * cfg.tempo_pct:+g}%", copy))
    if cfg.velocity_jitter and not copies:
        copies.append(("velocity", score.copy()))
    for name, copy in copies:
        if cfg.velocity_jitter:
            for track in copy.tracks:
                arrays = track.notes.numpy()
                if len(arrays["velocity"]):
                    noise = rng.integers(-cfg.velocity_jitter, cfg.velocity_jitter + 1, len(arrays["velocity"]))
                    velocity = np.clip(arrays["velocity"].astype(int) + noise, 1, 127).astype(np.int8)
                    track.notes = symusic.Note.from_numpy(arrays["time"], arrays["duration"], arrays["pitch"],
                                                          velocity, copy.ttype)
        yield name, copy
