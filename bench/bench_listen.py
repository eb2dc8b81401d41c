"""How fast the listening-test store is, and how long a participant's session takes.

    python bench/bench_listen.py [--participants 50] [--pairs 24]
        joins, votes (one FULL-sync transaction each) and results, in milliseconds; and the decisive
        votes a pair of systems needs for a 60/40 preference at p < 0.05 with 80 % power
    python bench/bench_listen.py --session [--bars 8] [--tempo 90] [--seeds 4] [--repeats 2] [--catches 2]
        a 20-pair test (4 charts x 4 seeds + hidden checks) made with the rule-based engines, served by
        app.py, and one scripted participant through the real endpoints: every clip played to the end
        in real time (the server enforces it), then a vote. Minutes measured beside the plan's estimate.

Runs in a temporary workspace; prints one JSON object.
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
    parser.add_argument("--session", action="store_true", help="time a scripted participant's session")
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--tempo", type=float, default=90.0)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--catches", type=int, default=2)
    args = parser.parse_args()
    os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="bench_listen_")
    if args.session:
        session(args)
        return
    store(args)


def store(args: argparse.Namespace) -> None:
    """Latencies of the store's operations with ``args.participants`` voting on every pair."""
    from pipelines.listen.stats import votes_needed

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
    first_ms = (time.perf_counter() - t0) * 1000  # with scipy's first import
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
                      "results_first_ms": round(first_ms, 1), "results_ms": round(results_ms, 1),
                      "votes_csv_ms": round(csv_ms, 1),
                      "decisive_votes_for_60_40_at_80pct_power": votes_needed(0.6, 0.05, 0.8)}, indent=2))


def call(url: str, api_name: str, *args):
    """A named endpoint over plain HTTP (POST, then the event stream); RuntimeError on an error event."""
    import urllib.request

    body = json.dumps({"data": list(args)}).encode()
    request = urllib.request.Request(f"{url}/gradio_api/call/{api_name}", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/{api_name}/{event_id}", timeout=60) as response:
        lines = response.read().decode().splitlines()
    event = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("event:"))
    data = [line.split(":", 1)[1].strip() for line in lines if line.startswith("data:")][-1]
    if event != "complete":
        raise RuntimeError(f"{api_name}: {data}")
    return json.loads(data)[0]


def session(args: argparse.Namespace) -> None:
    """Make a test, serve it, and time one scripted participant who plays every clip to the end."""
    import socket
    import subprocess
    import urllib.request

    from pipelines.listen import ListenTestConfig, create_test
    from pipelines.listen.plan import DECIDE_S

    cfg = ListenTestConfig(name="session bench", system_1="rules", system_2="rules", style="gospel",
                           style_2="mehldau", charts="turnarounds", seeds_per_chart=args.seeds,
                           bars=args.bars, tempo_bpm=args.tempo, repeats=args.repeats, catch_trials=args.catches)
    t0 = time.perf_counter()
    made = create_test(cfg)
    create_s = time.perf_counter() - t0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, STUDIO_WARMUP="0", GRADIO_ANALYTICS_ENABLED="False")
    server = subprocess.Popen([sys.executable, str(root / "app.py"), "--listen-only", made["test_id"],
                               "--port", str(port)], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        heard_s, started = 0.0, time.perf_counter()
        state = call(url, "listen_join", made["test_id"], "scripted", "")
        while state["next_pair"] is not None:
            for side in ("A", "B"):
                call(url, "listen_play", made["test_id"], state["token"], state["next_pair"], side, "play")
                time.sleep(state["next_clip_s"])
                heard_s += state["next_clip_s"]
                call(url, "listen_play", made["test_id"], state["token"], state["next_pair"], side, "ended")
            state = call(url, "listen_vote", made["test_id"], state["token"], state["next_pair"], "A", "")
        session_s = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    pairs = state["total"]
    plan = made["plan"]
    print(json.dumps({"pairs": pairs, "bars": args.bars, "tempo_bpm": args.tempo,
                      "create_s": round(create_s, 1), "session_minutes_measured": round(session_s / 60, 2),
                      "listening_minutes": round(heard_s / 60, 2),
                      "machinery_s_per_pair": round((session_s - heard_s) / pairs, 3),
                      "plan_minutes_per_participant": plan["minutes_per_participant"],
                      "plan_decide_s_per_pair": DECIDE_S,
                      "measured_plus_decide_minutes": round((session_s + pairs * DECIDE_S) / 60, 2),
                      "decisive_votes_for_60_40_at_80pct_power": plan["votes_needed_per_system_pair"]},
                     indent=2))


if __name__ == "__main__":
    main()
