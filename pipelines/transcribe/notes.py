"""Note lists in seconds (what mir_eval scores) and their MIDI round trip."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

if TYPE_CHECKING:
    import pretty_midi


@dataclass
class Notes:
    """``intervals`` (n, 2) onset/offset in seconds, ``pitches`` (n,) MIDI numbers, ``velocities`` (n,)."""

    intervals: np.ndarray
    pitches: np.ndarray
    velocities: np.ndarray

    def __post_init__(self) -> None:
        self.intervals = np.asarray(self.intervals, dtype=np.float64).reshape(-1, 2)
        self.pitches = np.asarray(self.pitches, dtype=np.int64).reshape(-1)
        self.velocities = np.asarray(self.velocities, dtype=np.int64).reshape(-1)
        order = np.lexsort((self.pitches, self.intervals[:, 0])) if len(self.pitches) else []
        self.intervals, self.pitches = self.intervals[order], self.pitches[order]
        self.velocities = self.velocities[order]

    def __len__(self) -> int:
        return len(self.pitches)

    @classmethod
    def empty(cls) -> "Notes":
        return cls(np.zeros((0, 2)), np.zeros(0), np.zeros(0))

    @classmethod
    def from_tuples(cls, rows: Iterable[tuple[float, float, int, int]]) -> "Notes":
        """From (start_s, end_s, pitch, velocity) rows."""
        rows = list(rows)
        if not rows:
            return cls.empty()
        data = np.asarray(rows, dtype=np.float64)
        return cls(data[:, :2], data[:, 2].round(), data[:, 3].round())

    @property
    def end_s(self) -> float:
        return float(self.intervals[:, 1].max()) if len(self) else 0.0

    @property
    def pitches_hz(self) -> np.ndarray:
        return 440.0 * 2.0 ** ((self.pitches - 69) / 12.0)

    def select(self, mask: np.ndarray) -> "Notes":
        return Notes(self.intervals[mask], self.pitches[mask], self.velocities[mask])

    def before(self, end_s: float) -> "Notes":
        """Notes that start before ``end_s``, cut off there."""
        kept = self.select(self.intervals[:, 0] < end_s)
        kept.intervals[:, 1] = np.minimum(kept.intervals[:, 1], end_s)
        return kept

    def to_instrument(self, program: int = 0, name: str = "") -> "pretty_midi.Instrument":
        import pretty_midi

        inst = pretty_midi.Instrument(program=program, name=name)
        for (start, end), pitch, velocity in zip(self.intervals, self.pitches, self.velocities):
            inst.notes.append(pretty_midi.Note(velocity=int(np.clip(velocity, 1, 127)),
                                               pitch=int(pitch), start=float(start),
                                               end=float(max(end, start + 0.01))))
        return inst

    def write_midi(self, path: str | Path, program: int = 0, name: str = "") -> Path:
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
        pm.instruments.append(self.to_instrument(program, name))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(path))
        return path


def concat(parts: Iterable[Notes]) -> Notes:
    parts = [p for p in parts if len(p)]
    if not parts:
        return Notes.empty()
    return Notes(np.concatenate([p.intervals for p in parts]), np.concatenate([p.pitches for p in parts]),
                 np.concatenate([p.velocities for p in parts]))


def notes_of_instruments(instruments: Iterable["pretty_midi.Instrument"]) -> Notes:
    """Every note of ``instruments`` (drums included if they are passed)."""
    rows = [(n.start, n.end, n.pitch, n.velocity) for inst in instruments for n in inst.notes
            if n.end > n.start]
    return Notes.from_tuples(rows)


def merge_duplicates(notes: Notes, window_s: float) -> tuple[Notes, int]:
    """Merge notes of one pitch whose onsets lie within ``window_s`` of the kept one.

    The kept note takes the longest offset. Returns (merged notes, how many were merged away).
    """
    if len(notes) < 2:
        return notes, 0
    keep = np.ones(len(notes), dtype=bool)
    intervals = notes.intervals.copy()
    last_by_pitch: dict[int, int] = {}
    for i in range(len(notes)):  # notes are sorted by onset
        pitch = int(notes.pitches[i])
        j = last_by_pitch.get(pitch)
        if j is not None and intervals[i, 0] - intervals[j, 0] <= window_s:
            intervals[j, 1] = max(intervals[j, 1], intervals[i, 1])
            keep[i] = False
            continue
        last_by_pitch[pitch] = i
    merged = Notes(intervals[keep], notes.pitches[keep], notes.velocities[keep])
    return merged, int((~keep).sum())
