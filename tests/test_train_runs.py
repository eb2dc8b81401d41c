"""Detached runs under faults: the trainer, the supervisor and everything killed at a random step
(state right within 5 s, no process left, Resume at the last checkpoint), two Resumes at once, Stop &
save (a checkpoint that generates within 10 s), the lock, the queue, abort, delete, and two torchrun
processes training one run."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import psutil
import pytest
import torch
from train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

from pipelines.common.errors import StudioError
from pipelines.train import launcher
from pipelines.train.backends.torch_models import load_checkpoint
from pipelines.train.config import load_train_config
from pipelines.train.process import end_tree, run_processes
from pipelines.train.runs import (
    checkpoint_steps,
    delete_run,
    list_runs,
    read_metrics,
    read_status,
    reconcile,
    run_path,
    runs_dir,
    write_status,
)
from pipelines.train.supervisor import supervise


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny_llama_runs"))


@pytest.fixture
def dataset(studio_home):
    yield write_dataset(studio_home)
    for folder in (studio_home / "runs").glob("*"):  # leave no process behind, even after a failure
        end_tree(folder, grace_s=1.0)


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
    """Four long runs started at once (they mostly wait on process start-up, so overlap saves time)."""
    home = tmp_path_factory.mktemp("live_runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(home))
        patch.setenv("STUDIO_PARALLEL_RUNS", "4")  # no queue here: the queue has its own test
        write_dataset(home)
        names = ("stop", "kill_trainer", "kill_supervisor", "restart")
        ids = {name: launcher.start(long_run(tiny_base, **_extra(name)))["run_id"] for name in names}
        yield home, ids
        for run_id in ids.values():  # leave no process behind
            end_tree(home / "runs" / run_id, grace_s=1.0)


def _extra(name: str) -> dict:
    """The stop run samples long enough after its checkpoint that Skip has something to skip."""
    return {"sample_count": 4, "sample_max_new_tokens": 400, "eval_steps": 1000} if name == "stop" else {}


@pytest.fixture
def live(live_runs, monkeypatch):
    home, ids = live_runs
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return ids


def long_run(tiny_base, **extra):
    """A run long enough to be stopped by hand (it would take minutes to finish)."""
    return load_train_config(
        None, tiny_overrides(tiny_base, **{"max_steps": 5000, "eval_steps": 3, "sample_count": 0, **extra})
    )


def state_of(run_id):
    return read_status(run_path(run_id)).get("state")


def step_at_least(run_id, n):
    status = read_status(run_path(run_id))
    return status.get("state") == "running" and status.get("step", 0) >= n


def wait_state(run_id, states, timeout_s: float = 5.0) -> float:
    """Seconds until reading the run (as the UI does, reconciled) gives one of ``states``."""
    t0 = time.monotonic()
    wait_for(lambda: reconcile(run_path(run_id)).get("state") in states, timeout_s, f"state in {states}")
    return time.monotonic() - t0


def no_process_left(run_id) -> bool:
    return not run_processes(runs_dir() / run_id)


def test_killed_trainer_is_failed_within_5_s_and_two_resumes_start_one_trainer(live):
    run_id = live["kill_trainer"]
    wait_for(lambda: step_at_least(run_id, random.randint(4, 7)), what="the run to start stepping")
    os.kill(read_status(run_path(run_id))["trainer_pid"], signal.SIGKILL)  # a person's kill -9
    assert wait_state(run_id, ("failed",)) < 5.0
    status = read_status(run_path(run_id))
    assert "killed by a signal from outside the studio (SIGKILL)" in status["error"]
    assert "memory" not in status["error"] and status["returncode"] == -signal.SIGKILL
    wait_for(lambda: no_process_left(run_id), 5.0, "no process of the run")

    results, errors = [], []

    def press_resume():
        try:
            results.append(launcher.resume(run_id))
        except StudioError as exc:
            errors.append(str(exc))

    presses = [threading.Thread(target=press_resume) for _ in range(2)]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()
    assert len(results) == 1 and "already queued" in errors[0], (results, errors)
    assert results[0]["resume_step"] == checkpoint_steps(run_path(run_id))[-1]
    wait_for(lambda: step_at_least(run_id, results[0]["resume_step"] + 1), what="steps after the resume")
    kinds = sorted("supervise" in " ".join(p.cmdline()) for p in run_processes(run_path(run_id)))
    assert kinds == [False, True], kinds  # one supervisor, one trainer
    launcher.abort(run_id)
    assert state_of(run_id) == "aborted" and "aborted by the user" in read_status(run_path(run_id))["error"]
    assert no_process_left(run_id)


def test_killed_supervisor_takes_its_trainer_and_delete_ends_the_tree(live):
    run_id = live["kill_supervisor"]
    run_dir = run_path(run_id)
    wait_for(lambda: step_at_least(run_id, random.randint(4, 7)), what="the run to start stepping")
    status = read_status(run_dir)
    os.kill(status["pid"], signal.SIGKILL)
    assert wait_state(run_id, ("failed",)) < 5.0
    wait_for(lambda: no_process_left(run_id), 5.0, "the trainer to die with its supervisor")
    trainer = status["trainer_pid"]
    wait_for(lambda: not psutil.pid_exists(trainer) or _zombie(trainer), 5.0, "the trainer to exit")
    assert "killed from outside the studio" in read_status(run_dir)["error"]

    resumed = launcher.resume(run_id)
    assert resumed["resume_step"] == checkpoint_steps(run_dir)[-1]
    fresh = read_status(run_dir)
    assert not {"finished", "returncode", "log_tail"} & set(fresh) and fresh.get("error") is None
    wait_for(lambda: step_at_least(run_id, resumed["resume_step"] + 1), what="steps after the resume")
    with pytest.raises(StudioError, match="already running"):
        launcher.resume(run_id)
    assert delete_run(run_id)["deleted"] and not run_dir.exists()
    time.sleep(2.0)  # nothing is left to write into the folder again
    assert not run_dir.exists() and no_process_left(run_id)


def test_app_restart_lists_runs_truly(live):
    """A run whose processes all vanished (the machine rebooted) reads as failed, with the log's tail."""
    run_id = live["restart"]
    wait_for(lambda: step_at_least(run_id, 1), what="the run to start")
    pid = read_status(run_path(run_id))["pid"]
    os.killpg(pid, signal.SIGKILL)  # supervisor and trainer at once: nobody records anything
    wait_for(lambda: no_process_left(run_id), 5.0, "the process group to die")
    assert read_status(run_path(run_id))["state"] == "running"  # what the files say...
    rows = {r["run_id"]: r for r in list_runs()}  # ...and what reading the run list makes of them
    assert rows[run_id]["state"] == "failed" and "processes are gone" in rows[run_id]["error"]
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


