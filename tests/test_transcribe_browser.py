"""The Transcribe A/B tab in a real browser: upload a small multi-track MIDI, run, see the table."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from conftest import choose_files
from test_transcribe_cli import band_midi


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_ab_of_a_small_multitrack_midi_shows_the_table_and_stem_rows(studio_server, page, tmp_path):
    url, _ = studio_server
    song = band_midi(tmp_path / "band.mid", bars=3)
    page.goto(url)
    page.get_by_role("tab", name="Transcribe A/B").click()
    choose_files(page, "transcribe-input", song, shows="band.mid",
                 reach=lambda: page.get_by_role("tab", name="Transcribe A/B").click())
    page.locator("#transcribe-run").click()
    table = page.locator("#transcribe-table")
    expect(table).to_contain_text("all pitched", timeout=180_000)
    text = table.inner_text()
    for expected in ("mix", "oracle", "piano", "bass", "N/A"):
        assert expected in text, text[:500]
    summary = page.locator("#transcribe-summary")
    expect(summary).to_contain_text("Timings:", timeout=30_000)
    assert "Device:" in summary.inner_text()
    expect(page.get_by_text("oracle · piano").first).to_be_visible(timeout=30_000)
    roll = page.locator("img[src*='piano.png']").first
    roll.scroll_into_view_if_needed()
    expect(roll).to_be_visible(timeout=30_000)
    assert not page.get_by_text("oracle · vocals").is_visible()  # silent stems stay in the table
    errors = [e for e in page.console_errors if "favicon" not in e]
    assert not errors, errors
