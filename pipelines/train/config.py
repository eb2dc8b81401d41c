"""The one training config: every knob of a run, with its default and why, checked on construction.

Presets in ``configs/train/*.yaml`` override these defaults; the UI form is derived from these
fields (``form_fields``); a run directory keeps the fully resolved copy as ``config.yaml``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..common.config import from_dict, load_config, to_dict
from ..common.errors import StudioError
from ..common.paths import configs_dir

BACKENDS = ("torch", "mlx")
METHODS = ("lora", "qlora", "full", "scratch")
LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainConfig:
    """A training run: data, model, method, optimisation, checkpoints, samples and devices."""

    # --- what to train on and from ---
    dataset: str = ""  # a dataset name under <workspace>/datasets/
    base_model: str = ""  # local folder or hub id (e.g. Qwen/Qwen2.5-0.5B); empty for scratch
    backend: Literal["torch", "mlx"] = "torch"
    method: Literal["lora", "qlora", "full", "scratch"] = "lora"
    vocab_mode: Literal["added_tokens", "text"] = (
        "added_tokens"  # music tokens as single tokens or plain text
    )
    run_name: str = ""  # a readable label that prefixes the run id
    init_from: str = ""  # a checkpoint to start from (Continue = stage 2 from stage 1's best)
    # --- LoRA (rank 16 / alpha 32 is the common starting point for 0.5-7B models) ---
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: list(LLAMA_TARGETS))
    # --- optimisation ---
    learning_rate: float = 2e-4  # LoRA; a full fine-tune wants ~1e-5, scratch ~1e-3
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_steps: int = 200  # optimizer steps; -1 = run num_epochs instead
    num_epochs: float = 1.0
    batch_size: int = 1  # sequences per device per micro-step
    grad_accum: int = 8  # micro-steps per optimizer step
    max_seq_len: int = 1024  # tokens; longer sequences are cut into windows
    gradient_checkpointing: bool = False  # trades ~30% speed for much less activation memory
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    seed: int = 42
    # --- logging, evaluation, checkpoints ---
    logging_steps: int = 10
    eval_steps: int = 50  # evaluate, checkpoint and sample every this many steps
    keep_checkpoints: int = 3  # step-N folders kept (best/ is kept besides)
    eval_max_sequences: int = 64  # validation sequences used per evaluation (0 = all)
    # --- samples at each checkpoint ---
    sample_count: int = 2  # sequences sampled per checkpoint (0 = none)
    sample_max_new_tokens: int = 128
    sample_temperature: float = 1.0
    sample_charts: list[str] = field(default_factory=lambda: ["| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 |"])
    render_audio: bool = True  # also render each sample to WAV (needs FluidSynth)
    # --- scratch model (a Llama-style decoder on the dataset's vocabulary) ---
    scratch_layers: int = 8
    scratch_hidden: int = 320
    scratch_heads: int = 8
    scratch_intermediate: int = 1280
    # --- devices and tracking ---
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    num_processes: int = 1  # >1: one process per GPU under torchrun (CPU: gloo)
    tracking: Literal["none", "tensorboard", "wandb", "trackio"] = "none"

    def __post_init__(self) -> None:
        _check_range("lora_rank", self.lora_rank, 1, 1024)
        _check_range("lora_alpha", self.lora_alpha, 1, 4096)
        _check_range("lora_dropout", self.lora_dropout, 0.0, 0.9)
        _check_range("learning_rate", self.learning_rate, 1e-8, 1.0)
        _check_range("warmup_steps", self.warmup_steps, 0, 1_000_000)
        _check_range("batch_size", self.batch_size, 1, 4096)
        _check_range("grad_accum", self.grad_accum, 1, 4096)
        _check_range("max_seq_len", self.max_seq_len, 8, 131072)
        _check_range("logging_steps", self.logging_steps, 1, 1_000_000)
        _check_range("eval_steps", self.eval_steps, 1, 1_000_000)
        _check_range("keep_checkpoints", self.keep_checkpoints, 1, 1000)
        _check_range("num_processes", self.num_processes, 1, 64)
        _check_range("sample_count", self.sample_count, 0, 64)
        _check_range("sample_max_new_tokens", self.sample_max_new_tokens, 1, 8192)
        _check_range("weight_decay", self.weight_decay, 0.0, 10.0)
        _check_range("seed", self.seed, 0, 2**32 - 1)
        _check_range("eval_max_sequences", self.eval_max_sequences, 0, 1_000_000)
        _check_range("sample_temperature", self.sample_temperature, 0.01, 10.0)
        _check_range("max_steps", self.max_steps, -1, 100_000_000)
        _check_range("num_epochs", self.num_epochs, 0.01, 10_000)
        _check_range("scratch_layers", self.scratch_layers, 1, 256)
        _check_range("scratch_hidden", self.scratch_hidden, 8, 65_536)
        _check_range("scratch_heads", self.scratch_heads, 1, 256)
        _check_range("scratch_intermediate", self.scratch_intermediate, 8, 262_144)
        if self.max_steps == 0 or self.max_steps < -1:
            raise StudioError(
                f"max_steps must be a positive number of steps or -1 for epochs (got {self.max_steps})"
            )
        if self.max_steps == -1:
            _check_range("num_epochs", self.num_epochs, 0.01, 10_000)
        if self.scratch_hidden % self.scratch_heads:
            raise StudioError(
                f"scratch_hidden must be a multiple of scratch_heads "
                f"(got {self.scratch_hidden} and {self.scratch_heads})"
            )
        if self.run_name and not re.fullmatch(r"[A-Za-z0-9_.-]{1,48}", self.run_name):
            raise StudioError(
                f"run_name may use letters, digits, '_', '.', '-' (1-48 chars) (got {self.run_name!r})"
            )
        if self.method == "scratch" and self.backend != "torch":
            raise StudioError(
                "method scratch trains a new model with the torch backend only "
                f"(got backend {self.backend}); pick backend torch"
            )

    @property
    def uses_lora(self) -> bool:
        return self.method in ("lora", "qlora")


def _check_range(key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise StudioError(f"{key} must be {low}-{high} (got {value})")


def presets_dir() -> Path:
    return configs_dir() / "train"


def list_presets() -> list[str]:
    """Preset names (YAML file stems) in configs/train/."""
    return sorted(p.stem for p in presets_dir().glob("*.yaml"))


def preset_path(name_or_path: str | Path) -> Path:
    """A preset name (``qlora_fast``) or a YAML path -> the YAML path; unknown names say what exists."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        return Path(text)
    path = presets_dir() / f"{text}.yaml"
    if not path.is_file():
        raise StudioError(f"no training preset named {text!r}; presets: {', '.join(list_presets())}")
    return path


def load_train_config(
    preset: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Defaults, then a preset (name or YAML path), then ``key=value`` overrides."""
    return load_config(TrainConfig, preset_path(preset) if preset else None, overrides)


def config_from_dict(data: dict[str, Any], source: str = "config") -> TrainConfig:
    return from_dict(TrainConfig, data, source)


def config_to_yaml(cfg: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True)


def form_fields() -> list[dict[str, Any]]:
    """One entry per config field for a UI form: name, kind (bool/int/float/str/choice/list),
    choices, default, and the comment-free group it belongs to."""
    hints = typing.get_type_hints(TrainConfig)
    out = []
    for f in dataclasses.fields(TrainConfig):
        kind, choices = _kind(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append({"name": f.name, "kind": kind, "choices": choices, "default": default})
    return out


def _kind(hint: Any) -> tuple[str, list[str]]:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "choice", [str(a) for a in typing.get_args(hint)]
    if origin is list:
        return "list", []
    return {bool: "bool", int: "int", float: "float"}.get(hint, "str"), []