def test_stop_and_save_gives_a_loadable_checkpoint_within_10_s(live):
    run_id = live["stop"]
    run_dir = run_path(run_id)
    assert (run_dir / "config.yaml").is_file() and "pipelines.train run" in (
        run_dir / "command.txt"
    ).read_text()
    wait_for(lambda: step_at_least(run_id, random.randint(4, 7)), what="the run to step")
    assert read_status(run_dir)["heartbeat"] > time.time() - 30
    t0 = time.monotonic()
    launcher.stop(run_id)
    launcher.skip(run_id)  # no evaluation or samples after the checkpoint this time
    saved = wait_for(lambda: read_status(run_dir).get("saved_step"), 10.0, "the checkpoint")
    model, tokenizer, codec = load_checkpoint(run_dir / "checkpoints" / f"step-{saved}")
    ids = codec.encode("STYLE_jazz TEMPO_90")[:-1]
    out = model.generate(input_ids=torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    assert out.shape[1] > len(ids) and time.monotonic() - t0 < 10.0
    wait_for(lambda: state_of(run_id) == "stopped", 60.0, "the run to end after its checkpoint")
    status = read_status(run_dir)
    assert status["step"] == saved and checkpoint_steps(run_dir)[-1] == saved
    assert not (run_dir / "STOP").exists() and not (run_dir / "SKIP").exists() and "phase" not in status
    assert not (run_dir / "samples" / f"step-{saved}" / "samples.json").exists()  # skipped
    assert not [m for m in read_metrics(run_dir) if m.get("step") == saved and "eval_loss" in m]
    with pytest.raises(StudioError, match="only a queued or running run can be stopped"):
        launcher.stop(run_id)
    resumed = launcher.resume(run_id)
    assert resumed["resume_step"] == saved
    wait_for(lambda: step_at_least(run_id, saved + 2), what="steps after the resume")
    metrics = read_metrics(run_dir)
    marker = next(i for i, m in enumerate(metrics) if m.get("event") == "resume")
    after = [m["step"] for m in metrics[marker:] if m.get("loss") is not None]
    assert metrics[marker]["step"] == saved and after[0] == saved + 1
    launcher.abort(run_id)
    assert state_of(run_id) == "aborted" and no_process_left(run_id)


def test_a_second_trainer_cannot_take_a_live_run_and_new_runs_queue(tiny_base, dataset, monkeypatch):
    monkeypatch.setenv("STUDIO_PARALLEL_RUNS", "1")
    first = launcher.start(long_run(tiny_base))["run_id"]
    second = launcher.start(long_run(tiny_base))["run_id"]
    wait_for(lambda: step_at_least(first, 1), what="the first run to step")
    assert state_of(second) == "queued"
    wait_for(lambda: first in (read_status(run_path(second)).get("queue_note") or ""), 5.0, "a queue note")
    with pytest.raises(StudioError, match="already has a trainer"):
        launcher.run_foreground(long_run(tiny_base), run_path(first))
    refused = supervise(first)  # a second supervisor of the same run leaves without writing
    assert refused["state"] == "refused" and state_of(first) == "running"
    launcher.stop(first)
    wait_for(lambda: step_at_least(second, 1), 120.0, "the queued run to start after the first")
    assert state_of(first) == "stopped"
    saved = read_status(run_path(first))["step"]  # evaluated after its checkpoint, not before
    assert [m for m in read_metrics(run_path(first)) if m.get("step") == saved and "eval_loss" in m]
    launcher.stop(second)
    wait_for(lambda: state_of(second) == "stopped", 60.0, "the second run to stop")
    wait_for(lambda: no_process_left(first) and no_process_left(second), 5.0, "both trees to exit")


def test_an_orphan_trainer_is_ended_when_the_run_is_read(tiny_base, dataset):
    """A trainer whose supervisor is gone (as an older version could leave one) is found and ended."""
    import subprocess

    from pipelines.common.paths import REPO_ROOT

    run_dir = launcher.create_run(long_run(tiny_base))
    orphan = subprocess.Popen(launcher.trainer_argv(run_dir, long_run(tiny_base)), cwd=REPO_ROOT,
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: step_at_least(run_dir.name, 4) and checkpoint_steps(run_dir), what="a checkpoint")
    write_status(run_dir, pid=2**22 + 11)  # its supervisor: a process that is gone
    assert wait_state(run_dir.name, ("failed",)) < 5.0
    orphan.wait(timeout=10)  # ended (its exit status went to the reaper, so it is not checked here)
    assert no_process_left(run_dir.name)
    assert "its trainer was ended with it" in read_status(run_dir)["error"]
    assert launcher.resume(run_dir.name)["resume_step"] == checkpoint_steps(run_dir)[-1]
    wait_for(lambda: step_at_least(run_dir.name, checkpoint_steps(run_dir)[-1] + 1), what="the resume")
    launcher.abort(run_dir.name)
    assert no_process_left(run_dir.name)


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
