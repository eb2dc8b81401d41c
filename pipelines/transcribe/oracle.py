"""Oracle stems: a multi-track MIDI rendered instrument class by instrument class.

Each class (drums, bass 32-39, piano 0-7, guitar 24-31, other; vocals stay empty for MIDI) is
rendered by FluidSynth with one fixed gain; the mix is the sum of the stems, so they sum to it
exactly, and one common gain brings the mix to the loudness target.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..common.errors import StudioError
from .notes import Notes, notes_of_instruments

if TYPE_CHECKING:
    import pretty_midi

log = logging.getLogger(__name__)

TARGET_LUFS = -20.0
PEAK_CEILING = 10 ** (-1.0 / 20)


def stem_class(program: int, is_drum: bool, classes: tuple[str, ...]) -> str:
    """The separator class of a General MIDI instrument (piano/guitar fold into other on 4 stems)."""
    if is_drum:
        return "drums"
    if 32 <= program <= 39:
        return "bass"
    if 0 <= program <= 7 and "piano" in classes:
        return "piano"
    if 24 <= program <= 31 and "guitar" in classes:
        return "guitar"
    return "other"


def read_multitrack(path: str | Path) -> "pretty_midi.PrettyMIDI":
    """Read a MIDI file; refuse unreadable files, files without notes and drums-only files."""
    from ..music.midi_reader import load_pretty_midi

    pm = load_pretty_midi(path)
    check_pitched(pm, Path(path).name)
    return pm


def check_pitched(pm: "pretty_midi.PrettyMIDI", name: str) -> None:
    """Refuse a MIDI with no notes, or with drum notes only (nothing pitched to score)."""
    pitched = sum(len(i.notes) for i in pm.instruments if not i.is_drum)
    drums = sum(len(i.notes) for i in pm.instruments if i.is_drum)
    if pitched == 0 and drums == 0:
        raise StudioError(f"{name} holds no notes")
    if pitched == 0:
        raise StudioError(f"{name} has only drum tracks ({drums} notes); pitched transcription "
                          "scores need at least one non-drum instrument")


def excerpt(pm: "pretty_midi.PrettyMIDI", end_s: float | None) -> "pretty_midi.PrettyMIDI":
    """A new MIDI with the notes that start before ``end_s`` (cut there) and the controls before it.

    Built instrument by instrument (a deepcopy of a whole song costs more than rendering it).
    """
    import pretty_midi

    if end_s is None or end_s >= pm.get_end_time():
        return pm
    out = pretty_midi.PrettyMIDI(resolution=pm.resolution, initial_tempo=120.0)
    for inst in pm.instruments:
        notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, min(n.end, end_s))
                 for n in inst.notes if n.start < end_s]
        if not notes:
            continue
        part = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
        part.notes = notes
        part.control_changes = [c for c in inst.control_changes if c.time < end_s]
        part.pitch_bends = [b for b in inst.pitch_bends if b.time < end_s]
        out.instruments.append(part)
    return out


def references_by_class(pm: "pretty_midi.PrettyMIDI", classes: tuple[str, ...]) -> dict[str, Notes]:
    """The reference notes of each class (every class present, empty where no instrument plays)."""
    groups = group_instruments(pm, classes)
    return {name: notes_of_instruments(groups.get(name, [])) for name in classes}


def group_instruments(pm: "pretty_midi.PrettyMIDI", classes: tuple[str, ...]) -> dict[str, list]:
    groups: dict[str, list] = {}
    for inst in pm.instruments:
        if inst.notes:
            groups.setdefault(stem_class(inst.program, inst.is_drum, classes), []).append(inst)
    return groups


@dataclass
class OracleStems:
    """The rendered mix, its stems (each (frames, 2) float32) and each class's reference notes."""

    mix: np.ndarray
    stems: dict[str, np.ndarray]
    references: dict[str, Notes]
    sample_rate_hz: int
    gain_db: float


def render_oracle(pm: "pretty_midi.PrettyMIDI", classes: tuple[str, ...], sample_rate_hz: int,
                  soundfont: str | None = None) -> OracleStems:
    """Render each class alone, sum them into the mix, scale all by the mix's loudness gain."""
    import pretty_midi

    from ..music.loudness import loudness_lufs
    from ..music.render import synthesize

    groups = group_instruments(pm, classes)
    raw: dict[str, np.ndarray] = {}
    for name in classes:
        if name not in groups:
            continue
        part = pretty_midi.PrettyMIDI(resolution=pm.resolution, initial_tempo=120.0)
        part.instruments = list(groups[name])
        raw[name] = synthesize(part, sample_rate_hz, soundfont)
    frames = max((len(a) for a in raw.values()), default=0)
    stems = {name: np.zeros((frames, 2), dtype=np.float32) for name in classes}
    for name, audio in raw.items():
        stems[name][: len(audio)] = audio
    mix = np.sum([stems[name] for name in classes], axis=0).astype(np.float32)
    lufs = loudness_lufs(mix, sample_rate_hz)
    gain = 10 ** ((TARGET_LUFS - lufs) / 20) if np.isfinite(lufs) else 1.0
    peak = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in [mix, *stems.values()])
    if peak * gain > PEAK_CEILING:
        gain = PEAK_CEILING / peak
    stems = {name: (audio * gain).astype(np.float32) for name, audio in stems.items()}
    mix = np.sum([stems[name] for name in classes], axis=0).astype(np.float32)
    return OracleStems(mix, stems, references_by_class(pm, classes), sample_rate_hz,
                       float(20 * np.log10(gain)))
