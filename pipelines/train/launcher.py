"""Start, watch and control runs as detached processes; the CLI and the UI both call these.

``start`` writes the run folder and spawns ``python -m pipelines.train supervise RUN_ID`` in its
own session (process group). The supervisor runs the trainer (``... run``, or under ``torchrun``
for several processes), waits for it, and records how it ended when the trainer could not: a
SIGKILL becomes "killed by the system, probably out of memory". Stop = a STOP file (save, exit);
abort = a signal to the whole process group.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import yaml

from ..common.config import to_dict
from ..common.errors import StudioError
from ..common.files import atomic_write_text
from ..common.paths import REPO_ROOT
from .checks import check_runnable
from .config import TrainConfig, config_from_dict, config_to_yaml, load_train_config, preset_path
from .data import dataset_dir
from .failures import explain_failure
from .runs import (
    ACTIVE_STATES,
    checkpoint_path,
    checkpoint_steps,
    log_tail,
    pid_alive,
    read_status,
    reconcile,
    run_path,
    runs_dir,
    write_status,
)


def new_run_id(cfg: TrainConfig) -> str:
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", cfg.run_name or f"{cfg.method}-{cfg.dataset or 'data'}")
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{label}-{uuid.uuid4().hex[:4]}"[:96]


def run_config(run_dir: Path) -> TrainConfig:
    """The resolved config a run was started with (its config.yaml)."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise StudioError(
            f"run {Path(run_dir).name} has no config.yaml, so it cannot be resumed or continued"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return config_from_dict(data, str(Path(run_dir) / "config.yaml"))


def trainer_argv(run_dir: Path, cfg: TrainConfig, resume_step: int = 0) -> list[str]:
    """The foreground trainer's command line (under torchrun when num_processes > 1)."""
    argv = ["-m", "pipelines.train", "run", str(run_dir / "config.yaml"), "--run-dir", str(run_dir)]
    if resume_step:
        argv += ["--resume-step", str(resume_step)]
    if cfg.num_processes > 1:
        return [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={cfg.num_processes}",
            *argv,
        ]
    return [sys.executable, *argv]


def create_run(cfg: TrainConfig, pid: int | None = None) -> Path:
    """Make ``runs/<id>/`` with config.yaml, command.txt and a queued status."""
    run_dir = runs_dir() / new_run_id(cfg)
    run_dir.mkdir(parents=True)
    atomic_write_text(run_dir / "config.yaml", config_to_yaml(cfg))
    atomic_write_text(run_dir / "command.txt", _display(trainer_argv(run_dir, cfg)) + "\n")
    write_status(
        run_dir,
        state="queued",
        pid=pid,
        step=0,
        total_steps=cfg.max_steps if cfg.max_steps > 0 else None,
        heartbeat=None,
        error=None,
        created=time.time(),
        backend=cfg.backend,
        method=cfg.method,
        dataset=cfg.dataset,
    )
    return run_dir


def _display(argv: list[str]) -> str:
    return shlex.join(["python" if a == sys.executable else a for a in argv])


