"""The two processes of a run: the supervisor (``... supervise RUN_ID``) and its trainer (``... run``).

The supervisor takes the run's lock, waits in the queue for a trainer slot, starts the trainer (which
dies with it), waits, and records how the trainer ended when the trainer could not: killed by the
system's OOM killer only when the cgroup or kernel OOM counter rose, otherwise killed by a signal
from outside the studio. A signal to the supervisor ends the trainer too and is recorded the same way
(``aborted`` when the user pressed Abort).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ..common.errors import StudioError
from ..common.paths import REPO_ROOT
from .checks import check_runnable
from .config import TrainConfig
from .failures import explain_failure
from .process import RUN_LOCK, die_with_parent, oom_kill_count, try_lock, unlock
from .runs import ACTIVE_STATES, log_tail, pid_alive, read_status, run_path, runs_dir, write_status

log = logging.getLogger(__name__)
QUEUE_POLL_S = 0.5
ABORT_FILE = "ABORT"  # written by Abort just before it signals the tree


class _Signalled(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_signal(signum: int, _frame: Any) -> None:
    raise _Signalled(signum)


def parallel_runs() -> int:
    """How many trainers may run at once (STUDIO_PARALLEL_RUNS, default 1: the others queue)."""
    text = os.environ.get("STUDIO_PARALLEL_RUNS", "1")
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise StudioError(f"STUDIO_PARALLEL_RUNS must be 1-64 (got {text!r})")
    return int(text)


def supervise(run_id: str, resume_step: int = 0, trainer_argv: list[str] | None = None) -> dict[str, Any]:
    """Run the trainer of ``run_id`` as the only writer of its folder and record how it ended."""
    from .launcher import run_config
    from .launcher import trainer_argv as default_argv

    run_dir = run_path(run_id)
    # 1. one writer: a second supervisor of the same run leaves without touching anything
    lock = try_lock(run_dir / RUN_LOCK)
    if lock is None:
        log.warning("run %s already has a trainer (run.lock is held); this supervisor leaves", run_id)
        return {"run_id": run_id, "state": "refused", "reason": "another trainer holds this run"}
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _raise_signal)
    write_status(run_dir, pid=os.getpid(), pgid=os.getpgid(0))
    proc = None
    try:
        # 2. the queue: one trainer slot per STUDIO_PARALLEL_RUNS
        slot = wait_for_slot(run_dir)
        if slot is None:
            status = write_status(run_dir, state="stopped", finished=time.time(), phase=None,
                                  error="stopped while queued, before it trained (nothing was saved)")
            return {"run_id": run_id, "state": status["state"]}
        # 3. the trainer, which the kernel ends when this process ends
        argv = trainer_argv or default_argv(run_dir, run_config(run_dir), resume_step)
        oom_before, me = oom_kill_count(), os.getpid()
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, pass_fds=(lock, slot),
                                env=dict(os.environ, STUDIO_SUPERVISED="1"),
                                preexec_fn=lambda: die_with_parent(me))
        write_status(run_dir, trainer_pid=proc.pid)
        returncode = proc.wait()
        return _record_end(run_dir, returncode, _rose(oom_before))
    except _Signalled as exc:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        return _record_end(run_dir, -exc.signum, False, supervisor_signalled=True)
    finally:
        unlock(lock)


def _rose(before: int | None) -> bool | None:
    after = oom_kill_count()
    return None if before is None or after is None else after > before


def _record_end(run_dir: Path, returncode: int, oom: bool | None,
                supervisor_signalled: bool = False) -> dict[str, Any]:
    """The final state when the trainer did not write one: aborted, or failed with an honest cause."""
    status = read_status(run_dir)
    if status.get("state") in ACTIVE_STATES:
        tail = log_tail(run_dir)
        if (run_dir / ABORT_FILE).exists():
            updates = {"state": "aborted", "error": ABORTED}
        else:
            error = explain_failure(tail, returncode, oom)
            if supervisor_signalled:
                error = error.replace("killed by a signal", "the run's supervisor was killed by a signal", 1)
            updates = {"state": "failed", "error": error}
        status = write_status(run_dir, returncode=returncode, finished=time.time(), log_tail=tail[-2000:],
                              phase=None, **updates)
    return {"run_id": run_dir.name, "state": status.get("state"), "returncode": returncode}


ABORTED = "aborted by the user (no checkpoint was saved at that moment; Resume continues from the last one)"


def wait_for_slot(run_dir: Path) -> int | None:
    """Queue until a trainer slot is free and it is this run's turn; None when Stop came first."""
    write_status(run_dir, state="queued", waiting_since=time.time())
    slots = runs_dir() / ".slots"
    last_note = None
    while True:
        if (run_dir / "STOP").exists():
            (run_dir / "STOP").unlink(missing_ok=True)
            return None
        if _first_in_line(run_dir):
            for index in range(parallel_runs()):
                fd = try_lock(slots / f"slot-{index}.lock")
                if fd is not None:
                    write_status(run_dir, forget=("waiting_since", "queue_note"))
                    return fd
        note = _queue_note(run_dir)
        if note != last_note:
            write_status(run_dir, queue_note=note)
            last_note = note
        time.sleep(QUEUE_POLL_S)


