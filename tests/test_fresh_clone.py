"""The README's flow on a fresh copy of the repository with no settings at all (no STUDIO_HOME):
make MIDI, ingest, tokenize, train scratch_small, generate with the run's checkpoint.

Every other test points STUDIO_HOME at a temp folder; this one keeps the default workspace, which
once sat in the repository folder, where its ``datasets/`` shadowed the ``datasets`` library and
every run failed at step 0.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = ["max_steps=6", "batch_size=2", "max_seq_len=512", "eval_steps=3", "logging_steps=1",
        "scratch_layers=2", "scratch_hidden=32", "scratch_heads=2", "scratch_intermediate=64",
        "sample_count=0", "render_audio=false", "warmup_steps=0", "eval_max_sequences=4"]


def fresh_copy(dest: Path) -> Path:
    """What a clone holds: tracked files and untracked ones git does not ignore, as in the work tree."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def cli(clone: Path, *args: str, timeout_s: float = 300) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("STUDIO_HOME", "PYTHONPATH")}
    proc = subprocess.run([sys.executable, "-m", *args], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=timeout_s)
    assert proc.returncode == 0, f"{' '.join(args)} failed: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}


@pytest.mark.slow
def test_readme_flow_with_no_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_HOME", raising=False)
    clone = fresh_copy(tmp_path / "clone")
    midi = tmp_path / "midi"
    cli(clone, "pipelines.generate", "corpus", "--style", "gospel", "--n", "6", "--out", str(midi))
    files = sorted(str(p) for p in midi.rglob("*.mid"))
    assert files, "the corpus generator wrote no MIDI"
    cli(clone, "pipelines.data", "ingest", *files, "--dataset", "demo", "--style", "gospel")
    cli(clone, "pipelines.data", "tokenize", "demo")
    assert (clone / "workspace" / "datasets" / "demo" / "tokens" / "train.jsonl").is_file()
    assert not (clone / "datasets").exists(), "the workspace must not sit in the repository folder"

    sets = [item for pair in (("--set", s) for s in ["dataset=demo", *TINY]) for item in pair]
    run_id = cli(clone, "pipelines.train", "start", "configs/train/scratch_small.yaml", *sets)["run_id"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = cli(clone, "pipelines.train", "status", run_id)
        if status.get("state") not in ("queued", "running", "stopping"):
            break
        time.sleep(2)
    log = (clone / "workspace" / "runs" / run_id / "train.log").read_text(errors="replace")
    assert status.get("state") == "completed", f"run ended {status.get('state')}: {log[-2000:]}"

    out = tmp_path / "take.mid"
    cli(clone, "pipelines.generate", "--chords", "| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 |", "--style", "gospel",
        "--model", f"runs/{run_id}/best", "--bars", "2", "--out", str(out))
    assert out.is_file() and out.stat().st_size > 0
