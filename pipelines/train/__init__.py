"""Training runs: config + presets, a launcher of detached runs, backends (torch: LoRA, QLoRA, full,
scratch; mlx), the run store on disk, samples at checkpoints and export.

    python -m pipelines.train start configs/train/qlora_fast.yaml --set dataset=mine
    from pipelines.train import load_train_config, start, list_runs
"""

from __future__ import annotations

from .config import TrainConfig, list_presets, load_train_config
from .launcher import abort, continue_run, resume, start, stop
from .runs import delete_run, list_runs

__all__ = [
    "TrainConfig",
    "abort",
    "continue_run",
    "delete_run",
    "list_presets",
    "list_runs",
    "load_train_config",
    "resume",
    "start",
    "stop",
]
