"""Figures for the spine (printed, not asserted):
- median seconds of chart -> 8 bars MIDI -> WAV with the `rules` model, per style;
- seconds from `python app.py` to the studio answering HTTP (cold start).

    .venv/bin/python bench/bench_generate.py [--runs 10]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CHART = "| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |"


def generate_seconds(runs: int) -> dict[str, float]:
    from pipelines.generate.api import GenerateConfig, generate

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        generate(GenerateConfig(chords=CHART, bars=8, out_dir=tmp))  # warm: soundfont in the cache
        for style in ("gospel", "mehldau"):
            times = []
            for seed in range(runs):
                t0 = time.perf_counter()
                generate(GenerateConfig(chords=CHART, style=style, bars=8, tempo_bpm=100, seed=seed, out_dir=tmp))
                times.append(time.perf_counter() - t0)
            out[style] = statistics.median(times)
    return out


def cold_start_seconds() -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, STUDIO_HOME=home, GRADIO_ANALYTICS_ENABLED="False")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port)], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                        if r.status == 200:
                            return time.perf_counter() - t0
                except OSError:
                    time.sleep(0.1)
                if time.perf_counter() - t0 > 300:
                    return float("nan")
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for style, seconds in generate_seconds(args.runs).items():
        print(f"rules {style}: chart -> 8 bars MIDI -> WAV, median of {args.runs}: {seconds:.3f} s")
    print(f"app cold start to serving: {cold_start_seconds():.1f} s")


if __name__ == "__main__":
    main()
