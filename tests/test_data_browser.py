"""Browser test: upload a zip in the Data tab, see the per-file report, tokenize, see the splits."""
from __future__ import annotations

import zipfile

import pytest

from conftest import choose_files

from pipelines.music.piece import Note, Piece

pytestmark = pytest.mark.browser


def test_upload_a_zip_and_see_the_report(studio_server, page, tmp_path):
    url, home = studio_server
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            notes = [Note(float(b), 48 + i + (b % 7), 0.9, 80) for b in range(16)]
            path = Piece(notes=notes, tempo_bpm=90 + i).write_midi(tmp_path / f"take{i}.mid")
            zf.write(path, f"takes/take{i}.mid")
        zf.writestr("takes/broken.mid", b"MThd garbage")
        zf.writestr("takes/nested.zip", b"PK")
    page.goto(url)

    def reach():
        page.get_by_role("tab", name="Data").click()
        name = page.get_by_label("Dataset name")
        name.fill("browser-set")
        name.press("Enter")

    reach()
    choose_files(page, "data-upload", archive, shows="upload.zip", reach=reach)
    page.get_by_role("button", name="Ingest", exact=True).click()
    page.get_by_text("3 kept, 2 skipped").first.wait_for(timeout=120_000)
    report = page.locator(".ingest-report").inner_text()
    for name in ("take0.mid", "take1.mid", "take2.mid", "broken.mid", "nested.zip"):
        assert f"upload.zip/takes/{name}" in report
    assert "not a readable MIDI file" in report and "nested archive" in report
    assert report.count("kept") >= 3 and report.count("skipped") == 2
    assert (home / "datasets" / "browser-set" / "manifest.jsonl").is_file()
    page.get_by_role("button", name="Tokenize", exact=True).click()
    page.get_by_text("round_trip_overall").first.wait_for(timeout=120_000)
    assert "take0.mid" in page.locator(".round-trip").inner_text()
    assert (home / "datasets" / "browser-set" / "tokens" / "train.jsonl").is_file()
    assert page.locator(".toast-body.error, .toast-wrap .error").count() == 0
    page.screenshot(path=str(tmp_path / "data.png"), full_page=True)


def test_ingest_and_tokenize_are_named_endpoints(studio_server, tmp_path):
    from gradio_client import Client, handle_file

    url, home = studio_server
    song = Piece(notes=[Note(float(b), 55 + (b % 5), 0.9, 80) for b in range(16)]).write_midi(tmp_path / "api.mid")
    client = Client(url, verbose=False)
    rows, summary, _ = client.predict([handle_file(str(song))], "api-set", "jazz", "mood:calm", True, True,
                                      api_name="/ingest")
    assert "1 kept, 0 skipped" in summary
    splits, _, round_trip = client.predict("api-set", "remi", 512, 0, 0, 0, 0.0, 0.0, 0, api_name="/tokenize")
    assert splits["tokenizer"] == "remi" and splits["round_trip_overall"] == 1.0
    assert (home / "datasets" / "api-set" / "tokenizer.json").is_file()
