"""Slakh2100 as it ships: ``TrackNNNNN/mix.flac``, ``stems/Snn.flac``, ``MIDI/Snn.mid``, ``metadata.yaml``.

A track's own stems are the oracle separation and its MIDI the reference. Stems are grouped into the
separator's classes (drums, bass, piano, guitar, other; ``oracle.stem_class``) by the ``program_num``
and ``is_drum`` of ``metadata.yaml``; a stem whose audio was not rendered (``audio_rendered: false``)
is in neither the mix nor the reference. Every refusal is one sentence naming the track and the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import StudioError, reason
from .audio import Audio, checked_audio
from .notes import Notes, inst_class_of_program, notes_of_instruments
from .oracle import stem_class

LENGTH_TOLERANCE_S = 1.0   # a reference MIDI may end this much after its audio (rounding, release)
SHORT_MIDI_RATIO = 0.5     # a reference ending before half the audio is another song's
MAX_TRACKS = 2100


@dataclass
class SlakhStem:
    """One stem of ``metadata.yaml``: its program, class and files (None where not shipped)."""

    stem_id: str
    program: int
    is_drum: bool
    inst_class: str
    audio: Path | None
    midi: Path | None


@dataclass
class SlakhTrack:
    name: str
    folder: Path
    mix: Path
    stems: list[SlakhStem]


@dataclass
class TrackData:
    """What the study needs of one track, cut to the excerpt: mix, oracle stems and references by class."""

    name: str
    mix: Audio
    stems: dict[str, np.ndarray]       # class -> (frames, channels) float32, zeros where absent
    references: dict[str, Notes]       # class -> labelled reference notes
    inst_classes: list[str]            # Slakh inst_class of every rendered stem with notes
    notes: list[str]


def list_tracks(folder: str | Path, max_tracks: int = MAX_TRACKS) -> list[Path]:
    """The ``Track*`` folders of a split folder (or the folder itself when it is one track), by name."""
    folder = Path(folder)
    try:
        is_dir = folder.is_dir()
    except (OSError, ValueError):  # a name the file system cannot hold (a NUL byte, too long)
        is_dir = False
    if not is_dir:
        raise StudioError(f"{folder.name} is not a folder; give a Slakh2100 split folder (e.g. "
                          "slakh2100_flac_redux/test) or one TrackNNNNN folder")
    if (folder / "metadata.yaml").is_file() or (folder / "mix.flac").is_file():
        return [folder]
    tracks = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("Track"))
    if not tracks:
        raise StudioError(f"{folder.name} holds no TrackNNNNN folders; give a Slakh2100 split folder")
    if len(tracks) > max_tracks:
        raise StudioError(f"{folder.name} holds {len(tracks)} tracks; at most {max_tracks}")
    return tracks


def _metadata(folder: Path) -> dict:
    import yaml

    path = folder / "metadata.yaml"
    if not path.is_file():
        raise StudioError(f"{folder.name}: metadata.yaml is missing; a Slakh track needs it to know "
                          "its stems' programs")
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StudioError(f"{folder.name}: metadata.yaml is not valid YAML ({reason(exc)}); "
                          "restore it from the dataset") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("stems"), dict) or not meta["stems"]:
        raise StudioError(f"{folder.name}: metadata.yaml has no 'stems' mapping; restore it from the dataset")
    return meta


def _stem(folder: Path, stem_id: str, entry: object) -> SlakhStem:
    if not isinstance(entry, dict):
        raise StudioError(f"{folder.name}: metadata.yaml's stem {stem_id} is not a mapping")
    try:
        is_drum = bool(entry.get("is_drum", False))
        program = int(entry["program_num"])
    except (KeyError, TypeError, ValueError):
        raise StudioError(f"{folder.name}: metadata.yaml's stem {stem_id} has no integer "
                          f"program_num (got {entry.get('program_num')!r})") from None
    if not 0 <= program <= 128:
        raise StudioError(f"{folder.name}: metadata.yaml's stem {stem_id} has program_num {program}; "
                          "0-127 (128 for drums)")
    inst_class = str(entry.get("inst_class") or inst_class_of_program(program, is_drum))
    audio = folder / "stems" / f"{stem_id}.flac"
    midi = folder / "MIDI" / f"{stem_id}.mid"
    if entry.get("audio_rendered", True) is False:
        return SlakhStem(stem_id, program, is_drum, inst_class, None, None)
    if not audio.is_file():
        raise StudioError(f"{folder.name}: stems/{audio.name} is missing but metadata.yaml says it "
                          "was rendered; restore the stem or re-download the track")
    if entry.get("midi_saved", True) is False or not midi.is_file():
        raise StudioError(f"{folder.name}: MIDI/{midi.name} is missing, so stem {stem_id} has no "
                          "reference; restore the MIDI or re-download the track")
    return SlakhStem(stem_id, program, is_drum, inst_class, audio, midi)


def read_track(folder: str | Path) -> SlakhTrack:
    """The files of one track, checked: metadata.yaml, mix.flac, every rendered stem and its MIDI."""
    folder = Path(folder)
    meta = _metadata(folder)
    stems = [_stem(folder, str(stem_id), entry) for stem_id, entry in sorted(meta["stems"].items())]
    mix = folder / "mix.flac"
    if not mix.is_file():
        raise StudioError(f"{folder.name}: mix.flac is missing; restore it or re-download the track")
    if not any(s.audio for s in stems):
        raise StudioError(f"{folder.name}: metadata.yaml lists no rendered stem")
    return SlakhTrack(folder.name, folder, mix, stems)


def _info(track: SlakhTrack, path: Path) -> tuple[int, int]:
    """(frames, sample rate) of a FLAC, from its header."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # libsndfile: damaged header or not audio
        raise StudioError(f"{track.name}: {path.relative_to(track.folder)} is not readable audio "
                          f"({reason(exc)})") from None
    return int(info.frames), int(info.samplerate)


