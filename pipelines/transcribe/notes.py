"""Note lists in seconds (what mir_eval scores) and their MIDI round trip.

Notes may carry an instrument label per note: the General MIDI ``program`` (0-127, ``DRUM_PROGRAM``
for drums, ``UNKNOWN_PROGRAM`` when not known) and Slakh2100's ``inst_class`` ("Bass", "Piano",
"Guitar", ...; the classes of ``SLAKH_INST_CLASSES``, "" when not known). A list with
``programs is None`` is unlabelled (basic-pitch); the mix side is scored per instrument class only
when its transcriber labels notes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

if TYPE_CHECKING:
    import pretty_midi


DRUM_PROGRAM = 128    # Slakh's program number for a drum kit (is_drum)
UNKNOWN_PROGRAM = -1  # a labelled list's note whose program is not known (its class may be)

# Slakh2100's inst_class of each General MIDI program (slakh-utils midi_inst_values): the GM families,
# with 48-55 "Strings (continued)", 96-103 "Sound Effects", 119-127 "Sound effects", drums "Drums".
_FAMILIES = ("Piano", "Chromatic Percussion", "Organ", "Guitar", "Bass", "Strings",
             "Strings (continued)", "Brass", "Reed", "Pipe", "Synth Lead", "Synth Pad",
             "Sound Effects", "Ethnic", "Percussive")
SLAKH_INST_CLASSES: tuple[str, ...] = _FAMILIES + ("Sound effects", "Drums")


def inst_class_of_program(program: int, is_drum: bool = False) -> str:
    """Slakh's inst_class of a General MIDI program (0-127), "Drums" for a drum kit, "" if unknown."""
    program = int(program)
    if is_drum or program == DRUM_PROGRAM:
        return "Drums"
    if not 0 <= program <= 127:
        return ""
    if 119 <= program <= 127:
        return "Sound effects"
    return _FAMILIES[program // 8]


@dataclass
class Notes:
    """``intervals`` (n, 2) onset/offset in seconds, ``pitches`` (n,) MIDI numbers, ``velocities`` (n,).

    Optional labels: ``programs`` (n,) General MIDI programs (``DRUM_PROGRAM`` drums,
    ``UNKNOWN_PROGRAM`` unknown) and ``inst_classes`` (n,) Slakh class names ("" unknown). Give
    either; the classes are derived from the programs when only those are given. Both None: an
    unlabelled list.
    """

    intervals: np.ndarray
    pitches: np.ndarray
    velocities: np.ndarray
    programs: np.ndarray | None = None
    inst_classes: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.intervals = np.asarray(self.intervals, dtype=np.float64).reshape(-1, 2)
        self.pitches = np.asarray(self.pitches, dtype=np.int64).reshape(-1)
        self.velocities = np.asarray(self.velocities, dtype=np.int64).reshape(-1)
        n = len(self.pitches)
        if self.programs is not None or self.inst_classes is not None:
            programs = (np.full(n, UNKNOWN_PROGRAM) if self.programs is None
                        else np.asarray(self.programs, dtype=np.int64).reshape(-1))
            if self.inst_classes is None:
                classes = np.array([inst_class_of_program(p) for p in programs], dtype=object)
            else:
                classes = np.asarray(self.inst_classes, dtype=object).reshape(-1)
            if len(programs) != n or len(classes) != n:
                raise ValueError(f"{n} notes but {len(programs)} programs and {len(classes)} classes")
            self.programs, self.inst_classes = programs, classes
        order = np.lexsort((self.pitches, self.intervals[:, 0])) if n else np.zeros(0, dtype=np.int64)
        self.intervals, self.pitches = self.intervals[order], self.pitches[order]
        self.velocities = self.velocities[order]
        if self.programs is not None:
            self.programs, self.inst_classes = self.programs[order], self.inst_classes[order]

    @property
    def labelled(self) -> bool:
        """Whether the notes carry instrument labels (program and/or class)."""
        return self.programs is not None

    def __len__(self) -> int:
        return len(self.pitches)

    @classmethod
    def empty(cls) -> "Notes":
        return cls(np.zeros((0, 2)), np.zeros(0), np.zeros(0))

    @classmethod
    def from_tuples(cls, rows: Iterable[tuple], labelled: bool = False) -> "Notes":
        """From (start_s, end_s, pitch, velocity) rows, or with ``labelled`` (…, program, inst_class)
        rows (inst_class None: the program's class)."""
        rows = list(rows)
        if not rows:
            empty = cls.empty()
            return empty.with_labels([]) if labelled else empty
        data = np.asarray([r[:4] for r in rows], dtype=np.float64)
        if not labelled:
            return cls(data[:, :2], data[:, 2].round(), data[:, 3].round())
        programs = np.asarray([int(r[4]) for r in rows], dtype=np.int64)
        classes = np.array([r[5] if r[5] is not None else inst_class_of_program(r[4]) for r in rows],
                           dtype=object)
        return cls(data[:, :2], data[:, 2].round(), data[:, 3].round(), programs, classes)

    def with_labels(self, programs, inst_classes=None) -> "Notes":
        """The same notes (in this order) labelled with ``programs`` (and classes)."""
        return Notes(self.intervals, self.pitches, self.velocities,
                     np.asarray(programs, dtype=np.int64).reshape(-1),
                     None if inst_classes is None else np.asarray(inst_classes, dtype=object))

    def unlabelled(self) -> "Notes":
        return Notes(self.intervals, self.pitches, self.velocities)

    def of_inst_class(self, inst_class: str) -> "Notes":
        """The notes labelled ``inst_class`` (an unlabelled list has none)."""
        if self.programs is None:
            return Notes.empty()
        return self.select(self.inst_classes == inst_class)

    def by_inst_class(self) -> dict[str, "Notes"]:
        """{inst_class: its notes} for every class present ("" collects unknown labels)."""
        if self.programs is None:
            return {}
        return {str(c): self.select(self.inst_classes == c) for c in dict.fromkeys(self.inst_classes)}

    @property
    def end_s(self) -> float:
        return float(self.intervals[:, 1].max()) if len(self) else 0.0

    @property
    def pitches_hz(self) -> np.ndarray:
        return 440.0 * 2.0 ** ((self.pitches - 69) / 12.0)

    def select(self, mask: np.ndarray) -> "Notes":
        if self.programs is None:
            return Notes(self.intervals[mask], self.pitches[mask], self.velocities[mask])
        return Notes(self.intervals[mask], self.pitches[mask], self.velocities[mask],
                     self.programs[mask], self.inst_classes[mask])

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
        """One track of ``program``; labelled notes get one track per program (drums on a drum track)."""
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
        if self.programs is None:
            pm.instruments.append(self.to_instrument(program, name))
        else:
            for prog in sorted(set(self.programs.tolist())):
                part = self.select(self.programs == prog)
                label = " ".join(x for x in (name, str(part.inst_classes[0]) if len(part) else "") if x)
                inst = part.to_instrument(int(prog) if 0 <= prog <= 127 else program, label)
                inst.is_drum = prog == DRUM_PROGRAM
                pm.instruments.append(inst)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(path))
        return path


