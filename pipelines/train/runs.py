"""The run store: ``runs/<run-id>/`` folders, their status, metrics and logs, read back truthfully.

Layout (DESIGN.md "Runs on disk"): config.yaml, command.txt, status.json (atomic), metrics.jsonl,
train.log, checkpoints/step-N + best/, samples/, STOP. Reading the run list also repairs it: a run
marked running whose process is gone becomes failed, with the log's tail as the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from ..common.errors import StudioError
from ..common.files import atomic_write_json, read_json
from ..common.paths import workspace_dir

ACTIVE_STATES = ("queued", "running", "stopping")
STATES = ("queued", "running", "stopping", "stopped", "completed", "failed")
RUN_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,96}")


def runs_dir() -> Path:
    return workspace_dir() / "runs"


def run_path(run_id: str) -> Path:
    """The folder of ``run_id``; ids are plain names (no paths), and the run must exist."""
    if not RUN_ID_RE.fullmatch(run_id or "") or run_id in (".", ".."):
        raise StudioError(f"a run id is a plain name of letters, digits, '_', '.', '-' (got {run_id!r})")
    path = runs_dir() / run_id
    if not (path / "status.json").is_file():
        known = ", ".join(r["run_id"] for r in list_runs()[:8]) or "none yet"
        raise StudioError(f"no run named {run_id!r} in {runs_dir()} (runs: {known})")
    return path


def read_status(run_dir: Path) -> dict[str, Any]:
    return read_json(Path(run_dir) / "status.json", default={}) or {}


def write_status(run_dir: Path, **updates: Any) -> dict[str, Any]:
    """Merge ``updates`` into status.json and write it atomically; returns the new status."""
    if "state" in updates and updates["state"] not in STATES:
        raise ValueError(f"state must be one of {STATES} (got {updates['state']!r})")
    status = read_status(run_dir)
    status.update(updates)
    atomic_write_json(Path(run_dir) / "status.json", status)
    return status


def append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    """One JSON object per line, flushed at once so that a poller sees it within the second."""
    with open(Path(run_dir) / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=float) + "\n")
        handle.flush()


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete line of metrics.jsonl (a half-written last line is skipped)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def log_tail(run_dir: Path, lines: int = 40) -> str:
    path = Path(run_dir) / "train.log"
    if not path.exists():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def pid_alive(pid: int | None) -> bool:
    """True when ``pid`` is a live process (zombies count as gone; our own children are reaped)."""
    if not pid:
        return False
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our finished child
    except (ChildProcessError, OSError):
        pass
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except ImportError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    except Exception:  # psutil.NoSuchProcess, AccessDenied
        return False


def reconcile(run_dir: Path) -> dict[str, Any]:
    """If the run says it is active but its process is gone, mark it failed with the reason."""
    from .failures import explain_failure

    status = read_status(run_dir)
    if status.get("state") in ACTIVE_STATES and not pid_alive(status.get("pid")):
        if status.get("state") == "queued" and time.time() - status.get("created", 0) < 30:
            return status  # the launcher is still starting it
        tail = log_tail(run_dir)
        status = write_status(
            run_dir,
            state="failed",
            error=explain_failure(tail, None),
            log_tail=tail[-2000:],
            finished=time.time(),
        )
    return status


def best_eval_loss(metrics: list[dict[str, Any]]) -> float | None:
    losses = [m["eval_loss"] for m in metrics if m.get("eval_loss") is not None]
    return min(losses) if losses else None


def summarize(run_dir: Path) -> dict[str, Any]:
    """One row of the run list: id, state, step, best eval loss, backend, method, duration."""
    status = reconcile(run_dir)
    started = status.get("started") or status.get("created")
    end = status.get("finished") if status.get("state") not in ACTIVE_STATES else time.time()
    return {
        "run_id": run_dir.name,
        "state": status.get("state", "?"),
        "step": status.get("step", 0),
        "total_steps": status.get("total_steps"),
        "best_eval_loss": status.get("best_eval_loss"),
        "backend": status.get("backend", ""),
        "method": status.get("method", ""),
        "dataset": status.get("dataset", ""),
        "duration_s": round(end - started, 1) if started and end else None,
        "error": status.get("error"),
        "created": status.get("created", 0),
    }


def list_runs() -> list[dict[str, Any]]:
    """Every run under runs/, newest first, each reconciled with its process."""
    root = runs_dir()
    if not root.is_dir():
        return []
    rows = [summarize(p) for p in root.iterdir() if (p / "status.json").is_file()]
    return sorted(rows, key=lambda r: r["created"], reverse=True)


def checkpoint_steps(run_dir: Path) -> list[int]:
    """The N of every checkpoints/step-N, ascending."""
    folder = Path(run_dir) / "checkpoints"
    steps = (
        [int(p.name[5:]) for p in folder.glob("step-*") if p.name[5:].isdigit()] if folder.is_dir() else []
    )
    return sorted(steps)


def checkpoint_path(run_dir: Path, which: str = "best") -> Path:
    """``best`` (falls back to the latest), ``latest``, or ``step-N`` -> the folder."""
    steps = checkpoint_steps(run_dir)
    folder = Path(run_dir) / "checkpoints"
    if which == "best" and (folder / "best").is_dir():
        return folder / "best"
    if which in ("best", "latest"):
        if not steps:
            raise StudioError(
                f"run {Path(run_dir).name} has no checkpoint yet; wait for step "
                "eval_steps or stop it with Stop & save"
            )
        return folder / f"step-{steps[-1]}"
    if not (folder / which).is_dir():
        raise StudioError(
            f"run {Path(run_dir).name} has no checkpoint {which!r} "
            f"(has: best, {', '.join(f'step-{s}' for s in steps) or 'none'})"
        )
    return folder / which


def delete_run(run_id: str) -> dict[str, Any]:
    """Remove a finished run's folder; an active run must be stopped or aborted first."""
    path = run_path(run_id)
    status = reconcile(path)
    if status.get("state") in ACTIVE_STATES:
        raise StudioError(f"run {run_id} is {status['state']}; stop or abort it before deleting it")
    shutil.rmtree(path)
    return {"run_id": run_id, "deleted": True}
