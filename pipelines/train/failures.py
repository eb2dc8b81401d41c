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


def explain_failure(log_tail: str, returncode: int | None) -> str:
    """A sentence for a run that ended without finishing.

    Args:
        log_tail: the last lines of train.log.
        returncode: the trainer's exit status (negative = killed by that signal), None if unknown.
    """
    text = log_tail or ""
    for needles, message in _PATTERNS:
        if any(n in text for n in needles):
            return message
    if returncode is not None and returncode in (-signal.SIGKILL, 137):
        return "killed by the system, probably out of memory: " + _SHRINK + ", or close other programs"
    if returncode is not None and returncode in (-signal.SIGTERM, 143):
        return "terminated by a signal (someone or something stopped the process); press Resume to continue"
    for line in reversed(text.splitlines()):
        if line.startswith("error: "):  # a StudioError printed by the CLI: a bad config or input
            return f"bad config or input: {line[7:].strip()}"
    last = _last_error_line(text)
    if returncode is None:
        return f"the run's process is gone without finishing{': ' + last if last else ''}; see train.log"
    return f"the trainer exited with status {returncode}{': ' + last if last else ''}; see train.log"


def _last_error_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        stripped = line.strip()
        if stripped and ("Error" in stripped or "Exception" in stripped):
            return stripped[:300]
    return ""
