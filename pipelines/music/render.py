"""Audio rendering: MIDI -> stereo float audio with FluidSynth (pyfluidsynth), loudness-normalised.

Every clip the studio plays goes through ``render_wav`` with the same soundfont, sample rate and
loudness target, so that any two clips (a listening test's A and B) compare fairly.
Loudness is ITU-R BS.1770-4 integrated loudness (:mod:`.loudness`), target -20 LUFS, peak kept ≤ -1 dBFS.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from ..common.errors import StudioError
from ..common.paths import assets_dir
from .loudness import KWeighting, SquareSums, block_loudness, gated_loudness

if TYPE_CHECKING:
    import pretty_midi

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 44_100
TARGET_LUFS = -20.0
PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS
SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",          # Debian/Ubuntu fluid-soundfont-gm
    "/usr/share/soundfonts/FluidR3_GM.sf2",          # Arch, Fedora
    "/opt/homebrew/share/soundfonts/FluidR3_GM.sf2",  # Homebrew (when installed by hand)
    "/usr/share/sounds/sf2/default-GM.sf2",
)
MidiLike = Union[str, os.PathLike, "pretty_midi.PrettyMIDI"]


@dataclass(frozen=True)
class RenderResult:
    """What ``render_wav`` wrote: where, how long, how loud."""

    path: Path
    duration_s: float
    sample_rate_hz: int
    loudness_lufs: float
    peak_dbfs: float
    soundfont: Path


def find_soundfont(preferred: str | os.PathLike | None = None) -> Path:
    """The soundfont to use: ``preferred``, ``$STUDIO_SOUNDFONT``, ``assets/*.sf2``, a system GM set,
    then the small TimGM6mb that ships inside pretty_midi."""
    candidates: list[Path] = []
    for value in (preferred, os.environ.get("STUDIO_SOUNDFONT")):
        if value:
            path = Path(value)
            if not path.is_file():
                raise StudioError(f"soundfont {path} does not exist; give the path of a .sf2 file")
            return path
    candidates += sorted(assets_dir().glob("*.sf2"))
    candidates += [Path(p) for p in SYSTEM_SOUNDFONTS]
    try:
        import pretty_midi

        candidates.append(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2")
    except ImportError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise StudioError("no General MIDI soundfont found; install one (Debian: apt-get install "
                      "fluid-soundfont-gm) or set STUDIO_SOUNDFONT to a .sf2 file")


class _SoundfontCache:
    """Keeps each soundfont loaded in one idle synth, so FluidSynth's sample cache holds its data and
    every render can use a fresh, deterministic synth that loads it in ~0.05 s instead of ~0.3 s."""

    def __init__(self) -> None:
        self._holders: dict[str, object] = {}
        self.lock = threading.Lock()

    def new_synth(self, soundfont: Path, sample_rate_hz: int) -> tuple[object, int]:
        try:
            import fluidsynth
        except (ImportError, OSError) as exc:
            raise StudioError(
                "FluidSynth is not installed: on Debian/Ubuntu run 'apt-get install fluidsynth "
                "libfluidsynth3', on macOS 'brew install fluid-synth', then pip install "
                f"pyfluidsynth ({exc})") from None
        with self.lock:
            if str(soundfont) not in self._holders:
                holder = fluidsynth.Synth(samplerate=float(sample_rate_hz))
                if holder.sfload(str(soundfont)) < 0:
                    raise StudioError(f"FluidSynth could not load the soundfont {soundfont}")
                self._holders[str(soundfont)] = holder
        synth = fluidsynth.Synth(samplerate=float(sample_rate_hz), gain=0.3)
        synth.setting("synth.chorus.active", 0)
        return synth, synth.sfload(str(soundfont))


_CACHE = _SoundfontCache()


def _load_midi(midi: MidiLike) -> "pretty_midi.PrettyMIDI":
    import pretty_midi

    from .midi_reader import load_pretty_midi

    return midi if isinstance(midi, pretty_midi.PrettyMIDI) else load_pretty_midi(midi)


def _events(pm: "pretty_midi.PrettyMIDI", sample_rate_hz: int) -> list[tuple[int, int, tuple]]:
    """Every note on/off and control change as (frame, order, message); offs sort before ons."""
    events: list[tuple[int, int, tuple]] = []
    melodic_channels = [c for c in range(16) if c != 9]
    for index, inst in enumerate(pm.instruments):
        channel = 9 if inst.is_drum else melodic_channels[index % len(melodic_channels)]
        bank = 128 if inst.is_drum else 0
        events.append((0, 0, ("program", channel, bank, inst.program)))
        for note in inst.notes:
            events.append((int(note.start * sample_rate_hz), 2, ("on", channel, note.pitch, note.velocity)))
            events.append((int(note.end * sample_rate_hz), 1, ("off", channel, note.pitch)))
        for cc in inst.control_changes:
            events.append((int(cc.time * sample_rate_hz), 1, ("cc", channel, cc.number, cc.value)))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


class StreamingRender:
    """Synthesis that runs ahead while the notes are still being written.

    ``advance(pm, until_s)`` renders every event before ``until_s``: the caller promises that later
    versions of ``pm`` keep those events (a model writing bar after bar keeps the bars it finished).
    ``audio(pm)`` renders the rest of the final ``pm``. The samples equal a one-shot render of the
    final ``pm`` (the same synth settings and event frames); if a later ``pm`` did change an event
    already rendered, ``audio`` notices and renders from the start.
    """

    def __init__(self, sample_rate_hz: int = SAMPLE_RATE_HZ, soundfont: str | os.PathLike | None = None) -> None:
        self.sample_rate_hz, self.soundfont = sample_rate_hz, find_soundfont(soundfont)
        self._synth: tuple[object, int] | None = None
        self._applied: list[tuple[int, int, tuple]] = []
        self._chunks: list[np.ndarray] = []
        self._weighting = KWeighting(sample_rate_hz, 2)
        self._energy = SquareSums(2)              # the loudness meter, fed each chunk K-weighted
        self._frame = 0
        self.diverged = False
        self.blocks = np.zeros(0)                 # BS.1770 block loudness of the finished audio

    def advance(self, midi: MidiLike, until_s: float) -> None:
        """Render ``midi``'s events up to ``until_s`` seconds (those before it must be final)."""
        if not self.diverged:
            self._render(_events(_load_midi(midi), self.sample_rate_hz), int(until_s * self.sample_rate_hz))

    def audio(self, midi: MidiLike, tail_s: float = 1.5) -> np.ndarray:
        """The whole render, shape (frames, 2), float32 in [-1, 1], not normalised."""
        pm = _load_midi(midi)
        events = _events(pm, self.sample_rate_hz)
        if self.diverged or events[:len(self._applied)] != self._applied:
            log.info("notes already rendered changed; rendering from the start")
            self.close()
            self._applied, self._chunks, self._frame, self.diverged = [], [], 0, False
            self._weighting, self._energy = KWeighting(self.sample_rate_hz, 2), SquareSums(2)
        try:
            self._render(events, int((pm.get_end_time() + tail_s) * self.sample_rate_hz))
        finally:
            self.close()
        if not self._chunks:
            return np.zeros((0, 2), dtype=np.float32)
        self.blocks = self._energy.block_loudness(self.sample_rate_hz)
        return np.concatenate(self._chunks).astype(np.float32) / 32768.0

    def __del__(self) -> None:   # a take abandoned half-rendered frees its synth too
        self.close()

    def close(self) -> None:
        if getattr(self, "_synth", None) is not None:   # (not there when __init__ failed)
            self._synth[0].delete()
            self._synth = None

    def _render(self, events: list[tuple[int, int, tuple]], until: int) -> None:
        if events[:len(self._applied)] != self._applied:
            self.diverged = True
            return
        if self._synth is None:
            self._synth = _CACHE.new_synth(self.soundfont, self.sample_rate_hz)
        synth, sfid = self._synth
        for event in events[len(self._applied):]:
            at, _, message = event
            if at >= until:
                break
            if at > self._frame:
                self._synthesise(synth, at)
            kind, channel = message[0], message[1]
            if kind == "program":
                synth.program_select(channel, sfid, message[2], message[3])
            elif kind == "on":
                synth.noteon(channel, message[2], message[3])
            elif kind == "off":
                synth.noteoff(channel, message[2])
            else:
                synth.cc(channel, message[2], message[3])
            self._applied.append(event)
        if until > self._frame:
            self._synthesise(synth, until)

    def _synthesise(self, synth, until: int) -> None:
        chunk = np.asarray(synth.get_samples(until - self._frame), dtype=np.int16).reshape(-1, 2)
        self._chunks.append(chunk)
        self._energy.add(self._weighting(chunk / 32768.0))
        self._frame = until


def synthesize(midi: MidiLike, sample_rate_hz: int = SAMPLE_RATE_HZ,
               soundfont: str | os.PathLike | None = None, tail_s: float = 1.5) -> np.ndarray:
    """Render MIDI to raw stereo audio, shape (frames, 2), float32 in [-1, 1], not normalised.

    One gain for every call, so renders of separate instruments sum to the render of all of them
    (up to FluidSynth's reverb, which is shared by the channels).
    """
    return StreamingRender(sample_rate_hz, soundfont).audio(midi, tail_s)


def write_pcm16(path: str | os.PathLike, audio: np.ndarray, sample_rate_hz: int) -> Path:
    """A 16-bit WAV of float ``audio`` (clipped to [-1, 1)), the samples libsndfile itself would write
    (floor of x * 32768); converting here is several times faster than letting it convert."""
    import soundfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scaled = np.floor(np.asarray(audio, dtype=np.float32) * np.float32(32768.0))
    soundfile.write(str(path), np.clip(scaled, -32768, 32767).astype(np.int16), int(sample_rate_hz),
                    subtype="PCM_16")
    return path


def _normalize(audio: np.ndarray, sample_rate_hz: int, target_lufs: float | None,
               blocks: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """(audio scaled to ``target_lufs`` or to a -1 dBFS peak, whichever is quieter; its loudness).
    ``blocks``: the audio's BS.1770 block loudness when already measured."""
    if blocks is None:
        blocks = block_loudness(KWeighting(sample_rate_hz, audio.shape[1])(audio), sample_rate_hz) if audio.size \
            else np.zeros(0)
    lufs = gated_loudness(blocks)
    if target_lufs is None or not np.isfinite(lufs):
        return audio, lufs
    gain = 10 ** ((target_lufs - lufs) / 20)
    peak = float(np.max(np.abs(audio))) * gain
    if peak > PEAK_CEILING:
        log.info("loudness target would clip (peak %.2f); limited to -1 dBFS", peak)
        gain *= PEAK_CEILING / peak
    return (audio * gain).astype(np.float32), gated_loudness(blocks, 20 * np.log10(gain))


def render_wav(midi: MidiLike, wav_path: str | os.PathLike, sample_rate_hz: int = SAMPLE_RATE_HZ,
               soundfont: str | os.PathLike | None = None,
               target_lufs: float | None = TARGET_LUFS, stream: StreamingRender | None = None) -> RenderResult:
    """Render ``midi`` to a 16-bit WAV at ``wav_path``, loudness-normalised unless target is None.
    ``stream``: a StreamingRender (same rate and soundfont) that has already rendered the start."""
    stream = stream or StreamingRender(sample_rate_hz, soundfont)
    audio = stream.audio(midi)
    audio, lufs = _normalize(audio, sample_rate_hz, target_lufs, stream.blocks)
    wav_path = write_pcm16(wav_path, audio, sample_rate_hz)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return RenderResult(
        path=wav_path,
        duration_s=len(audio) / sample_rate_hz,
        sample_rate_hz=sample_rate_hz,
        loudness_lufs=lufs,
        peak_dbfs=20 * np.log10(peak) if peak > 0 else float("-inf"),
        soundfont=find_soundfont(soundfont),
    )
