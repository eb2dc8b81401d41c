"""Before Start, in seconds and offline: the default preset for this machine, what a config will cost
here (memory and time), and every blocker with its fix.

Nothing here loads a model or calls the hub's API: a base model is looked up in a local folder or
the local hub cache, and the network is only probed (one TCP connect, at most ~1.5 s) when the hub
is not switched off with HF_HUB_OFFLINE.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from ..common.errors import StudioError
from .checks import Machine, machine_problems, probe_machine
from .config import TrainConfig
from .data import SPECIALS

SCRATCH_VOCAB = 512  # a dataset's event vocabulary is a few hundred words
# Share of the measured matmul speed a training step reaches: scratch_small (13.3 M) on this 2-core
# CPU trained at 32 GFLOP/s (15 s a step of ~6,000 tokens) where one numpy thread multiplied at 106
# (x 2 threads); a GPU step typically reaches a third of peak.
TRAIN_EFFICIENCY = {"cpu": 0.15, "cuda": 0.35}
FRAMEWORK_GB = 0.6  # python, torch and the CUDA context
_OFFLINE_VALUES = ("1", "true", "yes", "on")


def default_preset(machine: Machine | None = None) -> str:
    """The preset a first run should use here: QLoRA on a CUDA GPU with bitsandbytes, else scratch."""
    m = machine or probe_machine()
    return "qlora_fast" if m.cuda_devices and m.has_bitsandbytes else "scratch_small"


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES


def local_model_config(source: str) -> dict[str, Any] | None:
    """config.json of a local model folder, or of a hub id already in the local cache; None when absent."""
    if not source:
        return None
    folder = Path(source).expanduser()
    path: Path | str | None = folder / "config.json" if folder.is_dir() else None
    if path is None and re.fullmatch(r"[\w.-]+/[\w.-]+", source):
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, "config.json")
        path = found if isinstance(found, str) else None
    if path is None or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def hub_reachable(timeout_s: float = 1.5) -> bool:
    """One TCP connect to huggingface.co (DNS included) within ``timeout_s``."""
    import socket

    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection(("huggingface.co", 443), timeout=timeout_s).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s + 0.2)
    return bool(result and result[0])


def model_shape(cfg: TrainConfig, vocab_size: int | None = None) -> dict[str, int] | None:
    """Layers, hidden, intermediate, kv width and vocabulary of the model ``cfg`` trains, if known here."""
    if cfg.method == "scratch":
        return {"layers": cfg.scratch_layers, "hidden": cfg.scratch_hidden, "kv": cfg.scratch_hidden,
                "intermediate": cfg.scratch_intermediate, "tied": 1,
                "vocab": (vocab_size or SCRATCH_VOCAB) + len(SPECIALS)}
    config = local_model_config(cfg.base_model)
    if not config:
        return None
    hidden = int(config.get("hidden_size", 0))
    heads = int(config.get("num_attention_heads", 1)) or 1
    kv_heads = int(config.get("num_key_value_heads", heads))
    return {"layers": int(config.get("num_hidden_layers", 0)), "hidden": hidden,
            "kv": hidden * kv_heads // heads, "intermediate": int(config.get("intermediate_size", 4 * hidden)),
            "vocab": int(config.get("vocab_size", 32000)) + (vocab_size or 0),
            "tied": int(bool(config.get("tie_word_embeddings", False)))}


def parameter_counts(cfg: TrainConfig, shape: dict[str, int] | None) -> tuple[int, int] | None:
    """(all parameters, trained parameters): Llama-shaped layers and norms, embeddings, a head unless tied."""
    if shape is None:
        match = re.search(r"(\d+(?:\.\d+)?)\s*[Bb]\b", cfg.base_model)  # "Qwen2.5-0.5B" -> 0.5e9
        if not match:
            return None
        total = int(float(match.group(1)) * 1e9)
        return total, total // 100 if cfg.uses_lora else total
    h, kv, inter, layers = shape["hidden"], shape["kv"], shape["intermediate"], shape["layers"]
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * inter + 2 * h
    total = layers * per_layer + (2 - shape["tied"]) * shape["vocab"] * h + h
    if not cfg.uses_lora:
        return total, total
    r, widths = cfg.lora_rank, {"q_proj": h + h, "k_proj": h + kv, "v_proj": h + kv, "o_proj": h + h,
                                "gate_proj": h + inter, "up_proj": h + inter, "down_proj": inter + h}
    lora = layers * r * sum(widths.get(m, 2 * h) for m in cfg.lora_target_modules)
    return total, lora


@functools.lru_cache(maxsize=4)
def matmul_gflops(device: str) -> float:
    """This machine's matrix-multiply speed on ``device`` (GFLOP/s): the best of ~0.3 s of tries (torch
    on a GPU; on a CPU numpy on one thread, so that a Check needs no torch import, times the threads a
    trainer uses: BLAS's own threading swings 7-150 GFLOP/s on a busy 2-core machine, one thread does not)."""
    size = 2048 if device == "cuda" else 384
    if device == "cuda":
        import torch

        a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
        return _best_gflops(lambda: (a @ a).sum().item(), size)
    import numpy as np
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    with threadpool_limits(1):
        return _best_gflops(lambda: float((a @ a)[0, 0]), size) * trainer_threads()


