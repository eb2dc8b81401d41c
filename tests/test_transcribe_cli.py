"""The CLI contract (python -m pipelines.transcribe ab|batch) and batch mode over a zip."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pretty_midi
import pytest

from pipelines.common.errors import StudioError
from pipelines.transcribe.batch import extract_midis, run_batch
from pipelines.transcribe.config import ABConfig

REPO = Path(__file__).resolve().parents[1]


def band_midi(path: Path, seed: int = 0, bars: int = 3) -> Path:
    """A tiny multi-track song: piano chords, a bass line and drums, written note by note."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0, name="piano")
    bass = pretty_midi.Instrument(program=33, name="bass")
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    roots = [60, 65, 67, 62][seed % 4:] + [60, 65, 67, 62][:seed % 4]
    for bar in range(bars):
        root = roots[bar % 4]
        for beat in range(4):
            t = bar * 2.0 + beat * 0.5
            for pitch in (root, root + 4, root + 7):
                piano.notes.append(pretty_midi.Note(80, pitch, t, t + 0.45))
            bass.notes.append(pretty_midi.Note(95, root - 24, t, t + 0.4))
            drums.notes.append(pretty_midi.Note(100, 36 if beat % 2 == 0 else 38, t, t + 0.1))
    pm.instruments += [piano, bass, drums]
    pm.write(str(path))
    return path


def test_cli_ab_prints_the_table_and_writes_files(tmp_path):
    song = band_midi(tmp_path / "band.mid")
    done = subprocess.run([sys.executable, "-m", "pipelines.transcribe", "ab", str(song),
                           "--separator", "oracle", "--model", "htdemucs_6s", "--out",
                           str(tmp_path / "out"), "--set", "onset_threshold=0.6"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["sides"] == ["mix", "oracle"]
    table = {(row["side"], row["stem"]): row for row in summary["table"]}
    assert {("mix", "all pitched"), ("oracle", "piano"), ("oracle", "bass"),
            ("oracle", "all pitched")} <= set(table)
    assert table[("oracle", "guitar")]["onset F1 50ms"] == "N/A"
    assert float(table[("oracle", "piano")]["onset F1 50ms"]) > 0.5
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["config"]["onset_threshold"] == 0.6
    for stem in ("piano", "bass"):
        assert (tmp_path / "out" / "oracle" / f"{stem}.mid").is_file()
        assert (tmp_path / "out" / "oracle" / f"{stem}.png").is_file()
    assert (tmp_path / "out" / "oracle" / "drums.wav").is_file()


def test_batch_over_a_zip_writes_csv_and_json_with_pooling(tmp_path):
    archive = tmp_path / "songs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            zf.write(band_midi(tmp_path / f"s{i}.mid", seed=i, bars=2), f"set/s{i}.mid")
        zf.writestr("readme.txt", "not a song")
    drums_only = tmp_path / "drums.mid"
    pm = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(0, is_drum=True)
    kit.notes = [pretty_midi.Note(100, 36, 0, 0.1)]
    pm.instruments.append(kit)
    pm.write(str(drums_only))
    out = run_batch([archive, drums_only], ABConfig(separator="oracle"), tmp_path / "batch")
    assert out["songs"] == 4 and out["scored"] == 3
    assert out["failed"][0]["song"] == "drums.mid" and "only drum" in out["failed"][0]["error"]
    rows = list(csv.DictReader(open(out["csv"])))
    assert {r["song"] for r in rows} == {"0000_s0.mid", "0001_s1.mid", "0002_s2.mid"}
    pooled = {(p["side"], p["stem"], p["metric"]): p for p in json.loads(Path(out["json"]).read_text())["pooled"]}
    oracle = pooled[("oracle", "all pitched", "onset_50ms")]
    assert oracle["win"] + oracle["tie"] + oracle["loss"] == 3
    assert 0.0 <= oracle["micro_f1"] <= 1.0 and 0.0 <= oracle["macro_f1"] <= 1.0
    song_rows = [r for r in rows if r["side"] == "oracle" and r["stem"] == "all pitched"
                 and r["metric"] == "onset_50ms"]
    assert oracle["n_match"] == sum(int(r["n_match"]) for r in song_rows)
    assert not list((tmp_path / "batch").rglob("set"))  # archive paths are never used


def test_zip_bombs_traversal_and_empty_batches_are_refused(tmp_path):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("huge.mid", bytes(2_000_000))
    (tmp_path / "unpack").mkdir()
    with pytest.raises(StudioError, match=r"big.zip was refused: member 'huge.mid' expands \d+x"):
        extract_midis(archive, tmp_path / "unpack")
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("set/../../s0.mid", b"MThd")
    with pytest.raises(StudioError, match="zip-slip"):
        extract_midis(slip, tmp_path / "unpack")
    assert not list((tmp_path / "unpack").iterdir())
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudioError, match="no .mid files"):
        run_batch([tmp_path / "empty"], ABConfig(), tmp_path / "out")
