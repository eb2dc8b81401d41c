"""Start, watch and control runs as detached processes; the CLI and the UI both call these.

``start`` writes the run folder and spawns ``python -m pipelines.train supervise RUN_ID`` in its
own session (process group); ``supervisor.py`` has what happens there. Stop = a STOP file (save a
checkpoint at once, then evaluate and sample unless SKIP appears); Abort = end the whole tree, the
run becomes ``aborted``. Resume, Abort and Delete hold the run's ``launch.lock`` while they decide,
so two presses at once act once.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
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
from .process import LAUNCH_LOCK, end_tree, run_processes, unlock, wait_lock
from .runs import (
    ACTIVE_STATES,
    END_FIELDS,
    checkpoint_path,
    checkpoint_steps,
    reconcile,
    run_path,
    runs_dir,
    write_status,
)
from .supervisor import ABORT_FILE, ABORTED, run_foreground, supervise  # noqa: F401 (the CLI's names)


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


def create_run(cfg: TrainConfig, pid: int | None = None, preset: str | None = None) -> Path:
    """Make ``runs/<id>/`` with config.yaml, command.txt and a queued status (``preset``: its label)."""
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
        preset=preset or "",
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
    write_status(run_dir, pid=proc.pid, pgid=proc.pid)
    return proc.pid


def start(cfg: TrainConfig, preset: str | None = None) -> dict[str, Any]:
    """Check ``cfg`` against this machine and the workspace, then start it detached.

    While another run trains, the new one waits in the queue (state ``queued``, with a note).
    """
    check_runnable(cfg)
    dataset_dir(cfg.dataset)
    run_dir = create_run(cfg, preset=preset)
    pid = _spawn_supervisor(run_dir)
    return {
        "run_id": run_dir.name,
        "run_dir": str(run_dir),
        "pid": pid,
        "command": (run_dir / "command.txt").read_text().strip(),
    }


def start_from_yaml(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    return start(load_train_config(path, overrides), preset_label(path))


def preset_label(config: str | Path | None) -> str:
    """What the run history calls a config: the preset's name, or the YAML's file name."""
    if not config:
        return "defaults"
    path = Path(str(config))
    return path.stem if path.suffix in (".yaml", ".yml") or "/" in str(config) else str(config)


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


def skip(run_id: str) -> dict[str, Any]:
    """After Stop & save: skip the evaluation and samples still to come (the checkpoint is saved)."""
    run_dir = run_path(run_id)
    if reconcile(run_dir).get("state") != "stopping":
        raise StudioError(f"run {run_id} is not stopping; Skip ends the evaluation after Stop & save")
    (run_dir / "SKIP").touch()
    return {"run_id": run_id, "state": "stopping", "skipping": True}


def abort(run_id: str, grace_s: float = 5.0) -> dict[str, Any]:
    """End the run's whole process tree at once (no checkpoint); the run becomes aborted."""
    run_dir = run_path(run_id)
    launch = wait_lock(run_dir / LAUNCH_LOCK)
    try:
        status = reconcile(run_dir)
        if status.get("state") not in ACTIVE_STATES and not run_processes(run_dir):
            raise StudioError(f"run {run_id} is {status.get('state')}; there is no process to abort")
        (run_dir / ABORT_FILE).touch()
        end_tree(run_dir, grace_s=grace_s)
        (run_dir / ABORT_FILE).unlink(missing_ok=True)
        write_status(run_dir, state="aborted", error=ABORTED, finished=time.time(), phase=None)
    finally:
        unlock(launch)
    return {"run_id": run_id, "state": "aborted"}


def resume(run_id: str) -> dict[str, Any]:
    """Continue a stopped, failed or aborted run from its latest step-N checkpoint, in the same folder.

    Under the run's launch lock: two Resumes at once start one trainer, and a leftover process of
    the run (an orphan) is ended first.
    """
    run_dir = run_path(run_id)
    launch = wait_lock(run_dir / LAUNCH_LOCK)
    try:
        status = reconcile(run_dir)
        if status.get("state") in ACTIVE_STATES:
            raise StudioError(f"run {run_id} is already {status['state']}; stop it before resuming")
        if status.get("state") == "completed":
            raise StudioError(
                f"run {run_id} completed all its steps; use Continue to train a new stage from it"
            )
        steps = checkpoint_steps(run_dir)
        if not steps:
            raise StudioError(f"run {run_id} saved no checkpoint to resume from; start it again instead")
        cfg = run_config(run_dir)
        check_runnable(cfg)
        end_tree(run_dir, grace_s=2.0)
        for name in ("STOP", "SKIP", ABORT_FILE):
            (run_dir / name).unlink(missing_ok=True)
        write_status(run_dir, forget=END_FIELDS, state="queued", pid=None, step=steps[-1],
                     queued_at=time.time(), resumed_at=time.time())
        pid = _spawn_supervisor(run_dir, resume_step=steps[-1])
    finally:
        unlock(launch)
    return {"run_id": run_id, "resume_step": steps[-1], "pid": pid, "state": "queued"}


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
    return start(continue_config(run_id, preset, overrides), preset)


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


def cli_start_argv(yaml_path: Path, preset: str | None = None) -> list[str]:
    label = ["--preset-label", preset] if preset else []
    return [sys.executable, "-m", "pipelines.train", "start", str(yaml_path), *label]