def trainer_threads() -> int:
    """Threads a CPU trainer computes with: torch's default, this process's cores (OMP_NUM_THREADS caps it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(cores, int(limit))) if limit.isdigit() and int(limit) > 0 else cores


def _best_gflops(run, size: int) -> float:
    run()
    times, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < 0.3 or len(times) < 3:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 2 * size**3 / min(times) / 1e9


def free_memory_gb(machine: Machine, cfg: TrainConfig) -> tuple[float, str]:
    """(GB free where the model will sit, its name): the first GPU, else RAM (within a cgroup limit)."""
    if machine.cuda_devices and cfg.device in ("auto", "cuda") and cfg.backend == "torch":
        import torch

        free, _ = torch.cuda.mem_get_info(0)
        return free / 1e9, "GPU memory"
    import psutil

    free = psutil.virtual_memory().available
    for path in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < free:
            free = int(text) - psutil.Process().memory_info().rss
    return free / 1e9, "RAM"


def mean_sequence_tokens(cfg: TrainConfig) -> float | None:
    """Mean tokens per training sequence of the config's dataset (None when it is not tokenized)."""
    from .data import read_split

    try:
        rows = read_split(cfg.dataset, "train")
    except StudioError:
        return None
    lengths = [len(r.get("ids") or r["text"].split()) for r in rows]
    return sum(lengths) / len(lengths) if lengths else None


