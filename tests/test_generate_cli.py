"""`python -m pipelines.generate` per the contract in DESIGN.md: JSON out, one sentence and exit 2 on bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.music.midi_reader import read_midi

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.generate", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_midi_and_wav_and_prints_json(tmp_path):
    out, wav = tmp_path / "out.mid", tmp_path / "out.wav"
    done = run("--chords", "| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 |", "--style", "gospel", "--bars", "8",
               "--tempo", "90", "--seed", "1", "--out", str(out), "--wav", str(wav))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bars"] == 8 and summary["tempo_bpm"] == 90
    assert summary["metrics"]["chord_accuracy_root"] >= 0.9
    piece = read_midi(out)
    assert piece.notes and wav.stat().st_size > 100_000
    assert [e.chord.symbol for e in piece.chords][:2] == ["Cmaj7", "Am7"]


@pytest.mark.parametrize("args,message", [
    (["--chords", "| Cmaj7 | Xm7 |", "--style", "gospel"], "bar 2: unknown chord symbol 'Xm7'"),
    (["--chords", "", "--style", "gospel"], "chart is empty"),
    (["--chords", "| C |", "--style", "gospel", "--bars", "65"], "bars must be 1-64 (got 65)"),
    (["--chords", "| C |", "--style", "gospel", "--bars", "0"], "bars must be 1-64 (got 0)"),
    (["--chords", "| C |", "--style", "gospel", "--tempo", "10"], "tempo must be 20-300 bpm (got 10)"),
    (["--chords", "| C |", "--style", "gospel", "--tempo", "301"], "tempo must be 20-300 bpm"),
    (["--chords", "| C |", "--style", "gospel", "--seed", "abc"], "--seed must be a whole number"),
    (["--chords", "| C |", "--style", "polka"], "invalid choice"),
])
def test_cli_bad_input_is_one_sentence_and_exit_2(tmp_path, args, message):
    done = run(*args, "--out", str(tmp_path / "x.mid"))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.mid").exists()


def test_corpus_cli(tmp_path):
    done = run("corpus", "--style", "mehldau", "--n", "2", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("*.mid"))) == 2


def test_a_style_adapter_without_style_plays_its_own_and_the_rules_options_are_read(tmp_path):
    from pipelines.generate.__main__ import main

    summary = main(["--chords", "| Dm7 G7 | Cmaj7 |", "--model", "checkpoints/mehldau", "--backend", "torch",
                    "--harmony-strength", "1", "--register", "36-90", "--max-notes-per-onset", "5",
                    "--out", str(tmp_path / "a.mid")])
    assert summary["style"] == "mehldau"
    assert summary["metrics"]["chord_tone_ratio_tension_aware"] == 1.0
    assert summary["metrics"]["max_notes_per_onset"] <= 5
    assert all(36 <= n.pitch <= 90 for n in read_midi(tmp_path / "a.mid").notes)
