"""What a running trainer writes about itself: status.json, metrics.jsonl, heartbeat, STOP checks.

Backend-neutral: the torch callback and the mlx callback both feed one Recorder. Only the main
process (rank 0) writes; other ranks get a Recorder with ``is_main=False`` that writes nothing.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from .runs import append_metrics, read_status, write_status

HEARTBEAT_EVERY_S = 5.0


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def peak_memory_gb() -> float:
    """Peak memory of this process: the GPU's when training on CUDA, else resident host memory."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return round(torch.cuda.max_memory_allocated() / 1e9, 3)
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return round(torch.mps.driver_allocated_memory() / 1e9, 3)
    except ImportError:
        pass
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1e9 if sys.platform == "darwin" else 1e6), 3)


class Recorder:
    """Status, metrics and heartbeat of one run directory.

    Args:
        run_dir: the run's folder.
        total_steps: optimizer steps the run aims for.
        start_step: the step this session starts at (non-zero after Resume).
    """

    def __init__(self, run_dir: Path, total_steps: int, start_step: int = 0, is_main: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.total_steps = total_steps
        self.start_step = start_step
        self.is_main = is_main
        self.t0 = time.time()
        self._last_beat = 0.0
        self._last_tokens: tuple[float, float] | None = None  # (time, tokens seen)
        self.step = start_step
        self.stopping = False  # set once Stop & save is seen: save first, evaluate after
        self._last_phase = 0.0
        self.best_eval_loss: float | None = (
            read_status(self.run_dir).get("best_eval_loss") if start_step else None
        )

    def begin(self, **info: Any) -> None:
        """Mark the run running (after the model and data loaded)."""
        if not self.is_main:
            return
        if self.start_step:
            append_metrics(self.run_dir, {"event": "resume", "step": self.start_step, "time": time.time()})
        write_status(
            self.run_dir,
            state="running",
            step=self.start_step,
            total_steps=self.total_steps,
            heartbeat=time.time(),
            started=self.t0,
            worker_pid=os.getpid(),
            error=None,
            **info,
        )

    def log(self, step: int, **values: Any) -> dict[str, Any] | None:
        """Append one metrics line (step, loss, eval_loss, lr, ...) with elapsed, ETA and tokens/s."""
        if not self.is_main:
            return None
        now = time.time()
        self.step = step
        record: dict[str, Any] = {"step": step, "time": now, "elapsed_s": round(now - self.t0, 2)}
        tokens = values.pop("tokens_seen", None)
        if tokens is not None:
            if self._last_tokens and now > self._last_tokens[0] and tokens > self._last_tokens[1]:
                record["tokens_per_s"] = round(
                    (tokens - self._last_tokens[1]) / (now - self._last_tokens[0]), 1
                )
            self._last_tokens = (now, tokens)
        record.update({k: v for k, v in values.items() if v is not None})
        if record.get("eval_loss") is not None:
            record["perplexity"] = round(math.exp(min(50.0, record["eval_loss"])), 3)
            if self.best_eval_loss is None or record["eval_loss"] < self.best_eval_loss:
                self.best_eval_loss = record["eval_loss"]
                write_status(self.run_dir, best_eval_loss=self.best_eval_loss)
        record.setdefault("peak_mem_gb", peak_memory_gb())
        done = step - self.start_step
        if done > 0 and self.total_steps:
            record["eta_s"] = round((now - self.t0) / done * max(0, self.total_steps - step), 1)
        append_metrics(self.run_dir, record)
        self._beat(now, step, force=True)
        return record

    def heartbeat(self, step: int) -> None:
        self.step = step
        if self.is_main:
            self._beat(time.time(), step)

    def _beat(self, now: float, step: int, force: bool = False) -> None:
        if force or now - self._last_beat >= HEARTBEAT_EVERY_S:
            self._last_beat = now
            write_status(self.run_dir, heartbeat=now, step=step)

    def stop_requested(self) -> bool:
        """True once someone created the STOP file (Stop & save)."""
        return (self.run_dir / "STOP").exists()

    def skip_requested(self) -> bool:
        """True once someone asked to skip the evaluation and samples after Stop & save."""
        return (self.run_dir / "SKIP").exists()

    def phase(self, text: str, every_s: float = 0.0, **info: Any) -> None:
        """What the run is doing besides stepping (saving, evaluating, sampling), for the UI."""
        now = time.time()
        if self.is_main and now - self._last_phase >= every_s:
            self._last_phase = now
            write_status(self.run_dir, phase=text, heartbeat=now, **info)

    def finish(self, state: str, step: int, **info: Any) -> None:
        """Final status: completed, or stopped after Stop & save."""
        if not self.is_main:
            return
        (self.run_dir / "STOP").unlink(missing_ok=True)
        (self.run_dir / "SKIP").unlink(missing_ok=True)
        write_status(
            self.run_dir, forget=("phase",), state=state, step=step, heartbeat=time.time(),
            finished=time.time(), **info
        )
