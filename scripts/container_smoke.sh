#!/usr/bin/env bash
# Builds the studio's image and uses it the way a user would, with docker or podman:
#   1. build it (timed) and say how large it is;
#   2. run it with a volume for STUDIO_HOME and wait until the studio answers on port 7860 (cold start);
#   3. through the API (gradio_client, in the container): 8 bars with `rules` and with the default model
#      (a first and a second take each), then ingest one MIDI file made by the rule engine into a dataset;
#   4. stop and remove the container, start a new one on the same volume and find the dataset still there
#      (a second file ingested makes it hold 2).
#
#   scripts/container_smoke.sh
# Environment (all optional):
#   ENGINE           docker or podman; default: the first of them whose `info` answers
#   IMAGE            the tag it builds (music-studio:smoke)
#   BASE             --build-arg BASE (the Dockerfile's default when unset); see scripts/make_base_image.sh
#   TORCH_INDEX_URL  --build-arg TORCH_INDEX_URL, e.g. https://download.pytorch.org/whl/cpu
#   BUILD_OPTS       more build options, split on spaces, e.g. "--no-cache"
#   PORT             the host port (17860)
#   KEEP=1           leave the container and the volume (the image is always kept)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-music-studio:smoke}"
PORT="${PORT:-17860}"
NAME="studio-smoke-$$"
VOLUME="studio-smoke-data-$$"
DATASET="smoke-set"
LOGS=$(mktemp -d /tmp/container-smoke.XXXXXX)

