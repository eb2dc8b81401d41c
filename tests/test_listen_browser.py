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
    test_id = make_test(f"browser-{secrets.token_hex(3)}", charts=2, seeds=2, min_play_s=0.0,
                        clip_s=1.0)  # 4 pairs, each clip to be played to the end before a vote

    page.goto(f"{url}/?listen={test_id}")
    page.get_by_label("Your name (optional)").fill("Dana")
    page.get_by_role("button", name="Start listening").click()
    page.get_by_text("Pair 1 of 4").wait_for(timeout=30_000)
    assert not page.get_by_role("tab", name="Generate").is_visible()  # nothing but the test
    assert page.get_by_text("0% done").is_visible()
    for number, choice in enumerate(("A", "B", "No preference"), start=1):
        sources = [page.locator(f"#listen-audio-{side} a[download]").first.get_attribute("href",
                                                                                         timeout=10_000)
                   for side in ("a", "b")]
        for source in sources:  # both clips are served, under names that say nothing about the system
            assert "sys-one" not in source and "sys-two" not in source
            with urllib.request.urlopen(source if source.startswith("http") else url + source) as response:
                assert response.status == 200 and len(response.read()) > 1000
        page.locator("#listen-choice").get_by_text(choice, exact=True).click()
        if number == 1:  # a vote before playing is refused by the server, with what is missing
            page.locator("#listen-submit").click()
            page.get_by_text("A has not been played yet and B has not been played yet").first.wait_for(
                timeout=30_000)
            assert page.get_by_text("Pair 1 of 4").is_visible()
        for side, left in (("a", "Before voting: B has not been played yet."),
                           ("b", "Both clips heard: choose and submit.")):
            _play_until_heard(page, side, left)
        page.locator("#listen-submit").click()
        page.get_by_text(f"Pair {number + 1} of 4").wait_for(timeout=30_000)
    page.get_by_text("75% done").wait_for(timeout=10_000)

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
    assert figures["timing"]["pairs_timed"] == 3 and figures["timing"]["median_heard_per_clip_s"] >= 0.5


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
        page.get_by_label("Bars per clip").first.press("Enter")
        plan = page.locator("#listen-plan")  # what the test asks, before anything is rendered
        plan.get_by_text("Each participant hears 8 pairs (4 over one pair of systems, 4 hidden checks)"
                         ).wait_for(timeout=30_000)
        assert "210 decisive votes" in plan.inner_text() and "minutes" in plan.inner_text()
        create = page.get_by_role("button", name="Create test (renders every clip)")
        create.click()  # no password yet: refused
        page.get_by_text("the admin password is wrong").first.wait_for(timeout=30_000)
        assert _stored_tests() == 0
        page.get_by_label("Admin password").fill("pw-7")
        create.click()
        page.get_by_text("4 pairs of rules (gospel) vs rules (mehldau) and 4 hidden checks").wait_for(
            timeout=120_000)
        page.locator("#listen-summary").get_by_text("0 votes").wait_for(timeout=30_000)
        page.get_by_role("button", name="Export votes and clips (CSV)").click()
        download = page.locator("a[href*='-clips.csv']").first
        download.wait_for(state="attached", timeout=30_000)
        href = download.get_attribute("href")
        with urllib.request.urlopen(href if href.startswith("http") else url + href) as response:
            assert response.read().decode().count("\n") == 1 + 10  # the organiser's download works
        _participant_cannot_fetch_the_export(url, studio_home)
        page.get_by_role("button", name="Close test (no more votes)").click()
        page.locator("#listen-summary").get_by_text("closed").first.wait_for(timeout=30_000)
        link = page.get_by_role("link", name="?listen=").first.get_attribute("href")
        page.goto(link)
        page.get_by_text("This test is closed").wait_for(timeout=30_000)
    finally:
        stop_studio(proc)
    exported = list((studio_home / "listen-exports").glob("*/*-clips.csv"))
    assert len(exported) == 1 and len(exported[0].read_text().splitlines()) == 1 + 10  # 8 clips + 2 copies
    assert not list((studio_home / "listen").rglob("*.csv"))  # nothing of it in the served folder


