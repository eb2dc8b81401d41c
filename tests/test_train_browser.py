"""The Train tab in the running studio: a tiny run started from the form, the live plot growing,
Stop & save from the button, lists current when a tab is shown, and the named endpoints driven by
gradio_client."""

from __future__ import annotations

import re
import time

import pytest
from train_fixtures import write_dataset

pytestmark = pytest.mark.browser


def set_field(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def details_step(page) -> int:
    text = page.locator("#train-details").inner_text()
    match = re.search(r"step (\d+)", text)
    return int(match.group(1)) if match else -1


def test_train_tab_starts_a_run_and_the_plot_grows(studio_server, page):
    url, home = studio_server
    write_dataset(home, name="browser")
    page.goto(url)
    page.get_by_role("tab", name="Train").click()
    preset = page.get_by_label("Preset", exact=True)
    preset.click()
    page.get_by_role("option", name="scratch_small").click()
    page.wait_for_timeout(1500)  # the preset fills the form
    set_field(page, "Dataset", "browser")
    page.get_by_text("Settings (from the preset; change any)").click()
    for group in ("Optimisation and checkpoints", "Scratch model", "Samples"):
        page.get_by_text(group, exact=True).click()
    for label, value in {
        "max steps": "5000",
        "batch size": "4",
        "grad accum": "1",
        "max seq len": "96",
        "logging steps": "1",
        "eval steps": "10",
        "eval max sequences": "4",
        "scratch layers": "2",
        "scratch hidden": "32",
        "scratch heads": "4",
        "scratch intermediate": "64",
        "sample count": "0",
        "warmup steps": "0",
    }.items():
        set_field(page, label, value)
    page.get_by_role("button", name="Preview command").click()
    command = page.locator(".cm-content").first
    command.wait_for()
    page.wait_for_function("() => document.body.innerText.includes('--set max_steps=5000')", timeout=90_000)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('pipelines.train run')", timeout=120_000)
    plot = page.locator("#train-loss-plot img")
    plot.first.wait_for(timeout=120_000)
    first_src, first_step = plot.first.get_attribute("src"), details_step(page)
    deadline = time.time() + 240  # a shared CPU can be slow
    while time.time() < deadline and (
        details_step(page) <= first_step + 3 or plot.first.get_attribute("src") == first_src
    ):
        page.wait_for_timeout(500)
    details = page.locator("#train-details").inner_text()
    assert details_step(page) > first_step + 3, (first_step, details)
    assert plot.first.get_attribute("src") != first_src, details
    assert "running" in page.locator("#train-details").inner_text()
    page.get_by_role("button", name="Stop & save").click()
    page.wait_for_function(
        "() => document.querySelector('#train-details').innerText.includes('stopped')", timeout=240_000
    )
    assert not [e for e in page.console_errors if "favicon" not in e]


def test_named_endpoints_start_status_stop(studio_server):
    from gradio_client import Client

    url, home = studio_server
    client = Client(url, verbose=False)
    names = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/start_run", "/run_status", "/stop_run", "/skip_eval", "/abort_run", "/resume_run",
            "/delete_run", "/check_config", "/compare_runs"} <= set(names)
    runs = sorted(p.name for p in (home / "runs").iterdir() if (p / "status.json").is_file())
    if runs:  # the browser test left a stopped run: its status reads back through the API
        status = client.predict(runs[0], api_name="/run_status")
        assert status["state"] in ("stopped", "completed") and status["metrics"]


def test_a_dataset_made_after_the_page_loaded_is_offered_when_train_is_shown(studio_server, page, tmp_path):
    from gradio_client import Client, handle_file

    from pipelines.music.piece import Note, Piece

    url, home = studio_server
    page.goto(url)
    page.get_by_role("tab", name="Train").click()
    estimate = page.locator("#train-estimate").inner_text()
    assert "Expected here" in estimate and ("GB of RAM" in estimate or "GB of GPU" in estimate or
                                            "size unknown" in estimate)
    song = Piece(notes=[Note(float(b), 55 + (b % 5), 0.9, 80) for b in range(16)]).write_midi(tmp_path / "s.mid")
    client = Client(url, verbose=False)  # what the Data tab's Ingest and Tokenize buttons do
    client.predict([handle_file(str(song))], "fresh-set", "jazz", "", True, True, api_name="/ingest")
    client.predict("fresh-set", "studio", 512, 0, 0, 0, 0.0, 0.0, 0, api_name="/tokenize")
    page.get_by_role("tab", name="Data").click()
    page.get_by_role("tab", name="Train").click()  # no refresh button: showing the tab reads the lists
    page.wait_for_timeout(1500)
    page.get_by_label("Dataset", exact=True).click()
    page.get_by_role("option", name="fresh-set").wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Check config and dataset").click()
    page.wait_for_function("() => document.querySelector('#train-check').innerText.length > 20",
                           timeout=30_000)
    assert not [e for e in page.console_errors if "favicon" not in e]


def test_compare_runs_through_the_api(studio_server, monkeypatch):
    from gradio_client import Client

    from pipelines.train.config import load_train_config
    from pipelines.train.launcher import create_run
    from pipelines.train.runs import append_metrics

    url, home = studio_server
    monkeypatch.setenv("STUDIO_HOME", str(home))
    ids = []
    for rate in (1e-3, 5e-4):  # two finished runs' folders, as the run store writes them
        run_dir = create_run(load_train_config("scratch_small", {"dataset": "browser", "learning_rate": rate}))
        append_metrics(run_dir, {"step": 1, "loss": 2.0})
        ids.append(run_dir.name)
    _, table = Client(url, verbose=False).predict(ids, 0.6, True, api_name="/compare_runs")
    table = table.get("value", table)  # the dataframe comes back as an update
    assert table["headers"] == ["setting", *ids], table
    assert table["data"] == [["learning_rate", "0.001", "0.0005"]], table
