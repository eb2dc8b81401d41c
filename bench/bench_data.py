"""Ingest + tokenize throughput against raw MidiTok REMI, on the same files, in one run.

    .venv/bin/python bench/bench_data.py [--corpus ../shared/corpus/midi] [--repeat 1]

Each variant runs in its own fresh process (so imports and peak memory are its own):
  raw-remi        symusic load + MidiTok REMI encode of each file (the baseline; nothing written)
  ours-studio     ingest (checks, dedupe, manifest, originals) + tokenize_dataset with the studio
                  tokens (chords recognised, round-trip check of every file, splits, jsonl written)
  ours-remi       the same pipeline with the REMI tokenizer
Prints JSON: files/s, seconds, notes, peak RSS per variant, and ours / raw (goal >= 0.7).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def _raw_remi(files: list[str]) -> dict:
    import symusic
    from miditok import REMI

    from pipelines.data.miditok_backend import _miditok_config
    from pipelines.data.tokenizers import TokenizerConfig

    tok = REMI(_miditok_config(TokenizerConfig(kind="remi"), (), ()))
    start = time.perf_counter()
    tokens = 0
    for path in files:
        seq = tok.encode(symusic.Score(path))
        tokens += sum(len(s.ids) for s in seq) if isinstance(seq, list) else len(seq.ids)
    return {"seconds": time.perf_counter() - start, "tokens": tokens}


def _ours(files: list[str], kind: str) -> dict:
    from pipelines.data.build import tokenize_dataset
    from pipelines.data.ingest import IngestConfig, ingest
    from pipelines.data.tokenizers import TokenizerConfig

    with tempfile.TemporaryDirectory() as home:
        os.environ["STUDIO_HOME"] = home
        start = time.perf_counter()
        report = ingest(files, IngestConfig(dataset="bench", max_duration_min=120))
        ingested = time.perf_counter()
        summary = tokenize_dataset("bench", TokenizerConfig(kind=kind))
        done = time.perf_counter()
    return {"seconds": done - start, "ingest_s": ingested - start, "tokenize_s": done - ingested,
            "kept": report["kept"], "tokens": sum(c["tokens"] for c in summary["counts"].values()),
            "round_trip": summary["round_trip_overall"]}


def _child(variant: str, files: list[str], queue) -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cpu_start = time.process_time()
    result = _raw_remi(files) if variant == "raw-remi" else _ours(files, variant.split("-", 1)[1])
    result["cpu_s"] = round(time.process_time() - cpu_start, 3)  # the machine may be shared: CPU time too
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    queue.put(result)


def run_variant(variant: str, files: list[str]) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(variant, files, queue))
    process.start()
    result = queue.get(timeout=3600)
    process.join()
    result["files_per_s"] = round(len(files) / result["seconds"], 3)
    result["files_per_cpu_s"] = round(len(files) / result["cpu_s"], 3)
    result["seconds"] = round(result["seconds"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus" / "midi"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant (best kept)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    files = sorted(str(p) for sub in ("piano", "multitrack") for p in (corpus / sub).glob("*.mid"))
    if not files:
        raise SystemExit(f"no MIDI files under {corpus}/piano or {corpus}/multitrack")
    results = {}
    for variant in ("raw-remi", "ours-studio", "ours-remi"):
        runs = [run_variant(variant, files) for _ in range(max(1, args.repeat))]
        results[variant] = max(runs, key=lambda r: r["files_per_s"])
    raw = results["raw-remi"]["files_per_s"]
    print(json.dumps({
        "files": len(files), "cpu_count": os.cpu_count(), "results": results,
        "ratio_ours_studio_vs_raw": round(results["ours-studio"]["files_per_s"] / raw, 3),
        "ratio_ours_remi_vs_raw": round(results["ours-remi"]["files_per_s"] / raw, 3),
        "cpu_ratio_ours_studio_vs_raw": round(results["ours-studio"]["files_per_cpu_s"] /
                                              results["raw-remi"]["files_per_cpu_s"], 3),
        "cpu_ratio_ours_remi_vs_raw": round(results["ours-remi"]["files_per_cpu_s"] /
                                            results["raw-remi"]["files_per_cpu_s"], 3),
        "goal": ">= 0.7",
    }, indent=2))


if __name__ == "__main__":
    main()
