"""basic-pitch through onnxruntime, with the ONNX model that ships inside its wheel.

The session is loaded once per model path (a small cache); audio is resampled here with scipy,
so basic-pitch's own file loading (librosa) is never used.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from ..common.errors import StudioError
from .audio import resample
from .notes import Notes

log = logging.getLogger(__name__)

N_OVERLAP_FRAMES = 30   # basic-pitch's own window overlap (frames of 256 samples)
WINDOWS_PER_BATCH = 16  # windows of 2 s per onnxruntime call: bounded memory, few calls
SILENT_WINDOW_PEAK = 1e-4  # -80 dBFS: a window this quiet is not run (its activations are ~0)


def _import_basic_pitch():
    """Import basic_pitch without its import-time warnings about TensorFlow/CoreML/TFLite."""
    import warnings

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resampy's pkg_resources deprecation notice
            import basic_pitch
            import basic_pitch.inference
            import basic_pitch.note_creation
    except ImportError as exc:
        raise StudioError("basic-pitch is not installed: pip install --no-deps -r "
                          f"requirements/transcribe-nodeps.txt ({exc})") from None
    finally:
        root.setLevel(level)
    return basic_pitch


def default_model_path() -> Path:
    """basic_pitch/saved_models/icassp_2022/nmp.onnx inside the installed wheel."""
    bp = _import_basic_pitch()
    return Path(bp.build_icassp_2022_model_path(bp.FilenameSuffix.onnx))


@functools.lru_cache(maxsize=2)
def onnx_session(model_path: str, threads: int = 0):
    """One onnxruntime session per model file, reused by every call."""
    import onnxruntime

    if not Path(model_path).is_file():
        raise StudioError(f"the basic-pitch model {model_path} does not exist; reinstall basic-pitch")
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    log.info("loading basic-pitch ONNX model %s", model_path)
    return onnxruntime.InferenceSession(model_path, sess_options=options,
                                        providers=["CPUExecutionProvider"])


def model_output(mono: np.ndarray, sample_rate_hz: int, model_path: str | None = None) -> dict:
    """Frame-wise note, onset and contour activations, shape (frames, 88|88|264)."""
    _import_basic_pitch()
    from basic_pitch.constants import AUDIO_N_SAMPLES, AUDIO_SAMPLE_RATE, FFT_HOP
    from basic_pitch.inference import unwrap_output, window_audio_file

    session = onnx_session(str(model_path or default_model_path()))
    audio = resample(np.asarray(mono, dtype=np.float32), sample_rate_hz, AUDIO_SAMPLE_RATE)
    overlap = N_OVERLAP_FRAMES * FFT_HOP
    padded = np.concatenate([np.zeros(overlap // 2, dtype=np.float32), audio])
    windows = [w for w, _ in window_audio_file(padded, AUDIO_N_SAMPLES - overlap)]
    sounding = [i for i, w in enumerate(windows) if float(np.max(np.abs(w))) >= SILENT_WINDOW_PEAK]
    names = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0"]
    shapes = {"note": 88, "onset": 88, "contour": 264}
    frames = None
    parts = {key: None for key in shapes}
    for start in range(0, len(sounding), WINDOWS_PER_BATCH):
        chosen = sounding[start:start + WINDOWS_PER_BATCH]
        batch = np.stack([windows[i] for i in chosen]).astype(np.float32)  # (b, 43844, 1)
        outputs = session.run(names, {"serving_default_input_2:0": batch})
        for key, value in zip(("note", "onset", "contour"), outputs):  # value: (b, 172, bins)
            if parts[key] is None:
                frames = value.shape[1]
                parts[key] = np.zeros((len(windows), frames, shapes[key]), dtype=np.float32)
            parts[key][chosen] = value
    if frames is None:  # every window silent
        return {key: np.zeros((0, bins), dtype=np.float32) for key, bins in shapes.items()}
    return {key: unwrap_output(value, len(audio), N_OVERLAP_FRAMES) for key, value in parts.items()}


def frames_for_ms(min_note_ms: float) -> int:
    from basic_pitch.constants import AUDIO_SAMPLE_RATE, FFT_HOP

    return max(1, int(round(min_note_ms / 1000.0 * AUDIO_SAMPLE_RATE / FFT_HOP)))


def transcribe(mono: np.ndarray, sample_rate_hz: int, onset_threshold: float = 0.5,
               frame_threshold: float = 0.3, min_note_ms: float = 127.7,
               model_path: str | None = None) -> Notes:
    """Notes of a mono clip (any sample rate) with basic-pitch's thresholds.

    Args:
        onset_threshold: onset activation needed to start a note (basic-pitch default 0.5).
        frame_threshold: frame activation needed to keep a note sounding (default 0.3).
        min_note_ms: shorter notes are dropped (default 127.7 ms = 11 frames).
    """
    _import_basic_pitch()
    from basic_pitch.note_creation import model_output_to_notes

    if mono.size == 0 or float(np.max(np.abs(mono))) < 1e-6:
        return Notes.empty()
    output = model_output(mono, sample_rate_hz, model_path)
    if not len(output["note"]):  # every window below -80 dBFS
        return Notes.empty()
    _, events = model_output_to_notes(
        output, onset_thresh=onset_threshold, frame_thresh=frame_threshold,
        min_note_len=frames_for_ms(min_note_ms), include_pitch_bends=False, melodia_trick=True)
    rows = [(start, end, pitch, int(round(127 * min(1.0, amplitude))))
            for start, end, pitch, amplitude, _ in events if end > start]
    return Notes.from_tuples(rows)
