"""Every configs/generate preset loads into GenerateConfig and validates; the CLI applies a preset and
lets its own options override it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.common.config import load_config
from pipelines.common.errors import StudioError
from pipelines.generate.api import GenerateConfig

REPO = Path(__file__).resolve().parents[1]
PRESETS = sorted((REPO / "configs" / "generate").glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_loads_and_validates(path):
    cfg = load_config(GenerateConfig, path)
    cfg.validate()
    assert cfg.style in ("gospel", "mehldau")


def test_a_preset_with_an_unknown_key_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("style: gospel\ntemprature: 0.9\n")
    with pytest.raises(StudioError, match="temprature"):
        load_config(GenerateConfig, bad)


def test_cli_preset_then_overrides(tmp_path):
    out = tmp_path / "five.mid"
    done = subprocess.run([sys.executable, "-m", "pipelines.generate", "--chords", "| Dm7 | G7 |", "--preset",
                           "mehldau_five", "--tempo", "100", "--out", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["meter"] == "5/4" and summary["style"] == "mehldau" and summary["tempo_bpm"] == 100
    missing = subprocess.run([sys.executable, "-m", "pipelines.generate", "--chords", "| C |", "--preset", "polka",
                              "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "--preset 'polka' not found (presets: gospel_ballad" in missing.stderr
