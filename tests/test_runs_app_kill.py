"""Killing the app at a random step: the run started through its API keeps training, its state stays
right, and a new app finds it and stops it through the API; no process is left behind."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from conftest import start_studio, stop_studio
from train_fixtures import write_dataset
from test_train_runs import wait_for

from pipelines.train.forms import field_names, preset_values
from pipelines.train.process import end_tree, run_processes

pytestmark = pytest.mark.browser  # it runs the studio twice

TINY = {"max_steps": 5000, "batch_size": 4, "grad_accum": 1, "max_seq_len": 96, "logging_steps": 1,
        "eval_steps": 3, "eval_max_sequences": 4, "scratch_layers": 2, "scratch_hidden": 32,
        "scratch_heads": 4, "scratch_intermediate": 64, "sample_count": 0, "warmup_steps": 0}


def form_args(dataset: str) -> list:
    """The start_run endpoint's inputs: preset, admin password, then every form field."""
    values = {**preset_values("scratch_small"), "dataset": dataset, **TINY}
    return ["scratch_small", "", *[values[name] for name in field_names()]]


def status(client, run_id: str) -> dict:
    return client.predict(run_id, api_name="/run_status")


def test_killing_the_app_leaves_the_run_training(tmp_path_factory, monkeypatch):
    from gradio_client import Client

    home = tmp_path_factory.mktemp("app_kill")
    monkeypatch.setenv("STUDIO_HOME", str(home))
    write_dataset(home, name="appkill")
    app, url = start_studio(home)
    run_dir = None
    try:
        client = Client(url, verbose=False)
        _, picked = client.predict(*form_args("appkill"), api_name="/start_run")
        run_id = picked if isinstance(picked, str) else picked["value"]
        run_dir = home / "runs" / run_id
        at = random.randint(2, 8)
        wait_for(lambda: status(client, run_id)["step"] >= at, 240, f"step {at}")
        os.kill(app.pid, signal.SIGKILL)
        app.wait()
        step = status_of(run_dir)["step"]
        time.sleep(5.0)  # the run is not the app's: it goes on training, and says so
        assert status_of(run_dir)["state"] == "running" and status_of(run_dir)["step"] > step
        app, url = start_studio(home)
        client = Client(url, verbose=False)
        assert status(client, run_id)["state"] == "running"
        client.predict(run_id, "", api_name="/stop_run")
        wait_for(lambda: status(client, run_id)["state"] == "stopped", 120, "Stop & save")
        wait_for(lambda: not run_processes(run_dir), 5, "the run's processes to exit")
    finally:
        stop_studio(app)
        if run_dir is not None:
            end_tree(run_dir, grace_s=1.0)


def status_of(run_dir) -> dict:
    import json

    return json.loads((run_dir / "status.json").read_text())
