"""Refuse, before launch, a config this machine cannot run: the reason and what to pick instead."""

from __future__ import annotations

import importlib.util
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import StudioError
from .config import TrainConfig


@dataclass(frozen=True)
class Machine:
    """What this computer offers, probed without loading any model."""

    cuda_devices: int
    mps: bool
    cpu_bf16: bool
    has_bitsandbytes: bool
    has_peft: bool
    has_mlx: bool
    has_torchrun: bool


def probe_machine() -> Machine:
    """Look at the hardware and the installed packages (imports torch only where a GPU may be)."""
    apple = platform.system() == "Darwin" and platform.machine() == "arm64"
    if "torch" in sys.modules or apple or _nvidia_present():
        import torch

        cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
        mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    else:  # no NVIDIA driver, not a Mac: no GPU torch could use, known without importing it
        cuda, mps = 0, False
    return Machine(
        cuda_devices=cuda,
        mps=mps,
        cpu_bf16=_cpu_has_bf16(),
        has_bitsandbytes=_has("bitsandbytes"),
        has_peft=_has("peft"),
        has_mlx=_mlx_importable(),
        has_torchrun=_has("torch.distributed.run") if "torch" in sys.modules else _has("torch"),
    )


def _nvidia_present() -> bool:
    """An NVIDIA driver with a device (Linux /proc or /dev), or any non-Linux system (ask torch)."""
    if not sys.platform.startswith("linux"):
        return True
    gpus = Path("/proc/driver/nvidia/gpus")
    return (gpus.is_dir() and any(gpus.iterdir())) or Path("/dev/nvidia0").exists()


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _mlx_importable() -> bool:
    if not (_has("mlx") and _has("mlx_lm")):
        return False
    try:
        import mlx.core  # noqa: F401  (plain `mlx` without a backend installs but fails here on Linux)
    except Exception:
        return False
    return True


def _cpu_has_bf16() -> bool:
    """bf16 arithmetic in hardware: AVX512-BF16 / AMX on x86, Apple silicon and ARMv8.6+."""
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_bf16", "amx_bf16", " bf16"))


def check_runnable(cfg: TrainConfig, machine: Machine | None = None) -> None:
    """Raise StudioError with the reason and the alternative when ``cfg`` cannot run here."""
    problems = machine_problems(cfg, machine)
    if problems:
        raise StudioError(problems[0])


def machine_problems(cfg: TrainConfig, machine: Machine | None = None) -> list[str]:
    """Every reason ``cfg`` cannot run on this machine, each with what to pick instead."""
    m = machine or probe_machine()
    out: list[str] = []
    if cfg.tracking != "none" and not _has(cfg.tracking):
        out.append(
            f"tracking {cfg.tracking} is chosen but the {cfg.tracking} package is not installed "
            f"(pip install {cfg.tracking}); pick tracking none (metrics.jsonl is always written)"
        )
    gpu = m.cuda_devices > 0
    if cfg.backend == "mlx":
        if not m.has_mlx:
            out.append(
                "backend mlx needs mlx and mlx-lm, which cannot be imported here "
                "(Apple silicon: pip install mlx-lm; Linux: pip install 'mlx[cpu]' mlx-lm); "
                "pick backend torch instead"
            )
        if cfg.vocab_mode != "text":
            out.append(
                "backend mlx trains LoRA layers only, so the music tokens cannot be added as new "
                "tokens; set vocab_mode text, or pick backend torch for vocab_mode added_tokens"
            )
        if cfg.method not in ("lora", "qlora", "full"):
            out.append(f"backend mlx runs lora, qlora or full (got {cfg.method}); pick backend torch")
        if cfg.num_processes > 1:
            out.append("backend mlx runs one process here; set num_processes 1")
        return out
    if cfg.method in ("lora", "qlora") and not m.has_peft:
        out.append(f"method {cfg.method} needs peft (pip install -r requirements/train.txt)")
    if cfg.method == "qlora" and not m.has_bitsandbytes:
        alternative = "backend mlx with method qlora" if m.has_mlx else "method lora (more memory) or full"
        out.append(
            "method qlora needs bitsandbytes for 4-bit weights, which is not installed "
            f"(pip install bitsandbytes); pick {alternative} instead"
        )
    if cfg.method != "scratch" and not cfg.base_model:
        out.append(
            f"method {cfg.method} fine-tunes a base model: set base_model to a local folder or a "
            "hub id (e.g. Qwen/Qwen2.5-0.5B), or pick method scratch"
        )
    if cfg.device == "cuda" and not gpu:
        out.append(
            "device cuda was chosen but this machine has no NVIDIA GPU; pick device auto or cpu"
        )
    if cfg.device == "mps" and not m.mps:
        out.append("device mps was chosen but no Apple GPU is available here; pick device auto or cpu")
    on_gpu = gpu and cfg.device in ("auto", "cuda")
    if cfg.precision == "bf16" and not on_gpu and not m.cpu_bf16:
        out.append(
            "precision bf16 needs a GPU or a CPU with bf16 instructions, and this machine has "
            "neither; pick precision fp32"
        )
    if cfg.precision == "fp16" and not on_gpu:
        out.append(
            "precision fp16 (mixed precision) needs a CUDA GPU; pick precision fp32 "
            "(or bf16 on a CPU that has it)"
        )
    if cfg.num_processes > 1:
        if not m.has_torchrun:
            out.append("num_processes > 1 needs torch.distributed (torchrun); set num_processes 1")
        if cfg.device == "cuda" and cfg.num_processes > m.cuda_devices:
            out.append(
                f"num_processes {cfg.num_processes} asks for one GPU each but this machine has "
                f"{m.cuda_devices}; set num_processes {max(1, m.cuda_devices)} or device cpu"
            )
    return out
