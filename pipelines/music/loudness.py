"""Integrated loudness (ITU-R BS.1770-4, as pyloudnorm measures it), measurable chunk by chunk.

BS.1770 K-weights the signal (a high shelf, then a high pass), takes the mean square of 400 ms
blocks overlapping by 75 %, and gates them (absolute -70 LUFS, then 10 LU below the mean). Here the
filters carry their state from chunk to chunk and ``SquareSums`` keeps the running energy, so a
render is weighted and metered while it is still being synthesised, and a gain needs no new pass:
it shifts every block by the same number of decibels.
``tests/test_render.py`` checks the figures against ``pyloudnorm.Meter.integrated_loudness``.
"""
from __future__ import annotations

import numpy as np

BLOCK_S, OVERLAP = 0.400, 0.75
ABSOLUTE_GATE, RELATIVE_GATE = -70.0, -10.0
CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)   # L, R, C, Ls, Rs


class KWeighting:
    """The K-weighting filters over (frames, channels) chunks; the output equals one pass over the clip."""

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        from pyloudnorm.iirfilter import IIRfilter

        stages = (IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate_hz, "high_shelf"),
                  IIRfilter(0.0, 0.5, 38.0, sample_rate_hz, "high_pass"))
        self.stages = [(stage.b, stage.a, stage.passband_gain) for stage in stages]
        self.state = [np.zeros((2, channels)) for _ in self.stages]

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        from scipy.signal import lfilter

        out = np.asarray(chunk, dtype=np.float64)
        for index, (b, a, gain) in enumerate(self.stages):
            filtered, self.state[index] = lfilter(b, a, out, axis=0, zi=self.state[index])
            out = gain * filtered
        return out


class SquareSums:
    """Running sums of squares of a K-weighted (frames, channels) signal, added chunk by chunk while it
    is made, so that the block loudness at the end costs a lookup per block bound, not a pass."""

    def __init__(self, channels: int) -> None:
        self.channels, self.frames = channels, 0
        self._sums: list[np.ndarray] = []          # per chunk: the running sum at each of its frames
        self._ends: list[int] = []                 # the frame count after each chunk
        self._total = np.zeros(channels)

    def add(self, weighted: np.ndarray) -> None:
        if not len(weighted):
            return
        running = np.cumsum(np.square(weighted), axis=0)
        running += self._total
        self._sums.append(running)
        self._total = running[-1]
        self.frames += len(weighted)
        self._ends.append(self.frames)

    def upto(self, frames: np.ndarray) -> np.ndarray:
        """(len(frames), channels): the sum of squares of the first ``frames[i]`` frames."""
        out = np.zeros((len(frames), self.channels))
        inside = frames > 0
        chunk = np.searchsorted(self._ends, frames[inside], side="left")
        starts = np.asarray([0, *self._ends[:-1]])[chunk]
        out[inside] = [self._sums[c][f - s - 1] for c, f, s in zip(chunk, frames[inside], starts)]
        return out

    def block_loudness(self, sample_rate_hz: int) -> np.ndarray:
        """The loudness of each BS.1770 gating block (pyloudnorm's block bounds)."""
        if self.frames < int(BLOCK_S * sample_rate_hz):
            return np.zeros(0)
        step = 1.0 - OVERLAP
        count = int(np.round((self.frames / sample_rate_hz - BLOCK_S) / (BLOCK_S * step))) + 1
        starts = np.arange(count) * step
        low = (BLOCK_S * starts * sample_rate_hz).astype(np.int64)
        high = np.minimum((BLOCK_S * (starts + 1) * sample_rate_hz).astype(np.int64), self.frames)
        power = (self.upto(high) - self.upto(low)) @ np.asarray(CHANNEL_GAINS[:self.channels])
        with np.errstate(divide="ignore"):
            return -0.691 + 10 * np.log10(power / (BLOCK_S * sample_rate_hz))


def block_loudness(weighted: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """The loudness of each gating block of a whole K-weighted (frames, channels) signal."""
    sums = SquareSums(weighted.shape[1])
    sums.add(weighted)
    return sums.block_loudness(sample_rate_hz)


def gated_loudness(blocks: np.ndarray, gain_db: float = 0.0) -> float:
    """Integrated loudness of the blocks after a gain of ``gain_db``; -inf when every block is gated."""
    blocks = blocks + gain_db
    power = 10 ** ((blocks + 0.691) / 10)
    above = blocks >= ABSOLUTE_GATE
    if not above.any():
        return float("-inf")
    relative = -0.691 + 10 * np.log10(power[above].mean()) + RELATIVE_GATE
    kept = (blocks > relative) & (blocks > ABSOLUTE_GATE)
    return float(-0.691 + 10 * np.log10(power[kept].mean())) if kept.any() else float("-inf")


def loudness_lufs(audio: np.ndarray, sample_rate_hz: int) -> float:
    """Integrated loudness of (frames,) or (frames, channels) audio in LUFS; -inf for silence or clips under 0.4 s."""
    audio = audio.reshape(len(audio), -1)
    if audio.size == 0:
        return float("-inf")
    return gated_loudness(block_loudness(KWeighting(sample_rate_hz, audio.shape[1])(audio), sample_rate_hz))