def estimate(cfg: TrainConfig, machine: Machine | None = None, vocab_size: int | None = None) -> dict[str, Any]:
    """Expected peak memory (GB) and time (s per step, whole run) of ``cfg`` on this machine.

    A rough model, stated as such: weights + optimizer state + activations, and 6 (full) or 4 (LoRA,
    no weight gradients) x parameters FLOPs per token at a share of the matmul speed measured here.
    """
    m = machine or probe_machine()
    shape = model_shape(cfg, vocab_size)
    counts = parameter_counts(cfg, shape)
    if counts is None:
        return {"known": False, "text": f"size unknown: {cfg.base_model or 'no base model'} is not on this "
                                        "machine yet, so memory and time cannot be estimated"}
    total, trained = counts
    half = cfg.precision in ("bf16", "fp16")
    on_gpu = bool(m.cuda_devices) and cfg.device in ("auto", "cuda") and cfg.backend == "torch"
    mean = mean_sequence_tokens(cfg)
    seq = min(cfg.max_seq_len, mean) if mean else cfg.max_seq_len
    tokens = cfg.batch_size * seq  # per micro-step
    # 1. memory: weights, optimizer (fp32 copy, gradient, two Adam moments), activations, logits
    weights = total * (0.55 if cfg.method == "qlora" else 2 if half else 4)
    hidden, layers = (shape or {}).get("hidden", 1024), (shape or {}).get("layers", 24)
    per_layer = tokens * hidden * (2 if cfg.gradient_checkpointing else 17) * (2 if half else 4)
    logits = tokens * (shape or {}).get("vocab", 32000) * 4 * 2
    memory_gb = (weights + trained * 16 + layers * per_layer + logits) / 1e9 + FRAMEWORK_GB
    # 2. time: FLOPs per optimizer step at the measured speed
    flops = (4 if cfg.uses_lora else 6) * total * tokens * cfg.grad_accum
    device = "cuda" if on_gpu else "cpu"
    speed = matmul_gflops(device) * 1e9 * TRAIN_EFFICIENCY[device]
    step_s = flops / speed / (cfg.num_processes if on_gpu else 1)
    steps = cfg.max_steps if cfg.max_steps > 0 else None
    free_gb, where = free_memory_gb(m, cfg)
    total_s = step_s * steps if steps else None
    text = (f"about {_count(total)} parameters ({_count(trained)} trained) · about {memory_gb:.1f} GB of "
            f"{where} ({free_gb:.1f} GB free) · about {_seconds(step_s)} a step on this "
            f"{'GPU' if on_gpu else 'CPU'}" + (f", {steps} steps ≈ {_seconds(total_s)}" if steps else "")
            + f" (rough: {seq:.0f} tokens a sequence, {speed / 1e9 / TRAIN_EFFICIENCY[device]:.0f} GFLOP/s measured here)")
    return {"known": True, "parameters": total, "trained_parameters": trained, "memory_gb": round(memory_gb, 2),
            "free_memory_gb": round(free_gb, 2), "memory_kind": where, "step_s": round(step_s, 3),
            "total_s": round(total_s, 1) if total_s else None, "device": device,
            "text": text}


def _count(n: float) -> str:
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def _seconds(s: float) -> str:
    if s < 1:
        return f"{s:.2f} s"
    if s < 120:
        return f"{s:.0f} s"
    return f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def preflight(cfg: TrainConfig, machine: Machine | None = None) -> dict[str, Any]:
    """Every blocker (each with its fix), notes, and the estimate; offline it answers in about a second."""
    from .data import dataset_dir, read_vocab

    m = machine or probe_machine()
    blockers = list(machine_problems(cfg, m))
    notes: list[str] = []
    vocab = None
    try:
        dataset_dir(cfg.dataset)
        vocab = len(read_vocab(cfg.dataset)) if cfg.method == "scratch" or cfg.vocab_mode == "added_tokens" else 0
    except StudioError as exc:
        blockers.append(f"{exc}; ingest and tokenize one in the Data tab, then pick it")
    if cfg.method != "scratch" and cfg.base_model and local_model_config(cfg.base_model) is None:
        model = cfg.base_model
        if Path(model).expanduser().exists():
            blockers.append(f"base model folder {model} has no config.json; give a Hugging Face model folder")
        elif hub_offline() or not hub_reachable():
            why = "the hub is switched off (HF_HUB_OFFLINE)" if hub_offline() else "the hub cannot be reached"
            blockers.append(f"base model {model} is not on this machine and {why}: download it once on a "
                            f"connected machine (huggingface-cli download {model}), give a local folder, "
                            "or pick the scratch_small preset")
        else:
            notes.append(f"base model {model} is downloaded from the hub at Start (not cached here yet)")
    result = estimate(cfg, m, vocab)
    if result.get("known") and result["memory_gb"] > result["free_memory_gb"]:
        blockers.append(f"this config needs about {result['memory_gb']:.1f} GB of {result['memory_kind']} but "
                        f"{result['free_memory_gb']:.1f} GB is free: lower batch_size or max_seq_len, turn on "
                        "gradient_checkpointing, or pick a smaller model")
    return {"runnable": not blockers, "blockers": blockers, "notes": notes, "estimate": result}
