"""Figures of the Slakh2100 study on a Slakh-shaped folder made from the shared corpus (printed).

    .venv/bin/python bench/bench_slakh_study.py [--seconds 10] [--start 30] [--model htdemucs_6s]

Each multi-track song of ../shared/corpus/midi/multitrack becomes one TrackNNNNN folder (each
instrument rendered alone by FluidSynth as stems/Snn.flac, the mix their sum; the test fixture's
builder), then ``python -m pipelines.transcribe slakh`` runs over it twice: cold, and again from the
per-track cache. Prints the pooled oracle-minus-mix differences with their 95 % intervals, the
real-time factor of each stage and both wall times.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
CORPUS = REPO.parent / "shared" / "corpus" / "midi" / "multitrack"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--start", type=float, default=30.0)
    parser.add_argument("--model", default="htdemucs_6s", help="picks the stem classes")
    args = parser.parse_args()
    from slakh_fixture import corpus_song, slakh_split

    with tempfile.TemporaryDirectory() as tmp:
        songs = sorted(CORPUS.glob("*.mid"))
        split = slakh_split(Path(tmp) / "split", [corpus_song(p, args.start, args.seconds) for p in songs])
        command = [sys.executable, "-m", "pipelines.transcribe", "slakh", str(split), "--model",
                   args.model, "--out", str(Path(tmp) / "out")]
        walls = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(command, cwd=REPO, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
        study = json.loads((Path(tmp) / "out" / "study.json").read_text())
    print(f"{study['scored']} of {study['tracks']} tracks of {args.seconds:.0f} s, skipped "
          f"{[s['track'] for s in study['skipped']]}; cold {walls[0]:.1f} s, cached {walls[1]:.1f} s")
    print("real-time factor:", study["real_time_factor"])
    for row in study["differences"]:
        if row["mean"] is not None:
            print(f"{row['class']}: {row['comparison']}, {row['metric']}: {row['mean']:+.3f} "
                  f"[{row['low']:+.3f}, {row['high']:+.3f}] over {row['n']} tracks ({row['method']})")
    for row in study["scores"]:
        if row["mean"] is not None and row["class"] == "all pitched":
            print(f"{row['side']}, {row['metric']}: {row['mean']:.3f} [{row['low']:.3f}, {row['high']:.3f}]")


if __name__ == "__main__":
    main()
