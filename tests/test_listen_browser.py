"""A participant completes three pairs in the browser; the organiser's results count them."""
from __future__ import annotations

import secrets
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from test_listen_store import make_test

from pipelines.listen import results


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_participant_votes_three_pairs_and_results_count_them(studio_server, page, monkeypatch):
    url, home = studio_server
    monkeypatch.setenv("STUDIO_HOME", str(home))  # the test lives in the running studio's workspace
    test_id = make_test(f"browser-{secrets.token_hex(3)}", charts=2, seeds=2)  # 4 pairs

    page.goto(f"{url}/?listen={test_id}")
    page.get_by_label("Your name (optional)").fill("Dana")
    page.get_by_role("button", name="Start listening").click()
    page.get_by_text("Pair 1 of 4").wait_for(timeout=30_000)
    assert not page.get_by_role("tab", name="Generate").is_visible()  # nothing but the test
    for number, choice in enumerate(("A", "B", "No preference"), start=1):
        sources = [page.locator(f"#listen-audio-{side} a[download]").first.get_attribute("href",
                                                                                         timeout=10_000)
                   for side in ("a", "b")]
        for source in sources:  # both clips are served, under names that say nothing about the system
            assert "sys-one" not in source and "sys-two" not in source
            with urllib.request.urlopen(source if source.startswith("http") else url + source) as response:
                assert response.status == 200 and len(response.read()) > 1000
        page.locator("#listen-choice").get_by_text(choice, exact=True).click()
        page.locator("#listen-submit").click()
        page.get_by_text(f"Pair {number + 1} of 4").wait_for(timeout=30_000)

    assert "code=" in page.url  # the page's own URL now resumes this participant anywhere
    page.reload()
    page.get_by_text("Pair 4 of 4").wait_for(timeout=30_000)
    page.goto(f"{url}/?listen={test_id}")  # the plain link again: the browser remembers the code
    page.get_by_text("Pair 4 of 4").wait_for(timeout=30_000)
    code = parse_qs(urlparse(page.url).query)["code"][0]
    assert page.get_by_text("Your participant code").is_visible()
    other_device = page.context.browser.new_context()  # no storage: continues with the code alone
    try:
        phone = other_device.new_page()
        phone.goto(f"{url}/?listen={test_id}")
        phone.get_by_text("Continue with a participant code").click()
        phone.get_by_label("Participant code").fill(code)
        phone.get_by_role("button", name="Continue", exact=True).click()
        phone.get_by_text("Pair 4 of 4").wait_for(timeout=30_000)
    finally:
        other_device.close()

    page.goto(url)
    page.get_by_role("tab", name="Listen").click()
    page.locator("#listen-summary").get_by_text("3 votes").wait_for(timeout=30_000)
    assert page.locator("#listen-summary").get_by_text(test_id).is_visible()
    figures = results(test_id)
    assert figures["overall"]["votes"] == 3 and figures["overall"]["ties"] == 1
    assert figures["per_participant"][0]["name"] == "Dana"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_organiser_creates_closes_and_exports_behind_the_password(studio_home, page):
    from conftest import start_studio, stop_studio

    proc, url = start_studio(studio_home, "--admin-password", "pw-7")
    try:
        page.goto(url)
        page.get_by_role("tab", name="Listen").click()
        page.get_by_label("Test name").fill("ui made")
        page.get_by_label("System 1 (model, adapter or checkpoint)").click()
        page.get_by_role("option", name="rules (rule-based engines)").click()
        page.get_by_label("Style of system 2").click()
        page.get_by_role("option", name="mehldau", exact=True).click()
        page.get_by_label("Seeds per chart (pairs per chart)").first.fill("1")
        page.get_by_label("Bars per clip").first.fill("2")
        create = page.get_by_role("button", name="Create test (renders every clip)")
        create.click()  # no password yet: refused
        page.get_by_text("the admin password is wrong").first.wait_for(timeout=30_000)
        assert _stored_tests() == 0
        page.get_by_label("Admin password").fill("pw-7")
        create.click()
        page.get_by_text("4 pairs of rules (gospel) vs rules (mehldau)").wait_for(timeout=120_000)
        page.locator("#listen-summary").get_by_text("0 votes").wait_for(timeout=30_000)
        page.get_by_role("button", name="Export votes and clips (CSV)").click()
        page.locator("a[href*='-clips.csv']").first.wait_for(state="attached", timeout=30_000)
        page.get_by_role("button", name="Close test (no more votes)").click()
        page.locator("#listen-summary").get_by_text("closed").first.wait_for(timeout=30_000)
        link = page.get_by_role("link", name="?listen=").first.get_attribute("href")
        page.goto(link)
        page.get_by_text("This test is closed").wait_for(timeout=30_000)
    finally:
        stop_studio(proc)
    exported = list((studio_home / "listen").glob("*/export/*-clips.csv"))
    assert len(exported) == 1 and len(exported[0].read_text().splitlines()) == 1 + 8  # header + 8 clips


def _stored_tests() -> int:
    from pipelines.listen import list_tests

    return len(list_tests())