say() { printf 'smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAILED: %s (logs in %s)\n' "$*" "$LOGS" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- 0. an engine that works (a docker client without a daemon does not) -------------------------
pick_engine() {
  local engine
  for engine in ${ENGINE:-docker podman}; do
    if command -v "$engine" >/dev/null 2>&1 && "$engine" info >/dev/null 2>&1; then echo "$engine"; return; fi
  done
  fail "no working container engine (tried: ${ENGINE:-docker podman}); on Debian: apt-get install -y podman"
}
engine=$(pick_engine)
command -v curl >/dev/null 2>&1 || fail "curl is needed to wait for the studio"

cleanup() {
  [ "${KEEP:-0}" = 1 ] && { say "kept container $NAME and volume $VOLUME"; return; }
  "$engine" rm -f "$NAME" >/dev/null 2>&1 || true
  "$engine" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---- 1. build ------------------------------------------------------------------------------------
build_args=()
[ -n "${BASE:-}" ] && build_args+=(--build-arg "BASE=$BASE")
[ -n "${TORCH_INDEX_URL:-}" ] && build_args+=(--build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL")
read -ra extra <<< "${BUILD_OPTS:-}"
say "engine: $engine ($("$engine" --version))"
say "building $IMAGE ${build_args[*]} ${extra[*]} (log: $LOGS/build.log)"
t0=$(now)
if ! "$engine" build -t "$IMAGE" "${build_args[@]}" "${extra[@]}" . > "$LOGS/build.log" 2>&1; then
  tail -n 30 "$LOGS/build.log" >&2
  fail "the build failed"
fi
say "build time: $(since "$t0") s"
grep -E '^torch [0-9]' "$LOGS/build.log" | tail -n 1 | sed 's/^/smoke: installed: /' || true
size_bytes=$("$engine" image inspect -f '{{.Size}}' "$IMAGE")
say "image size: $(awk -v b="$size_bytes" 'BEGIN { printf "%.2f GB (%.0f bytes, uncompressed)", b / 1e9, b }')"

# ---- 2. run, wait until the studio answers ---------------------------------------------------------
start_studio() {  # $1: what to call this start in the output
  local t0 code=""
  t0=$(now)
  "$engine" run -d --name "$NAME" -p "127.0.0.1:$PORT:7860" -v "$VOLUME:/data" "$IMAGE" > /dev/null
  for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" || true)
    [ "$code" = 200 ] && { say "$1: serving on port $PORT after $(since "$t0") s"; return; }
    if [ "$("$engine" inspect -f '{{.State.Running}}' "$NAME")" != true ]; then
      "$engine" logs "$NAME" > "$LOGS/$NAME.log" 2>&1 || true
      tail -n 30 "$LOGS/$NAME.log" >&2
      fail "the container stopped before serving"
    fi
    sleep 0.5
  done
  fail "no answer on port $PORT after 300 s"
}

api() {  # $1: a step of the client script below; runs gradio_client inside the container
  "$engine" exec -i "$NAME" python - "$1" "$DATASET" <<'PY'
import json, subprocess, sys, time
from pathlib import Path

from gradio_client import Client, handle_file

step, dataset = sys.argv[1], sys.argv[2]
client = Client("http://127.0.0.1:7860", verbose=False)
chart = "| Cmaj7 | Am7 | Dm7 | G7 | Em7 A7 | Dm7 G7 | Cmaj7 | C6/9 |"
songs = Path("/tmp/smoke-midi")


def ingest(song: Path) -> str:
    rows, summary, _ = client.predict([handle_file(str(song))], dataset, "gospel", "", True, True,
                                      api_name="/ingest")
    return summary


if step == "generate":
    for model in ("rules", "default"):
        for take in ("first", "second"):
            t0 = time.perf_counter()
            roll, audio, midi, metrics, summary, table, pick = client.predict(
                chart=chart, style="Gospel", model=model, bars=8, tempo=96, seed=1 if take == "first" else 2,
                api_name="/generate")
            seconds = time.perf_counter() - t0
            assert Path(midi).stat().st_size > 0 and Path(audio).stat().st_size > 0, (midi, audio)
            facts = {"bars": summary.get("bars"), "notes": summary.get("metrics", {}).get("notes"),
                     "chord_accuracy_root": summary.get("metrics", {}).get("chord_accuracy_root"),
                     "backend": summary.get("decoding", {}).get("backend", "rules"),
                     "timings_s": summary.get("timings_s")}
            print(f"smoke: generate 8 bars, model {model}, {take} take: {seconds:.2f} s, "
                  f"MIDI {Path(midi).stat().st_size} B, WAV {Path(audio).stat().st_size} B, {json.dumps(facts)}")
elif step == "ingest":  # two rule-engine performances: one now, one after the restart
    subprocess.run([sys.executable, "-m", "pipelines.generate", "corpus", "--style", "gospel", "--n", "2",
                    "--out", str(songs)], check=True, capture_output=True)
    song = sorted(songs.glob("*.mid"))[0]
    summary = ingest(song)
    assert "1 kept, 0 skipped" in summary and "holds 1 files" in summary, summary
    print(f"smoke: ingest {song.name} into {dataset}: {summary}")
elif step == "after-restart":
    song = sorted(songs.glob("*.mid"))[1] if songs.is_dir() else None
    if song is None:  # a new container: make them again (the same seed gives the same files)
        subprocess.run([sys.executable, "-m", "pipelines.generate", "corpus", "--style", "gospel", "--n", "2",
                        "--out", str(songs)], check=True, capture_output=True)
        song = sorted(songs.glob("*.mid"))[1]
    summary = ingest(song)
    assert "1 kept, 0 skipped" in summary and "holds 2 files" in summary, summary
    print(f"smoke: after the restart, ingest {song.name} into {dataset}: {summary} (the first file is still there)")
    try:  # the Analyse button: not fatal here, so that the persistence check above stays the verdict
        plot, brief, _ = client.predict(dataset, api_name="/dataset_stats")
        print(f"smoke: Analyse {dataset}: {brief['files']} files, {brief['notes']} notes")
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        print(f"smoke: WARNING: Analyse (/dataset_stats) failed: {str(exc)[:300]}")
PY
}

start_studio "cold start"
api generate || fail "generating through the API"
api ingest || fail "ingesting through the API"

# ---- 4. a new container on the same volume ---------------------------------------------------------
t0=$(now)
"$engine" stop "$NAME" > /dev/null
say "stop: $(since "$t0") s"
"$engine" rm -f "$NAME" > /dev/null
start_studio "new container, same volume"
api after-restart || fail "the dataset did not survive the restart"
say "on the volume: $("$engine" exec "$NAME" sh -c "ls /data/datasets/$DATASET/originals 2>/dev/null | tr '\\n' ' '")"
say "all checks passed"
