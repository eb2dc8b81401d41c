"""One process tree with one writer per run: locks, the parent-death signal, finding and ending a tree.

A run's supervisor holds ``run.lock`` (an ``fcntl.flock``) and hands the open lock to its trainer, so
the lock stays held while either lives and a second trainer cannot start on the same folder. The
trainer asks the kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so it never outlives
its supervisor. Whatever is left of a tree (an orphan from an older version, a torchrun worker) is
found by its command line and ended before a run is resumed or deleted.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
import time
from pathlib import Path

RUN_LOCK = "run.lock"
LAUNCH_LOCK = "launch.lock"
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None, sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only).

    Args:
        parent_pid: the parent this process expects; if it is already gone, this process exits now.
    Returns True when the kernel took the request.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        taken = libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if parent_pid and os.getppid() != parent_pid:  # the parent died before the request was in place
        os.kill(os.getpid(), sig)
    return taken


def try_lock(path: Path) -> int | None:
    """An open file descriptor holding an exclusive lock on ``path``, or None if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def wait_lock(path: Path, timeout_s: float = 30.0) -> int:
    """Block (up to ``timeout_s``) until the lock on ``path`` is ours; returns its descriptor."""
    deadline = time.monotonic() + timeout_s
    while True:
        fd = try_lock(path)
        if fd is not None:
            return fd
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} stayed locked for {timeout_s:.0f} s")
        time.sleep(0.05)


def unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing our last descriptor releases the flock


def is_locked(path: Path) -> bool:
    """True while some process holds the lock on ``path``."""
    if not path.exists():
        return False
    fd = try_lock(path)
    unlock(fd)
    return fd is None


def run_processes(run_dir: Path) -> list:
    """Live processes (psutil) of this run: its supervisor, trainer and torchrun workers, by command line."""
    import psutil

    marks = (f"supervise {run_dir.name}", str(run_dir / "config.yaml"), f"--run-dir {run_dir}")
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        info = proc.info
        if info["pid"] == os.getpid() or info["status"] == psutil.STATUS_ZOMBIE or not info["cmdline"]:
            continue
        line = " ".join(info["cmdline"])
        if "pipelines.train" in line and any(m in line for m in marks):
            found.append(proc)
    return found


def end_tree(run_dir: Path, grace_s: float = 5.0) -> int:
    """SIGTERM every process of the run, SIGKILL what is left after ``grace_s``.

    Returns how many processes were found alive at the start.
    """
    import psutil

    procs = run_processes(run_dir)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in procs:
            try:
                proc.send_signal(sig)
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(procs, timeout=grace_s if sig == signal.SIGTERM else 5.0)  # reaps ours
        if not alive and not run_processes(run_dir):
            break
        procs = alive + [p for p in run_processes(run_dir) if p not in alive]
    return len(procs)


def oom_kill_count() -> int | None:
    """OOM kills counted by this process's memory cgroup, else by the kernel; None when unreadable."""
    for path in _cgroup_memory_files():
        count = read_counter(path, "oom_kill")
        if count is not None:
            return count
    return read_counter(Path("/proc/vmstat"), "oom_kill")


def _cgroup_memory_files() -> list[Path]:
    """memory.events (cgroup v2) or memory.oom_control (v1) of the cgroup this process is in."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        _, controllers, rel = line.split(":", 2)
        rel = rel.lstrip("/")
        if controllers == "":
            out.append(Path("/sys/fs/cgroup") / rel / "memory.events")
        elif "memory" in controllers.split(","):
            out.append(Path("/sys/fs/cgroup/memory") / rel / "memory.oom_control")
    return out


def read_counter(path: Path, key: str) -> int | None:
    """The integer after ``key`` in a ``key value`` per line file, None when absent or unreadable."""
    try:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return int(parts[1])
    except (OSError, ValueError):
        return None
    return None
