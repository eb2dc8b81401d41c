"""Turn a dead run's exit code and log tail into one plain sentence with a suggestion."""

from __future__ import annotations

import signal

_SHRINK = "lower batch_size or max_seq_len, turn on gradient_checkpointing"

# (substring to find in the log, message). Checked in order; the first match wins.
_PATTERNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (
            "CUDA out of memory",
            "torch.OutOfMemoryError",
            "CUBLAS_STATUS_ALLOC_FAILED",
            "cudaErrorMemoryAllocation",
        ),
        f"the GPU ran out of memory: {_SHRINK}, or pick a QLoRA preset",
    ),
    (
        (
            "Insufficient Memory",
            "kIOGPUCommandBufferCallbackErrorOutOfMemory",
            "[METAL]",
            "MPS backend out of memory",
        ),
        f"Apple GPU (Metal) memory ran out: {_SHRINK}, or pick the mlx_16gb preset with a smaller model",
    ),
    (
        (
            "MemoryError",
            "Cannot allocate memory",
            "DefaultCPUAllocator: can't allocate",
            "std::bad_alloc",
            "[enforce fail at alloc_cpu",
        ),
        f"the computer ran out of memory (RAM): {_SHRINK}, or pick a smaller base model",
    ),
)


def explain_failure(log_tail: str, returncode: int | None, oom_killed: bool | None = False) -> str:
    """A sentence for a run that ended without finishing.

    Args:
        log_tail: the last lines of train.log.
        returncode: the trainer's exit status (negative = killed by that signal), None if unknown.
        oom_killed: whether the system's OOM counters rose while the trainer ran (None: unreadable).
    """
    text = log_tail or ""
    for needles, message in _PATTERNS:
        if any(n in text for n in needles):
            return message
    if oom_killed:
        return "the system ran out of memory and killed the trainer (its OOM counter rose): " + _SHRINK
    signum = -returncode if returncode is not None and returncode < 0 else None
    if returncode is not None and returncode > 128 and returncode - 128 in _SIGNALS:
        signum = returncode - 128
    if signum is not None:
        name = _SIGNALS.get(signum, f"signal {signum}")
        unsure = " (the memory counters are not readable here)" if oom_killed is None else ""
        return (f"killed by a signal from outside the studio ({name}){unsure}; "
                "press Resume to continue from the last checkpoint")
    for line in reversed(text.splitlines()):
        if line.startswith("error: "):  # a StudioError printed by the CLI: a bad config or input
            return f"bad config or input: {line[7:].strip()}"
    last = _last_error_line(text)
    if returncode is None:
        return f"the run's process is gone without finishing{': ' + last if last else ''}; see train.log"
    return f"the trainer exited with status {returncode}{': ' + last if last else ''}; see train.log"


_SIGNALS = {s.value: s.name for s in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                                     signal.SIGQUIT, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS)}


def _last_error_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        stripped = line.strip()
        if stripped and ("Error" in stripped or "Exception" in stripped):
            return stripped[:300]
    return ""
