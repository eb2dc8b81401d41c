"""Tiny Slakh2100-shaped folders: TrackNNNNN/{mix.flac, stems/Snn.flac, MIDI/Snn.mid, metadata.yaml}.

Each stem is one instrument of a multi-track MIDI rendered alone by the studio's FluidSynth renderer;
the mix is the sum of the stems, as in Slakh. Songs come from MIDI written here (``band_song``, so
CI needs nothing else) or from the shared corpus (``corpus_song``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import soundfile
import yaml

from pipelines.music.render import synthesize
from pipelines.transcribe.notes import inst_class_of_program

RATE_HZ = 22_050


def band_song(seed: int, seconds: float = 3.0) -> pretty_midi.PrettyMIDI:
    """Piano chords, a bass line, drums and (odd seeds) a guitar riff; tempo and keys vary by seed."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=int(rng.choice([0, 4])), name="piano")
    bass = pretty_midi.Instrument(program=int(rng.choice([33, 34])), name="bass")
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    guitar = pretty_midi.Instrument(program=25, name="guitar")
    beat_s = float(rng.choice([0.4, 0.5, 0.6]))
    t, i = 0.0, 0
    while t + beat_s <= seconds:
        root = int(rng.choice([57, 60, 62, 64, 65, 67]))
        for pitch in (root, root + 4, root + 7):
            piano.notes.append(pretty_midi.Note(80, pitch, t, t + beat_s * 0.9))
        bass.notes.append(pretty_midi.Note(95, root - 24, t, t + beat_s * 0.8))
        drums.notes.append(pretty_midi.Note(100, 36 if i % 2 == 0 else 38, t, t + 0.1))
        if seed % 2:
            guitar.notes.append(pretty_midi.Note(90, root + 12, t + beat_s / 2, t + beat_s * 0.95))
        t, i = t + beat_s, i + 1
    pm.instruments += [piano, bass, drums] + ([guitar] if seed % 2 else [])
    return pm


def corpus_song(path: Path, start_s: float, seconds: float) -> pretty_midi.PrettyMIDI:
    """``seconds`` of a corpus MIDI from ``start_s``, shifted to start at 0 (notes cut at the end)."""
    source = pretty_midi.PrettyMIDI(str(path))
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for inst in source.instruments:
        notes = [pretty_midi.Note(n.velocity, n.pitch, n.start - start_s,
                                  min(n.end, start_s + seconds) - start_s)
                 for n in inst.notes if start_s <= n.start < start_s + seconds - 0.1]
        if notes:
            part = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
            part.notes = notes
            pm.instruments.append(part)
    return pm


def write_track(folder: Path, pm: pretty_midi.PrettyMIDI) -> Path:
    """One Slakh track folder from a multi-track MIDI: a stem and a MIDI per instrument, the mix."""
    (folder / "stems").mkdir(parents=True, exist_ok=True)
    (folder / "MIDI").mkdir(exist_ok=True)
    stems, meta = {}, {}
    for i, inst in enumerate(pm.instruments):
        stem_id = f"S{i:02d}"
        part = pretty_midi.PrettyMIDI(initial_tempo=120)
        part.instruments.append(inst)
        part.write(str(folder / "MIDI" / f"{stem_id}.mid"))
        stems[stem_id] = synthesize(part, RATE_HZ)
        program = 128 if inst.is_drum else int(inst.program)
        meta[stem_id] = {"audio_rendered": True, "midi_saved": True, "is_drum": bool(inst.is_drum),
                         "program_num": program, "inst_class": inst_class_of_program(program),
                         "midi_program_name": inst.name}
    frames = max(len(a) for a in stems.values())
    padded = {k: np.pad(a, ((0, frames - len(a)), (0, 0))) * 0.3 for k, a in stems.items()}
    for stem_id, audio in padded.items():
        soundfile.write(str(folder / "stems" / f"{stem_id}.flac"), audio, RATE_HZ)
    soundfile.write(str(folder / "mix.flac"), np.sum(list(padded.values()), axis=0), RATE_HZ)
    (folder / "metadata.yaml").write_text(yaml.safe_dump(
        {"audio_dir": "stems", "midi_dir": "MIDI", "normalized": False, "stems": meta}))
    return folder


def slakh_split(root: Path, songs: list[pretty_midi.PrettyMIDI], first: int = 1) -> Path:
    """A split folder of ``Track{first:05d}``... one per song."""
    for i, pm in enumerate(songs):
        write_track(root / f"Track{first + i:05d}", pm)
    return root