def _spawn_supervisor(run_dir: Path, resume_step: int = 0) -> int:
    argv = [sys.executable, "-m", "pipelines.train", "supervise", run_dir.name]
    if resume_step:
        argv += ["--resume-step", str(resume_step)]
    env = dict(os.environ, PYTHONUNBUFFERED="1", STUDIO_HOME=str(runs_dir().parent))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    with open(run_dir / "train.log", "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    write_status(run_dir, pid=proc.pid)
    return proc.pid


def start(cfg: TrainConfig) -> dict[str, Any]:
    """Check ``cfg`` against this machine and the workspace, then start it detached."""
    check_runnable(cfg)
    dataset_dir(cfg.dataset)
    run_dir = create_run(cfg)
    pid = _spawn_supervisor(run_dir)
    return {
        "run_id": run_dir.name,
        "run_dir": str(run_dir),
        "pid": pid,
        "command": (run_dir / "command.txt").read_text().strip(),
    }


def start_from_yaml(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    return start(load_train_config(path, overrides))


def supervise(run_id: str, resume_step: int = 0) -> dict[str, Any]:
    """Run the trainer of ``run_id`` and record its end when the trainer itself could not."""
    run_dir = run_path(run_id)
    cfg = run_config(run_dir)
    write_status(run_dir, pid=os.getpid(), state="queued")
    proc = subprocess.Popen(
        trainer_argv(run_dir, cfg, resume_step),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, STUDIO_SUPERVISED="1"),
    )
    returncode = proc.wait()
    status = read_status(run_dir)
    if status.get("state") in ACTIVE_STATES:
        status = write_status(
            run_dir,
            state="failed",
            error=explain_failure(log_tail(run_dir), returncode),
            returncode=returncode,
            finished=time.time(),
            log_tail=log_tail(run_dir)[-2000:],
        )
    return {"run_id": run_id, "state": status.get("state"), "returncode": returncode}


def run_foreground(cfg: TrainConfig, run_dir: Path | None = None, resume_step: int = 0) -> dict[str, Any]:
    """Train in this process (what ``start`` runs; also usable directly from a terminal)."""
    from .backends import get_backend

    check_runnable(cfg)
    rank = int(os.environ.get("RANK", "0"))
    if run_dir is None:
        run_dir = create_run(cfg, pid=os.getpid())
    run_dir = Path(run_dir)
    if rank == 0 and not pid_alive(read_status(run_dir).get("pid")):
        write_status(run_dir, pid=os.getpid())
    tee = _LogTee(run_dir / "train.log") if rank == 0 and not os.environ.get("STUDIO_SUPERVISED") else None
    try:
        summary = get_backend(cfg.backend).train(cfg, run_dir, resume_step)
    except BaseException as exc:
        if rank == 0:
            reason = str(exc) if isinstance(exc, StudioError) else explain_failure(traceback.format_exc(), 1)
            write_status(run_dir, state="failed", error=reason, finished=time.time())
        if tee is not None:  # the CLI prints the error after the tee is gone: keep it in train.log too
            tee.file.write(f"error: {exc}\n" if isinstance(exc, StudioError) else traceback.format_exc())
        raise
    finally:
        if tee is not None:
            tee.close()
    return {"run_id": run_dir.name, **summary}


class _LogTee:
    """Copy this process's Python-level stdout/stderr into train.log (a foreground run has no supervisor)."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8", buffering=1)
        self.streams = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self._wrap(sys.stdout), self._wrap(sys.stderr)

    def _wrap(self, stream: Any) -> Any:
        tee = self

        class Stream:
            def write(self, text: str) -> int:
                tee.file.write(text)
                return stream.write(text)

            def __getattr__(self, name: str) -> Any:
                return getattr(stream, name)

        return Stream()

    def close(self) -> None:
        sys.stdout, sys.stderr = self.streams
        self.file.close()


def stop(run_id: str) -> dict[str, Any]:
    """Ask a run to save a checkpoint and exit (it checks for STOP after every step)."""
    run_dir = run_path(run_id)
    status = reconcile(run_dir)
    if status.get("state") not in ACTIVE_STATES:
        raise StudioError(
            f"run {run_id} is {status.get('state')}; only a queued or running run can be stopped"
        )
    (run_dir / "STOP").touch()
    write_status(run_dir, state="stopping")
    return {"run_id": run_id, "state": "stopping"}


def abort(run_id: str, grace_s: float = 5.0) -> dict[str, Any]:
    """Kill the run's whole process group at once (no checkpoint); the run becomes failed."""
    run_dir = run_path(run_id)
    status = reconcile(run_dir)
    pid = status.get("pid")
    if status.get("state") not in ACTIVE_STATES or not pid_alive(pid):
        raise StudioError(f"run {run_id} is {status.get('state')}; there is no process to abort")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.time() + grace_s
        while time.time() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if not pid_alive(pid):
            break
    write_status(
        run_dir,
        state="failed",
        error="aborted by the user (no checkpoint was saved at that moment; "
        "Resume continues from the last one)",
        finished=time.time(),
    )
    return {"run_id": run_id, "state": "failed"}


def resume(run_id: str) -> dict[str, Any]:
    """Continue a stopped or failed run from its latest step-N checkpoint, in the same folder."""
    run_dir = run_path(run_id)
    status = reconcile(run_dir)
    if status.get("state") in ACTIVE_STATES:
        raise StudioError(f"run {run_id} is still {status['state']}; stop it before resuming")
    if status.get("state") == "completed":
        raise StudioError(f"run {run_id} completed all its steps; use Continue to train a new stage from it")
    steps = checkpoint_steps(run_dir)
    if not steps:
        raise StudioError(f"run {run_id} saved no checkpoint to resume from; start it again instead")
    cfg = run_config(run_dir)
    check_runnable(cfg)
    (run_dir / "STOP").unlink(missing_ok=True)
    write_status(
        run_dir,
        state="queued",
        step=steps[-1],
        error=None,
        created=status.get("created", time.time()),
        resumed_at=time.time(),
    )
    pid = _spawn_supervisor(run_dir, resume_step=steps[-1])
    return {"run_id": run_id, "resume_step": steps[-1], "pid": pid}


def continue_config(
    run_id: str, preset: str | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """A stage-2 config: a preset's hyper-parameters, starting from ``run_id``'s best checkpoint.

    The model side (base_model, method, vocab_mode, backend, scratch shape) stays the source run's,
    so the checkpoint fits; everything else comes from the preset and the overrides.
    """
    run_dir = run_path(run_id)
    source = run_config(run_dir)
    best = checkpoint_path(run_dir, "best")
    data = to_dict(source)
    if preset:
        data.update(yaml.safe_load(preset_path(preset).read_text(encoding="utf-8")) or {})
    data.update(overrides or {})
    keep = (
        "base_model",
        "method",
        "vocab_mode",
        "backend",
        "scratch_layers",
        "scratch_hidden",
        "scratch_heads",
        "scratch_intermediate",
        "lora_rank",
        "lora_target_modules",
    )
    data.update({k: getattr(source, k) for k in keep})
    data["init_from"] = str(best)
    data["run_name"] = (overrides or {}).get("run_name") or f"{source.run_name or source.method}-stage2"[:48]
    return config_from_dict(data, f"continuation of {run_id}")


def continue_run(
    run_id: str, preset: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    return start(continue_config(run_id, preset, overrides))


def preview_command(preset: str | None, overrides: dict[str, Any]) -> str:
    """The command a user would type to start this run from a terminal."""
    path = preset_path(preset) if preset else None
    shown = (
        (str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)) if path else None
    )
    argv = ["python", "-m", "pipelines.train", "start", *([shown] if shown else [])]
    for key, value in overrides.items():
        argv += ["--set", f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}"]
    return shlex.join(argv)


def write_form_config(cfg: TrainConfig) -> Path:
    """Save a form's resolved config as a YAML the CLI can start (runs/_forms/<time>.yaml)."""
    path = runs_dir() / "_forms" / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.yaml"
    atomic_write_text(path, config_to_yaml(cfg))
    return path


def cli_start_argv(yaml_path: Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.train", "start", str(yaml_path)]
