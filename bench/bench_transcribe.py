"""Figures for the Transcribe A/B (printed, not asserted).

    .venv/bin/python bench/bench_transcribe.py [--song PATH.mid] [--seconds 30]

1. the whole A/B of 30 s of audio in oracle mode, cold and warm (goal: warm <= 5 s on the CPU);
2. basic-pitch (onnxruntime, CPU) speed as a multiple of real time;
3. Demucs speed as a multiple of real time: the htdemucs architecture (HTDemucs with the released
   model's hyper-parameters) with random weights, since weights cannot be downloaded here: the
   compute, hence the speed, is the real model's.

    .venv/bin/python bench/bench_transcribe.py --rtf [--rtf-seconds 10] [--device cpu|cuda] [--large]
        [--only scnet]

4. (--rtf) the real-time factor (seconds of work per second of audio; below 1 is faster than real
   time) of every separator and transcriber of the registry at its REAL size with random weights:
   Demucs htdemucs / htdemucs_6s / htdemucs_ft (a bag of four), BS-RoFormer SW and Mel-Band RoFormer
   (audio-separator's MDXC separator built from the published YAML, which loads random weights when
   the checkpoint is absent), SCNet (msst's own Separator on a random-weights checkpoint of the model
   config_musdb18_scnet.yaml describes: 11-s chunks, 4 overlaps, batches of 8), basic-pitch, and
   MuScriptor small / medium (/ large): its cost is one mel-conditioning pass per 5-s chunk plus one
   decoder step per token, and random weights emit tokens at random, so the steps are timed and the
   RTF given for 300 tokens a chunk (a busy band; about 2.5 tokens per note onset or offset) and for
   the 2,000-token cap of a chunk.
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


def _rtf_line(label: str, audio_s: float, took: float, cpu: float | None = None, extra: str = "") -> None:
    cpu_part = f", {cpu / audio_s:.2f} CPU-s per s" if cpu is not None else ""
    print(f"  {label:<44} RTF {took / audio_s:7.3f}  ({audio_s:.0f} s of audio in {took:.1f} s wall"
          f"{cpu_part}){extra}", flush=True)


def _clip(seconds: float, channels: int = 2, rate: int = 44_100):
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * np.pi * 110 * t) + 0.1 * np.sin(2 * np.pi * 440 * t)
    return (tone[:, None] + 0.02 * rng.standard_normal((len(t), channels))).astype(np.float32)


def rtf_separators(seconds: float, device: str, only: str = "") -> None:
    import torch
    import yaml
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    from pipelines.transcribe import separate as sep

    audio = _clip(seconds)

    def htdemucs(sources):  # the released models' hyper-parameters (demucs' remote yaml / checkpoints)
        return HTDemucs(sources=list(sources), dconv_mode=3, bottom_channels=512, t_layers=5,
                        segment=Fraction(39, 5)).eval()

    torch.manual_seed(0)
    demucs_models = {"htdemucs": lambda: htdemucs(sep.FOUR_STEMS),
                     "htdemucs_6s": lambda: htdemucs(sep.SIX_STEMS),
                     "htdemucs_ft": lambda: BagOfModels([htdemucs(sep.FOUR_STEMS) for _ in range(4)],
                                                        weights=[[1.0 if i == j else 0.0 for j in range(4)]
                                                                 for i in range(4)])}
    for name, build in demucs_models.items():
        if only not in name:
            continue
        model = build()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        start, cpu = time.perf_counter(), time.process_time()
        sep.separate_with_model(model.to(device), audio, 44_100, device)
        _rtf_line(f"separator {name} ({params:.0f} M params)", seconds, time.perf_counter() - start,
                  time.process_time() - cpu)
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in sep.SEPARATOR_MODELS.items():
            if spec.family != "roformer" or only not in name:
                continue
            yml = Path(tmp) / spec.files[1]
            yml.write_text(yaml.safe_dump(spec.config))
            torch.manual_seed(0)  # no checkpoint at that path: audio-separator keeps the random init
            separator = sep.load_roformer(str(Path(tmp) / spec.files[0]), str(yml), device, "bench")
            params = sum(p.numel() for p in separator.model_run.parameters()) / 1e6
            start, cpu = time.perf_counter(), time.process_time()
            stems = sep.separate_with_roformer(separator, audio, 44_100)
            _rtf_line(f"separator {name} ({params:.0f} M params)", seconds, time.perf_counter() - start,
                      time.process_time() - cpu, f"; {len(stems)} stems")
            sep.load_roformer.cache_clear()
        for name, spec in sep.SEPARATOR_MODELS.items():
            if spec.family != "msst" or only not in name:
                continue
            ckpt, yml = Path(tmp) / spec.files[0], Path(tmp) / spec.files[1]
            yml.write_text(yaml.safe_dump(spec.config))
            torch.manual_seed(0)
            torch.save(sep.build_msst(spec.config).state_dict(), ckpt)
            loaded = sep.load_msst(str(ckpt), str(yml), device, "bench")
            params = sum(p.numel() for p in loaded.separator._model.parameters()) / 1e6
            start, cpu = time.perf_counter(), time.process_time()
            stems = sep.separate_with_msst(loaded, audio, 44_100)
            _rtf_line(f"separator {name} ({params:.1f} M params)", seconds, time.perf_counter() - start,
                      time.process_time() - cpu, f"; {len(stems)} stems")
            sep.load_msst.cache_clear()


def rtf_transcribers(seconds: float, device: str, sizes: tuple[str, ...], steps: int) -> None:
    import contextlib
    import io

    import torch
    from muscriptor.transcription_model import _CONFIGS

    from pipelines.transcribe import basicpitch, muscriptor

    mono = _clip(seconds, channels=1)[:, 0]
    basicpitch.transcribe(mono[:44_100], 44_100)  # load the session
    start, cpu = time.perf_counter(), time.process_time()
    basicpitch.transcribe(mono, 44_100)
    _rtf_line("transcriber basic-pitch (onnxruntime CPU)", seconds, time.perf_counter() - start,
              time.process_time() - cpu)
    chunk_s = 5.0
    for size in sizes:
        torch.manual_seed(0)
        tm = muscriptor.build(_CONFIGS[size], device)
        params = sum(p.numel() for p in tm._model.parameters()) / 1e6
        wav = tm._load_wav(torch.from_numpy(mono).reshape(1, -1), 44_100)
        conditions = tm._build_conditions(wav[:, : int(chunk_s * muscriptor.SAMPLE_RATE_HZ)])

        def run(n: int) -> tuple[float, float]:  # the package's own greedy generate, n steps
            start, cpu = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):
                for i, _ in enumerate(tm._model.generate(conditions=conditions, max_gen_len=2000,
                                                         use_sampling=False, cfg_coef=1.0,
                                                         early_stop_on_token=None)):
                    if i + 1 >= n:
                        break
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            return time.perf_counter() - start, time.process_time() - cpu

        run(2)  # warm up
        fixed, fixed_cpu = run(1)
        many, many_cpu = run(steps)
        per_step, per_step_cpu = (many - fixed) / (steps - 1), (many_cpu - fixed_cpu) / (steps - 1)
        chunks = -(-seconds // chunk_s)
        for tokens in (300, 2000):
            took = chunks * (fixed + tokens * per_step)
            cpu = chunks * (fixed_cpu + tokens * per_step_cpu)
            _rtf_line(f"transcriber muscriptor {size} ({params:.0f} M), {tokens} tok/chunk", seconds, took,
                      cpu, f"; {per_step * 1000:.1f} ms a token, {fixed:.2f} s a chunk's conditioning")
        del tm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--song", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--demucs-seconds", type=float, default=15.0)
    parser.add_argument("--rtf", action="store_true",
                        help="only the real-time factor of every registry entry")
    parser.add_argument("--rtf-seconds", type=float, default=10.0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (for --rtf)")
    parser.add_argument("--large", action="store_true", help="also MuScriptor large (1.4 B) in --rtf")
    parser.add_argument("--steps", type=int, default=40, help="decoder steps timed per MuScriptor size")
    parser.add_argument("--skip-separators", action="store_true", help="--rtf: the transcribers only")
    parser.add_argument("--only", default="", help="--rtf: only the separators whose registry name "
                        "contains this (e.g. scnet), and no transcribers")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"CPU cores visible: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    if args.rtf:
        import torch

        gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "no GPU"
        print(f"real-time factor on {args.device} ({gpu}; torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads), random weights of the real sizes:")
        if not args.skip_separators:
            rtf_separators(args.rtf_seconds, args.device, args.only)
        if args.only:
            return
        rtf_transcribers(args.rtf_seconds, args.device,
                         ("small", "medium", "large") if args.large else ("small", "medium"), args.steps)
        return
    bench_ab(args.song, args.seconds, "htdemucs")
    bench_ab(args.song, args.seconds, "htdemucs_6s")
    bench_basic_pitch(args.song, args.seconds)
    bench_demucs(args.demucs_seconds)


if __name__ == "__main__":
    main()
