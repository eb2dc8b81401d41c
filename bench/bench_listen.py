"""How fast the listening-test store is: joins, votes (one FULL-sync transaction each) and results.

    python bench/bench_listen.py [--participants 50] [--pairs 24]

Runs in a temporary workspace; prints one JSON object (latencies in milliseconds).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=24, help="pairs in the test (charts x seeds)")
    args = parser.parse_args()
    os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="bench_listen_")

    from pipelines.listen.results import results, votes_csv
    from pipelines.listen.session import join, progress, vote
    from pipelines.listen.store import connect, insert_test, now_iso

    test_id = "bench-000000"
    clips = [{"system": f"s{i % 2}", "model": "m", "style": "gospel", "chart_name": f"c{i // 8}",
              "chart_text": "| C |", "seed": i // 2, "bars": 8, "tempo_bpm": 90.0, "file": f"clips/{i}.wav",
              "midi_file": f"clips/{i}.mid", "duration_s": 20.0, "loudness_lufs": -20.0,
              "sample_rate_hz": 44100, "soundfont": "sf", "sha256": str(i)} for i in range(2 * args.pairs)]
    pairs = [(i // 4, f"c{i // 4}", i, 2 * i, 2 * i + 1) for i in range(args.pairs)]
    with connect() as conn:
        conn.execute("BEGIN IMMEDIATE")
        insert_test(conn, {"id": test_id, "name": "bench", "status": "open", "seed": 1, "system_1": "s0",
                           "system_2": "s1", "config_json": "{}", "created_at": now_iso()}, clips, pairs)
        conn.execute("COMMIT")

    join_ms, next_ms, vote_ms = [], [], []
    for n in range(args.participants):
        t0 = time.perf_counter()
        token = join(test_id, name=f"p{n}")
        join_ms.append((time.perf_counter() - t0) * 1000)
        while True:
            t0 = time.perf_counter()
            pair = progress(test_id, token).next_pair
            next_ms.append((time.perf_counter() - t0) * 1000)
            if pair is None:
                break
            t0 = time.perf_counter()
            vote(test_id, token, pair.pair_id, ("A", "B", "tie")[pair.number % 3])
            vote_ms.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    figures = results(test_id)
    results_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    votes_csv(test_id)
    csv_ms = (time.perf_counter() - t0) * 1000

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        return {"median": round(statistics.median(ordered), 2), "p95": round(p95, 2)}

    print(json.dumps({"participants": args.participants, "pairs": args.pairs,
                      "votes": figures["overall"]["votes"], "join_ms": summary(join_ms),
                      "next_pair_ms": summary(next_ms), "vote_ms": summary(vote_ms),
                      "results_ms": round(results_ms, 1), "votes_csv_ms": round(csv_ms, 1)}, indent=2))


if __name__ == "__main__":
    main()
