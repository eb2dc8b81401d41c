"""The run store: ``runs/<run-id>/`` folders, their status, metrics and logs, read back truthfully.

Layout (DESIGN.md "Runs on disk"): config.yaml, command.txt, status.json (atomic), metrics.jsonl,
train.log, checkpoints/step-N + best/, samples/, STOP (stop and save), SKIP (skip the evaluation
after a stop), run.lock (held by the run's one trainer tree). Reading the run list also repairs it:
a run marked active whose supervisor is gone becomes failed (its leftover trainer is ended), with
the log's tail as the reason.
"""

from __future__ import annotations

import fcntl
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
STATES = ("queued", "running", "stopping", "stopped", "completed", "failed", "aborted")
# What an earlier session of a run said about its end; a resumed run carries none of it.
END_FIELDS = ("finished", "returncode", "log_tail", "error", "phase", "saved_step", "queue_note")
QUEUE_GRACE_S = 30.0  # a queued run whose supervisor is not up yet is still being launched
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
        raise StudioError(f"no run named {run_id!r}; pick one in the run list",
                          local_detail=f"runs in {runs_dir()}: {known}")
    return path


def read_status(run_dir: Path) -> dict[str, Any]:
    return read_json(Path(run_dir) / "status.json", default={}) or {}


def write_status(run_dir: Path, forget: tuple[str, ...] = (), **updates: Any) -> dict[str, Any]:
    """Merge ``updates`` into status.json (dropping the ``forget`` keys) and write it atomically.

    The read-merge-write holds a lock on ``.status.lock``, so the supervisor, the trainer and the UI
    never lose each other's updates. Returns the new status.
    """
    if "state" in updates and updates["state"] not in STATES:
        raise ValueError(f"state must be one of {STATES} (got {updates['state']!r})")
    with open(Path(run_dir) / ".status.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        status = read_status(run_dir)
        for key in forget:
            status.pop(key, None)
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
    """If the run says it is active but its supervisor is gone, end what is left and mark it failed."""
    from .failures import explain_failure
    from .process import end_tree

    status = read_status(run_dir)
    if status.get("state") not in ACTIVE_STATES or pid_alive(status.get("pid")):
        return status
    since = status.get("queued_at") or status.get("created", 0)
    if status.get("state") == "queued" and time.time() - since < QUEUE_GRACE_S:
        return status  # the launcher is still starting it
    leftovers = end_tree(Path(run_dir), grace_s=2.0)
    tail = log_tail(run_dir)
    if leftovers:
        reason = ("the run's supervisor was killed from outside the studio; its trainer was ended with "
                  "it so that one process writes this run; press Resume to continue from the last checkpoint")
    else:
        reason = explain_failure(tail, None)
        if reason.startswith("the run's process is gone"):
            reason = ("the run's processes are gone without recording an end (killed from outside the "
                      "studio, or the machine restarted); press Resume to continue from the last checkpoint")
    return write_status(run_dir, state="failed", error=reason, log_tail=tail[-2000:], finished=time.time())


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
        "preset": status.get("preset", ""),
        "phase": status.get("phase"),
        "queue_note": status.get("queue_note") if status.get("state") == "queued" else None,
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
    """End every process of the run, then remove its folder (nothing is left to recreate it)."""
    from .process import LAUNCH_LOCK, RUN_LOCK, end_tree, is_locked, unlock, wait_lock

    path = run_path(run_id)
    launch = wait_lock(path / LAUNCH_LOCK)
    try:
        ended = end_tree(path)
        if is_locked(path / RUN_LOCK):
            raise StudioError(f"a process outside this studio's reach still holds run {run_id}; "
                              "end it (see run.lock's holder with fuser) and delete again")
        shutil.rmtree(path)
    finally:
        unlock(launch)
    return {"run_id": run_id, "deleted": True, "processes_ended": ended}


_CHECKPOINT_MARKS = ("studio_checkpoint.json", "config.json", "adapter_config.json")


def checkpoint_choices() -> list[tuple[str, str]]:
    """(label, ``runs/<run>/<checkpoint>``) for every loadable checkpoint of every run, newest run first.

    What a model picker lists; read from disk on each call, so a run started after the app is there.
    """
    out = []
    for row in list_runs():
        folder = runs_dir() / row["run_id"] / "checkpoints"
        names = ["best"] if (folder / "best").is_dir() else []
        names += [f"step-{n}" for n in reversed(checkpoint_steps(folder.parent))]
        for name in names:
            if any((folder / name / f).is_file() for f in _CHECKPOINT_MARKS):
                out.append((f"{row['run_id']} · {name} ({row['state']})", f"runs/{row['run_id']}/{name}"))
    return out
