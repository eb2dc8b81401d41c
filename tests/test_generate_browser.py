"""Browser test: open the studio, generate from a chart, find a playable audio element and no error."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_generate_in_the_browser(studio_server, page, tmp_path):
    url, _ = studio_server
    page.goto(url)
    page.get_by_role("tab", name="Generate").click()
    chart = page.get_by_label("Chord chart")
    chart.fill("| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |")
    page.get_by_text("Sampling (trained models)").click()
    temperature = page.get_by_label("number input for Temperature")
    assert temperature.input_value() == "1.3"        # Gospel's, the style shown first
    page.get_by_label("Mehldau").check()
    expect(temperature).to_have_value("1", timeout=30_000)   # picking a style sets its own
    page.get_by_role("button", name="Generate", exact=True).click()
    audio = page.locator("audio[src]").first
    audio.wait_for(state="attached", timeout=120_000)
    src = audio.get_attribute("src")
    assert src  # a blob: or file URL the page fetched from the server
    # the browser can load and decode it
    duration = audio.evaluate("""async (a) => {
        if (isNaN(a.duration) || a.duration === 0) {
            await new Promise(r => { a.addEventListener('loadedmetadata', r, {once: true}); a.load(); });
        }
        return a.duration;
    }""")
    assert duration > 5
    assert page.get_by_text("Chord accuracy (root)").count() >= 1
    assert page.locator(".pianoroll img, .pianoroll canvas, .pianoroll svg").count() >= 1
    assert page.locator(".toast-body.error, .toast-wrap .error").count() == 0
    page.screenshot(path=str(tmp_path / "generate.png"), full_page=True)


def test_bad_chart_shows_an_error_not_a_traceback(studio_server, page):
    url, _ = studio_server
    page.goto(url)
    page.get_by_role("tab", name="Generate").click()
    page.get_by_label("Chord chart").fill("| Cmaj7 | Hm7 |")
    page.get_by_role("button", name="Generate", exact=True).click()
    toast = page.get_by_text("unknown chord symbol 'Hm7'")
    toast.first.wait_for(timeout=60_000)
    assert page.get_by_text("Traceback").count() == 0


def test_generate_with_a_trained_checkpoint_in_the_browser(studio_server, page, tmp_path):
    """A run's checkpoint appears in the model list after ↻, and its take shows the evidence rows."""
    from generate_model_fixtures import write_tiny_checkpoint

    url, home = studio_server
    write_tiny_checkpoint(home / "runs" / "browser-run" / "checkpoints" / "best")
    page.goto(url)
    page.get_by_role("tab", name="Generate").click()
    page.get_by_label("Chord chart").fill("| Dm7 | G7 | Cmaj7 | A7 |")
    page.get_by_role("button", name="↻ models").click()
    page.get_by_label("Model").click()
    page.get_by_role("option", name="browser-run · best").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("Decoding speed (tokens/s)").first.wait_for(timeout=180_000)
    page.locator("audio[src]").first.wait_for(state="attached", timeout=60_000)
    assert page.get_by_text("Longest stretch found in the training data (bars)").count() == 0  # no dataset here
    assert page.locator(".toast-body.error, .toast-wrap .error").count() == 0
    page.screenshot(path=str(tmp_path / "generate-model.png"), full_page=True)


def test_a_run_started_after_the_app_is_played_through_the_api(studio_server, tmp_path):
    """The API takes a checkpoint the page never listed: a run started after the studio (as the Train
    tab's Start does, through the same CLI) generates at once, no restart, no refresh."""
    import json
    import os
    import subprocess
    import sys
    import time

    from gradio_client import Client

    from train_fixtures import write_dataset

    url, home = studio_server
    write_dataset(home, name="api-set")
    tiny = ["dataset=api-set", "max_steps=4", "batch_size=2", "max_seq_len=512", "eval_steps=2", "sample_count=0",
            "render_audio=false", "scratch_layers=2", "scratch_hidden=32", "scratch_heads=2",
            "scratch_intermediate=64", "warmup_steps=0", "eval_max_sequences=4"]
    env = dict(os.environ, STUDIO_HOME=str(home))
    started = subprocess.run([sys.executable, "-m", "pipelines.train", "start", "configs/train/scratch_small.yaml",
                              *[a for s in tiny for a in ("--set", s)]], capture_output=True, text=True, env=env,
                             cwd=Path(__file__).resolve().parents[1], check=True)
    run_id = json.loads(started.stdout)["run_id"]
    best = home / "runs" / run_id / "checkpoints" / "best"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (best / "studio_checkpoint.json").is_file():
        time.sleep(1)
    status = json.loads((home / "runs" / run_id / "status.json").read_text())
    while time.monotonic() < deadline and status.get("state") in ("queued", "running", "stopping"):
        time.sleep(1)
        status = json.loads((home / "runs" / run_id / "status.json").read_text())
    assert status["state"] == "completed", status
    out = Client(url, verbose=False).predict("| Dm7 | G7 | Cmaj7 | Cmaj7 |", "Gospel", f"runs/{run_id}/best", 4, 90,
                                             1, "4/4", api_name="/generate")
    summary = out[4]
    assert summary["bars"] == 4 and summary["model"] == f"runs/{run_id}/best"


def test_an_endpoint_call_that_leaves_out_the_style_settings_gets_its_styles(studio_server):
    """The page's controls start at Gospel's; a gradio_client call for Mehldau that names none of them
    still plays at Mehldau's temperature and rules."""
    from gradio_client import Client

    from pipelines.generate import style_defaults

    url, _ = studio_server
    client = Client(url, verbose=False)
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for endpoint in ("/generate", "/regenerate"):
        params = {p["parameter_name"]: p for p in api[endpoint]["parameters"]}
        assert all(params[name]["parameter_default"] is None for name in ("temperature", "harmony", "low", "high",
                                                                          "notes")), endpoint
    summary = client.predict("| Dm7 G7 | Cmaj7 |", "Mehldau", "checkpoints/mehldau", 2, 96, 1, "4/4",
                             api_name="/generate")[4]
    mehldau = style_defaults("mehldau")
    assert summary["decoding"]["temperature"] == mehldau["temperature"] != style_defaults("gospel")["temperature"]
    assert summary["metrics"]["max_notes_per_onset"] <= mehldau["max_notes_per_onset"]
