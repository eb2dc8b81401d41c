"""Audio in and out with soundfile (no torchaudio): decode, check, resample, write, hash."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np

from ..common.errors import StudioError, reason

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
MIDI_SUFFIXES = (".mid", ".midi")
SILENCE_PEAK = 10 ** (-60 / 20)  # -60 dBFS: quieter than this is treated as silence
MIN_DURATION_S = 0.5
LOW_SAMPLE_RATE_HZ = 16_000


@dataclass
class Audio:
    """Float32 samples, shape (frames, channels), with their rate and notes about the source."""

    samples: np.ndarray
    sample_rate_hz: int
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz

    @property
    def mono(self) -> np.ndarray:
        """Shape (frames,): the mean of the channels."""
        return self.samples.mean(axis=1).astype(np.float32)


def read_audio(path: str | Path, max_duration_s: float, excerpt_s: float | None = None) -> Audio:
    """Decode ``path`` (wav, flac, mp3, ogg; any rate; mono or stereo), checked and trimmed.

    Raises StudioError for unreadable files, silence, clips shorter than 0.5 s and inputs longer
    than ``max_duration_s`` (unless ``excerpt_s`` keeps only their start).
    """
    import soundfile

    path = Path(path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise StudioError(f"{path.name} is not an audio file the A/B reads; allowed: "
                          f"{', '.join(AUDIO_SUFFIXES)} (or a .mid for oracle stems)")
    try:
        info = soundfile.info(str(path))
        keep_s = min(info.duration, excerpt_s) if excerpt_s else info.duration
        if keep_s > max_duration_s:
            raise StudioError(
                f"{path.name} lasts {info.duration / 60:.1f} min; the A/B takes at most "
                f"{max_duration_s / 60:.0f} min: set excerpt_s (e.g. 60) to use only its start")
        frames = int(round(keep_s * info.samplerate))
        samples, rate = soundfile.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except StudioError:
        raise
    except Exception as exc:  # libsndfile raises RuntimeError/LibsndfileError on bad headers
        raise StudioError(f"{path.name} is not readable audio: its header or data is damaged "
                          f"({reason(exc)})") from None
    return checked_audio(Audio(samples[:, :2], int(rate)), path.name)


def checked_audio(audio: Audio, name: str) -> Audio:
    """Refuse silence, empty and too-short clips; note a low sample rate (no exception)."""
    if audio.samples.size == 0 or audio.duration_s < MIN_DURATION_S:
        raise StudioError(f"{name} holds {audio.duration_s:.2f} s of audio; the A/B needs at least "
                          f"{MIN_DURATION_S} s")
    if not np.all(np.isfinite(audio.samples)):
        raise StudioError(f"{name} contains NaN or infinite samples; re-export it as 16-bit PCM")
    peak = float(np.max(np.abs(audio.samples)))
    if peak < SILENCE_PEAK:
        raise StudioError(f"{name} is silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dBFS); "
                          "there is nothing to transcribe")
    if audio.sample_rate_hz < LOW_SAMPLE_RATE_HZ:
        audio.notes.append(f"{name} is sampled at {audio.sample_rate_hz} Hz: nothing above "
                           f"{audio.sample_rate_hz // 2} Hz survives, expect lower scores")
    return audio


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase resampling along axis 0 (scipy), float32 out."""
    if from_hz == to_hz:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    divisor = gcd(int(from_hz), int(to_hz))
    out = resample_poly(samples, to_hz // divisor, from_hz // divisor, axis=0)
    return out.astype(np.float32)


def to_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    """(frames, c) -> (frames, channels): mono is duplicated, extra channels are averaged."""
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.shape[1] == channels:
        return samples
    mono = samples.mean(axis=1, keepdims=True)
    return np.repeat(mono, channels, axis=1).astype(np.float32)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate_hz: int,
              subtype: str = "PCM_16") -> Path:
    """Write a WAV (16-bit for players; ``FLOAT`` where exact samples matter, e.g. the stem cache)."""
    import soundfile

    from ..music.render import write_pcm16

    if subtype == "PCM_16":
        return write_pcm16(path, samples, sample_rate_hz)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.clip(samples, -1.0, 1.0) if subtype.startswith("PCM") else samples
    soundfile.write(str(path), data, int(sample_rate_hz), subtype=subtype)
    return path


def audio_hash(samples: np.ndarray, sample_rate_hz: int) -> str:
    """A short sha256 of the samples and their rate (the stem cache's key)."""
    digest = hashlib.sha256()
    digest.update(str(sample_rate_hz).encode())
    digest.update(np.ascontiguousarray(samples, dtype=np.float32).tobytes())
    return digest.hexdigest()[:20]