def _duration_s(track: SlakhTrack, path: Path) -> float:
    frames, rate = _info(track, path)
    return frames / rate


def _read_flac(track: SlakhTrack, path: Path, frames: int) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        samples, rate = soundfile.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except Exception as exc:
        raise StudioError(f"{track.name}: {path.relative_to(track.folder)} is not readable audio "
                          f"({reason(exc)})") from None
    return samples[:, :2], int(rate)


def _reference(track: SlakhTrack, stem: SlakhStem):
    from ..music.midi_reader import load_pretty_midi

    try:
        pm = load_pretty_midi(stem.midi)  # the one MIDI reader: pretty_midi, as scoring needs its API
    except StudioError as exc:
        raise StudioError(f"{track.name}: MIDI/{exc}") from None
    for inst in pm.instruments:  # metadata.yaml is the authority on what the stem is
        inst.program, inst.is_drum = min(stem.program, 127), stem.is_drum
    return pm


def _check_lengths(track: SlakhTrack, midis: dict[str, object], mix_s: float) -> None:
    """Refuse a stem whose audio length differs from the mix, or MIDI that outlasts the audio."""
    for stem in track.stems:
        if stem.audio is None:
            continue
        stem_s = _duration_s(track, stem.audio)
        if abs(stem_s - mix_s) > LENGTH_TOLERANCE_S:
            raise StudioError(f"{track.name}: stems/{stem.audio.name} lasts {stem_s:.1f} s but mix.flac "
                              f"lasts {mix_s:.1f} s; the stems and the mix must be one rendering")
        end_s = midis[stem.stem_id].get_end_time()
        if end_s > mix_s + LENGTH_TOLERANCE_S:
            raise StudioError(f"{track.name}: MIDI/{stem.midi.name} ends at {end_s:.1f} s but the audio "
                              f"lasts {mix_s:.1f} s; the MIDI and the audio disagree")
    ends = [pm.get_end_time() for pm in midis.values()]
    if ends and max(ends) < SHORT_MIDI_RATIO * mix_s:
        raise StudioError(f"{track.name}: the MIDI files end by {max(ends):.1f} s but mix.flac lasts "
                          f"{mix_s:.1f} s; the MIDI and the audio disagree")


def load_track(track: SlakhTrack, classes: tuple[str, ...], excerpt_s: float | None,
               max_duration_s: float) -> TrackData:
    """Mix, oracle stems (summed by class) and references (by class), cut to ``excerpt_s``."""
    mix_frames, rate = _info(track, track.mix)
    mix_s = mix_frames / rate
    keep_s = min(mix_s, excerpt_s) if excerpt_s else mix_s
    if keep_s > max_duration_s:
        raise StudioError(f"{track.name}: mix.flac lasts {mix_s / 60:.1f} min; at most "
                          f"{max_duration_s / 60:.0f} min: set excerpt_s to use its start")
    midis = {s.stem_id: _reference(track, s) for s in track.stems if s.audio is not None}
    _check_lengths(track, midis, mix_s)
    mix, rate = _read_flac(track, track.mix, int(round(keep_s * rate)))
    frames = len(mix)
    stems = {name: np.zeros((frames, mix.shape[1]), dtype=np.float32) for name in classes}
    parts: dict[str, list] = {name: [] for name in classes}
    found: list[str] = []
    notes = [f"{s.stem_id} ({s.inst_class}) was not rendered: left out of the mix and the reference"
             for s in track.stems if s.audio is None]
    for stem in (s for s in track.stems if s.audio is not None):
        name = stem_class(stem.program, stem.is_drum, classes)
        audio, stem_rate = _read_flac(track, stem.audio, frames)
        if stem_rate != rate:
            raise StudioError(f"{track.name}: stems/{stem.audio.name} is sampled at {stem_rate} Hz but "
                              f"mix.flac at {rate} Hz; the stems and the mix must be one rendering")
        stems[name][: len(audio)] += audio[:frames] if audio.shape[1] == mix.shape[1] \
            else audio[:frames].mean(axis=1, keepdims=True)
        instruments = [i for i in midis[stem.stem_id].instruments if i.notes]
        parts[name] += instruments
        if instruments:
            found.append(stem.inst_class)
    references = {name: notes_of_instruments(parts[name]).before(frames / rate) for name in classes}
    data = checked_audio(Audio(mix, rate), f"{track.name}/mix.flac")
    return TrackData(track.name, data, stems, references, sorted(set(found)), notes)