def _waiting() -> list[tuple[float, str]]:
    """(queued time, run id) of every run waiting for a slot, first come first."""
    out = []
    for folder in runs_dir().iterdir():
        status = read_status(folder) if (folder / "status.json").is_file() else {}
        # a queued run whose supervisor lives is in line even before that supervisor reaches the queue,
        # so two runs started together train in the order they were started
        if status.get("state") == "queued" and pid_alive(status.get("pid")):
            out.append((status.get("queued_at") or status.get("created") or status.get("waiting_since") or 0.0,
                        folder.name))
    return sorted(out)


def _first_in_line(run_dir: Path) -> bool:
    line = _waiting()
    return not line or line[0][1] == run_dir.name or run_dir.name not in [n for _, n in line]


def _queue_note(run_dir: Path) -> str:
    busy = [f.name for f in runs_dir().iterdir() if (f / "status.json").is_file() and f != run_dir
            and read_status(f).get("state") in ("running", "stopping")]
    ahead = [n for _, n in _waiting() if n != run_dir.name]
    parts = [f"waiting for {', '.join(busy[:3])} to finish" if busy else "waiting for a trainer slot"]
    if ahead:
        parts.append(f"{len(ahead)} queued run(s) go first")
    return "; ".join(parts) + f" (STUDIO_PARALLEL_RUNS={parallel_runs()} trainer(s) at a time)"


def run_foreground(cfg: TrainConfig, run_dir: Path | None = None, resume_step: int = 0) -> dict[str, Any]:
    """Train in this process (what the supervisor runs; also usable directly from a terminal)."""
    from .backends import get_backend
    from .launcher import create_run

    check_runnable(cfg)
    rank = int(os.environ.get("RANK", "0"))
    supervised = bool(os.environ.get("STUDIO_SUPERVISED"))
    if supervised:
        die_with_parent(None)  # a torchrun worker ends with torchrun, which ends with the supervisor
    if run_dir is None:
        run_dir = create_run(cfg, pid=os.getpid())
    run_dir = Path(run_dir)
    lock = None
    if rank == 0 and not supervised:  # from a terminal: this process is the run's one writer
        lock = try_lock(run_dir / RUN_LOCK)
        if lock is None:
            raise StudioError(f"run {run_dir.name} already has a trainer (its run.lock is held); "
                              "stop it or wait for it to end")
    if rank == 0 and not pid_alive(read_status(run_dir).get("pid")):
        write_status(run_dir, pid=os.getpid())
    tee = _LogTee(run_dir / "train.log") if rank == 0 and not supervised else None
    try:
        summary = get_backend(cfg.backend).train(cfg, run_dir, resume_step)
    except BaseException as exc:
        if rank == 0:
            reason = str(exc) if isinstance(exc, StudioError) else explain_failure(traceback.format_exc(), 1)
            write_status(run_dir, state="failed", error=reason, finished=time.time(), phase=None)
        if tee is not None:  # the CLI prints the error after the tee is gone: keep it in train.log too
            tee.file.write(f"error: {exc}\n" if isinstance(exc, StudioError) else traceback.format_exc())
        raise
    finally:
        if tee is not None:
            tee.close()
        unlock(lock)
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