def concat(parts: Iterable[Notes]) -> Notes:
    """All notes of ``parts``; labelled when any part is (unlabelled parts' notes then unknown)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Notes.empty()
    joined = Notes(np.concatenate([p.intervals for p in parts]),
                   np.concatenate([p.pitches for p in parts]),
                   np.concatenate([p.velocities for p in parts]))
    if not any(p.labelled for p in parts):
        return joined
    programs = np.concatenate([p.programs if p.labelled else np.full(len(p), UNKNOWN_PROGRAM)
                               for p in parts])
    classes = np.concatenate([p.inst_classes if p.labelled else np.full(len(p), "", dtype=object)
                              for p in parts])
    return Notes(np.concatenate([p.intervals for p in parts]), np.concatenate([p.pitches for p in parts]),
                 np.concatenate([p.velocities for p in parts]), programs, classes)


def notes_of_instruments(instruments: Iterable["pretty_midi.Instrument"],
                         labelled: bool = True) -> Notes:
    """Every note of ``instruments`` (drums included if they are passed), labelled with each
    instrument's program and Slakh class (drums: ``DRUM_PROGRAM``, "Drums") unless ``labelled`` is off."""
    rows = [(n.start, n.end, n.pitch, n.velocity, DRUM_PROGRAM if inst.is_drum else inst.program, None)
            for inst in instruments for n in inst.notes if n.end > n.start]
    if not labelled:
        return Notes.from_tuples([r[:4] for r in rows])
    return Notes.from_tuples(rows, labelled=True)


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
    merged = Notes(intervals, notes.pitches, notes.velocities, notes.programs, notes.inst_classes)
    return merged.select(keep), int((~keep).sum())