def _play_until_heard(page, side: str, expected: str, tries: int = 3) -> None:
    """Press Play on one side until the server says what is left is ``expected``; as a participant
    told "must be played to the end" would, play again (on a loaded machine a request can arrive
    late enough for the server to hear less than 90 % of a one-second clip)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        page.locator(f"#listen-audio-{side}").get_by_role("button", name="Play", exact=True).click()
        try:
            page.locator("#listen-missing").get_by_text(expected).wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def _table_rows(page, elem_id: str, count: int) -> list[str]:
    """The text of a results table's rows, once it has ``count`` (tables draw their rows when seen)."""
    table = page.locator(f"#{elem_id}")
    table.scroll_into_view_if_needed()
    page.wait_for_function("([id, n]) => document.querySelectorAll(`#${id} .virtual-row`).length >= n",
                           arg=[elem_id, count], timeout=30_000)
    return table.locator(".virtual-row").all_inner_texts()


def _participant_cannot_fetch_the_export(url: str, home) -> None:
    """A participant who knows a clip's folder (or the studio's layout) asks for the export's files."""
    import urllib.error

    from pipelines.listen import list_tests
    from pipelines.listen.store import listen_dir

    test_id = list_tests()[0]["id"]
    for folder in (listen_dir(test_id) / "export", home / "listen-exports" / test_id):
        for kind in ("votes", "clips", "participants"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{url}/gradio_api/file={folder}/{test_id}-{kind}.csv")
            assert refused.value.code in (403, 404)


def _stored_tests() -> int:
    from pipelines.listen import list_tests

    return len(list_tests())


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_organiser_sees_the_ranking_and_the_screening_of_three_systems(studio_server, page, monkeypatch):
    from pipelines.listen import join, progress, vote
    from pipelines.listen.store import connect

    url, home = studio_server
    monkeypatch.setenv("STUDIO_HOME", str(home))
    test_id = make_test(f"ranked-{secrets.token_hex(3)}", systems=3, charts=2, seeds=1, repeats=2, catches=2)
    rank = {"sys-one": 1, "sys-two": 2, "sys-three": 3}  # the truth: three beats two beats one
    for name in ("Ada", "Ben", "Always-A"):
        token = join(test_id, name=name)
        while (pair := progress(test_id, token).next_pair) is not None:
            with connect() as conn:  # the attentive ears: which system plays on A
                on_a = conn.execute("SELECT system FROM clips WHERE file = ?",
                                    (f"clips/{pair.clip_a.name}",)).fetchone()[0]
                on_b = conn.execute("SELECT system FROM clips WHERE file = ?",
                                    (f"clips/{pair.clip_b.name}",)).fetchone()[0]
            choice = "A" if name == "Always-A" or rank.get(on_a, 0) > rank.get(on_b, 0) else "B"
            vote(test_id, token, pair.pair_id, choice)

    page.goto(url)
    page.get_by_role("tab", name="Listen").click(timeout=120_000)  # the page's loads first
    page.get_by_label("Test", exact=True).click()
    page.get_by_role("option", name=test_id).click()
    summary = page.locator("#listen-summary")
    summary.get_by_text("Flagged: 1 of 3").wait_for(timeout=30_000)
    ranking = page.locator("#listen-ranking")
    rows = _table_rows(page, "listen-ranking", 3)
    assert [next(s for s in rank if s in row) for row in rows] == ["sys-three", "sys-two", "sys-one"]
    screening = _table_rows(page, "listen-screening", 3)
    assert any("Always-A" in row and "yes" in row for row in screening)
    assert sum("no" in row.split() for row in screening) == 2
    everyone = _table_rows(page, "listen-pairwise", 3)[0]
    page.get_by_text("Without flagged participants").click()
    page.wait_for_function("(old) => document.querySelector('#listen-pairwise .virtual-row').innerText !== old",
                           arg=everyone, timeout=30_000)
    screened = _table_rows(page, "listen-pairwise", 3)[0]
    # sys-one vs sys-two: the two attentive raters chose sys-two on both charts; Always-A's sides
    # alternate over the two charts, so it gave one vote to each
    assert everyone.split()[3:6] == ["6", "1", "5"] and screened.split()[3:6] == ["4", "0", "4"]
