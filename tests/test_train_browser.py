"""The Train tab in the running studio: a tiny run started from the form, the live plot growing,
Stop & save from the button, and the named endpoints driven by gradio_client."""

from __future__ import annotations

import re
import time

import pytest
from test_train_fixtures import write_dataset

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
    assert {"/start_run", "/run_status", "/stop_run"} <= set(names)
    runs = sorted(p.name for p in (home / "runs").iterdir() if (p / "status.json").is_file())
    if runs:  # the browser test left a stopped run: its status reads back through the API
        status = client.predict(runs[0], api_name="/run_status")
        assert status["state"] in ("stopped", "completed") and status["metrics"]
