"""Figures for the Transcribe A/B (printed, not asserted).

    .venv/bin/python bench/bench_transcribe.py [--song PATH.mid] [--seconds 30]

1. the whole A/B of 30 s of audio in oracle mode, cold and warm (goal: warm <= 5 s on the CPU);
2. basic-pitch (onnxruntime, CPU) speed as a multiple of real time;
3. Demucs speed as a multiple of real time: the htdemucs architecture (HTDemucs with the released
   model's hyper-parameters) with random weights, since weights cannot be downloaded here: the
   compute, hence the speed, is the real model's.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_SONG = REPO.parent / "shared" / "corpus" / "midi" / "multitrack" / "What a Fool Believes.mid"


def bench_ab(song: Path, seconds: float, classes: str) -> None:
    from pipelines.transcribe import ABConfig, run_ab

    cfg = ABConfig(separator="oracle", demucs_model=classes, excerpt_s=seconds)
    with tempfile.TemporaryDirectory() as tmp:
        for i, label in enumerate(("cold", "warm", "warm")):
            start, cpu = time.perf_counter(), time.process_time()
            result = run_ab(song, cfg, Path(tmp) / f"{label}{i}")
            total, cpu = time.perf_counter() - start, time.process_time() - cpu
            stages = ", ".join(f"{k} {v:.2f}" for k, v in result.timings_s.items() if k != "total")
            pooled = {r["side"]: r["onset_50ms"]["f1"] for r in result.scores if r["stem"] == "all pitched"}
            print(f"A/B oracle {classes} {result.duration_s:.1f} s audio, {label}: {total:.2f} s wall, "
                  f"{cpu:.2f} s CPU ({stages}); onset F1 mix {pooled['mix']:.3f} vs oracle "
                  f"{pooled['oracle']:.3f}")


def bench_basic_pitch(song: Path, seconds: float) -> None:
    from pipelines.transcribe import basicpitch
    from pipelines.transcribe.oracle import excerpt, read_multitrack, render_oracle

    oracle = render_oracle(excerpt(read_multitrack(song), seconds), ("drums", "bass", "other", "vocals"),
                           44_100)
    mono = oracle.mix.mean(axis=1)
    basicpitch.transcribe(mono[:44_100], 44_100)  # load the session
    start, cpu = time.perf_counter(), time.process_time()
    notes = basicpitch.transcribe(mono, 44_100)
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    audio_s = len(mono) / 44_100
    print(f"basic-pitch (onnxruntime CPU): {audio_s:.1f} s of audio in {took:.2f} s wall = "
          f"{audio_s / took:.1f}x real time ({cpu:.2f} s CPU = {audio_s / cpu:.1f}x per CPU-second; "
          f"{len(notes)} notes)")


def bench_demucs(seconds: float) -> None:
    import numpy as np
    import torch
    from demucs.htdemucs import HTDemucs

    from pipelines.transcribe.separate import separate_with_model

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], dconv_mode=3, bottom_channels=512,
                     t_layers=5, segment=Fraction(39, 5)).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((int(seconds * 44_100), 2))).astype(np.float32)
    start, cpu = time.perf_counter(), time.process_time()
    separate_with_model(model, audio, 44_100)
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"Demucs htdemucs architecture ({params:.1f} M params, random weights), CPU with "
          f"{torch.get_num_threads()} threads: {seconds:.0f} s of audio in {took:.1f} s wall = "
          f"{seconds / took:.2f}x real time ({cpu:.1f} s CPU = {seconds / cpu:.2f}x per CPU-second)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--song", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--demucs-seconds", type=float, default=15.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"CPU cores visible: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    bench_ab(args.song, args.seconds, "htdemucs")
    bench_ab(args.song, args.seconds, "htdemucs_6s")
    bench_basic_pitch(args.song, args.seconds)
    bench_demucs(args.demucs_seconds)


if __name__ == "__main__":
    main()
