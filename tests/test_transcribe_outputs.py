"""One pipeline function finishes an A/B: the CLI and the studio tab leave the same files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import studio.transcribe_tab as tab
from pipelines.common.errors import StudioError
from pipelines.transcribe.__main__ import main
from pipelines.transcribe.compare import check_device
from studio.settings import StudioSettings
from test_transcribe_cli import band_midi


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_cli_and_tab_write_the_same_files(tmp_path, monkeypatch):
    song = band_midi(tmp_path / "band.mid", bars=2)
    main(["ab", str(song), "--out", str(tmp_path / "cli")])
    monkeypatch.setattr(tab, "_run_dir", lambda kind: tmp_path / "tab")
    on_run = tab._run_handler(StudioSettings())
    shown = on_run(str(song), None, "oracle:htdemucs", "basic-pitch", 0.5, 0.3, 127.7, 0,
                   tab.PRESET_NONE, "cpu", progress=lambda fraction, desc=None: None)
    cli, ui = _files(tmp_path / "cli"), _files(tmp_path / "tab")
    assert cli == ui
    assert {"report.json", "table.csv", "mix/mix.mid", "mix/mix.png", "oracle/bass.png"} <= cli
    assert (tmp_path / "cli" / "table.csv").read_text() == (tmp_path / "tab" / "table.csv").read_text()
    assert shown[3] == str(tmp_path / "tab" / "table.csv")  # the tab shows the pipeline's file
    report = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert set(report["real_time_factor"]) == set(report["timings_s"])
    assert "RTF" in shown[0]


def test_cuda_on_a_machine_without_one_is_one_sentence():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(StudioError, match="no CUDA GPU"):
        check_device("cuda")


def test_the_tab_runs_the_slakh_study_for_the_admin_and_resumes(tmp_path, monkeypatch):
    import gradio as gr

    from slakh_fixture import band_song, slakh_split

    split = slakh_split(tmp_path / "test", [band_song(s) for s in range(2)])
    monkeypatch.setattr(tab, "_study_dir", lambda folder: tmp_path / "study")
    on_study = tab._study_handler(StudioSettings(admin_password="s3cret-pass"))
    form = ["oracle:htdemucs", "basic-pitch", 0.5, 0.3, 127.7, 0, tab.PRESET_NONE, "cpu"]
    with pytest.raises(gr.Error, match="admin password"):
        on_study(str(split), [], 0, "wrong", *form, progress=lambda fraction, desc=None: None)
    assert not (tmp_path / "study").exists()
    text, table, chart, files = on_study(str(split), [], 0, "s3cret-pass", *form,
                                         progress=lambda fraction, desc=None: None)
    assert text.startswith("Scored 2 of 2 tracks (0 from the cache)") and "labels no instruments" in text
    assert str(tmp_path) not in text and Path(chart).is_file()
    assert {Path(f).name for f in files} == {"study.json", "study_scores.csv", "study_differences.csv"}
    assert any(row[:2] == ["all pitched", "oracle - mix"] for row in table["value"])
    again = on_study(str(split), [], 0, "s3cret-pass", *form, progress=lambda fraction, desc=None: None)
    assert again[0].startswith("Scored 2 of 2 tracks (2 from the cache)")
