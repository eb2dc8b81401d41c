"""Detached runs: start, live status, Stop & save, Resume at step N, a killed trainer, an app restart,
abort, delete, and two torchrun processes training one run."""

from __future__ import annotations

import os
import signal
import time

import pytest
from test_train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

from pipelines.common.errors import StudioError
from pipelines.train import launcher
from pipelines.train.backends.torch_models import load_checkpoint
from pipelines.train.config import load_train_config
from pipelines.train.runs import (
    checkpoint_steps,
    delete_run,
    list_runs,
    read_metrics,
    read_status,
    run_path,
    write_status,
)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny_llama_runs"))


@pytest.fixture
def dataset(studio_home):
    return write_dataset(studio_home)


def wait_for(predicate, timeout_s: float = 120.0, what: str = "condition"):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def live_runs(tmp_path_factory, tiny_base):
    """Three long runs started at once (they mostly wait on process start-up, so overlap saves time)."""
    home = tmp_path_factory.mktemp("live_runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(home))
        write_dataset(home)
        ids = {name: launcher.start(long_run(tiny_base))["run_id"] for name in ("stop", "kill", "restart")}
        yield home, ids
        for run_id in ids.values():  # leave no process behind
            status = read_status(home / "runs" / run_id) if (home / "runs" / run_id).exists() else {}
            if status.get("pid") and status.get("state") in ("queued", "running", "stopping"):
                try:
                    os.killpg(status["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def live(live_runs, monkeypatch):
    home, ids = live_runs
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return ids


def long_run(tiny_base, **extra):
    """A run long enough to be stopped by hand (it would take minutes to finish)."""
    return load_train_config(
        None, tiny_overrides(tiny_base, max_steps=5000, eval_steps=3, sample_count=0, **extra)
    )


def state_of(run_id):
    return read_status(run_path(run_id)).get("state")


def step_at_least(run_id, n):
    status = read_status(run_path(run_id))
    return status.get("state") == "running" and status.get("step", 0) >= n


def test_killed_trainer_is_marked_failed_with_a_reason(live):
    run_id = live["kill"]
    wait_for(lambda: step_at_least(run_id, 2), what="the run to start stepping")
    os.kill(read_status(run_path(run_id))["worker_pid"], signal.SIGKILL)
    wait_for(lambda: state_of(run_id) == "failed", what="the supervisor to record the kill")
    assert "killed by the system, probably out of memory" in read_status(run_path(run_id))["error"]


def test_app_restart_lists_runs_truly(live):
    """A run whose processes all vanished (the machine rebooted) reads as failed, with the log's tail."""
    run_id = live["restart"]
    wait_for(lambda: step_at_least(run_id, 1), what="the run to start")
    pid = read_status(run_path(run_id))["pid"]
    os.killpg(pid, signal.SIGKILL)  # supervisor and trainer at once: nobody records anything
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), what="the process group to die")
    assert read_status(run_path(run_id))["state"] == "running"  # what the files say...
    rows = {r["run_id"]: r for r in list_runs()}  # ...and what reading the run list makes of them
    assert rows[run_id]["state"] == "failed" and "process is gone" in rows[run_id]["error"]
    assert read_status(run_path(run_id))["log_tail"]


def _zombie(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        return "Z" in open(f"/proc/{pid}/status").read().split("State:")[1][:4]
    except OSError:
        return True


def test_stop_and_save_then_resume_continues_at_step_n(live):
    run_id = live["stop"]
    run_dir = run_path(run_id)
    assert (run_dir / "config.yaml").is_file() and "pipelines.train run" in (
        run_dir / "command.txt"
    ).read_text()
    wait_for(lambda: step_at_least(run_id, 4), what="the run to reach step 4")
    assert read_status(run_dir)["heartbeat"] > time.time() - 30
    launcher.stop(run_id)
    wait_for(lambda: state_of(run_id) == "stopped", what="stop and save")
    stopped_at = read_status(run_dir)["step"]
    assert checkpoint_steps(run_dir)[-1] == stopped_at and not (run_dir / "STOP").exists()
    model, _, codec = load_checkpoint(run_dir / "checkpoints" / f"step-{stopped_at}")  # a usable adapter
    assert codec.mode == "added_tokens" and model is not None
    with pytest.raises(StudioError, match="only a queued or running run can be stopped"):
        launcher.stop(run_id)

    resumed = launcher.resume(run_id)
    assert resumed["resume_step"] == stopped_at
    wait_for(lambda: step_at_least(run_id, stopped_at + 2), what="steps after the resume")
    metrics = read_metrics(run_dir)
    marker = next(i for i, m in enumerate(metrics) if m.get("event") == "resume")
    after = [m["step"] for m in metrics[marker:] if m.get("loss") is not None]
    assert metrics[marker]["step"] == stopped_at and after[0] == stopped_at + 1
    launcher.abort(run_id)
    assert state_of(run_id) == "failed" and "aborted by the user" in read_status(run_dir)["error"]
    assert (
        not os.path.exists(f"/proc/{read_status(run_dir)['pid']}/status")
        or "Z" in open(f"/proc/{read_status(run_dir)['pid']}/status").read().split("State:")[1][:4]
    )
    delete_run(run_id)
    assert not run_dir.exists()


def test_a_queued_run_with_a_dead_launcher_becomes_failed(studio_home):
    run_dir = studio_home / "runs" / "old-run"
    run_dir.mkdir(parents=True)
    (run_dir / "train.log").write_text("loading\ntorch.OutOfMemoryError: CUDA out of memory.\n")
    write_status(run_dir, state="running", pid=2**22 + 7, created=time.time() - 100)
    assert list_runs()[0]["error"].startswith("the GPU ran out of memory")


def test_two_torchrun_processes_train_one_run(tiny_base, dataset):
    cfg = load_train_config(
        None, tiny_overrides(tiny_base, max_steps=4, eval_steps=2, num_processes=2, batch_size=2)
    )
    run_id = launcher.start(cfg)["run_id"]
    wait_for(lambda: state_of(run_id) in ("completed", "failed"), timeout_s=240, what="the torchrun run")
    status = read_status(run_path(run_id))
    assert status["state"] == "completed", (status, (run_path(run_id) / "train.log").read_text()[-3000:])
    assert status["world_size"] == 2 and status["step"] == 4
    assert "torch.distributed.run" in (run_path(run_id) / "command.txt").read_text()
    assert checkpoint_steps(run_path(run_id)) == [2, 4]
