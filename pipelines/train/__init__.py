"""Training runs: config + presets, a launcher of detached runs, backends (torch: LoRA, QLoRA, full,
scratch; mlx), the run store on disk, samples at checkpoints and export.

    python -m pipelines.train start configs/train/qlora_fast.yaml --set dataset=mine
    from pipelines.train import load_train_config, start, list_runs
"""

from __future__ import annotations

from ..common.lazy_exports import lazy_exports
from .config import TrainConfig, list_presets, load_train_config
from .launcher import abort, continue_run, resume, start, stop
from .runs import delete_run, list_runs

# the Train tab's helpers and the run store's readers, imported on first use
_EXPORTS = {
    "RUN_COLUMNS": ".forms", "base_model_choices": ".forms", "check_markdown": ".forms", "field_names": ".forms",
    "form_config": ".forms", "form_estimate": ".forms", "form_preview": ".forms", "grouped_fields": ".forms",
    "preset_values": ".forms", "report_or_none": ".forms", "run_ids": ".forms", "run_markdown": ".forms",
    "run_rows": ".forms", "run_samples": ".forms", "start_from_form": ".forms",
    "check_config": ".status", "loss_figure": ".status", "run_report": ".status",
    "compare_figure": ".history", "compare_runs": ".history", "config_diff": ".history",
    "history_rows": ".history",
    "default_preset": ".preflight", "estimate": ".preflight",
    "export_run": ".export", "exported_models": ".export", "models_dir": ".export",
    "list_datasets": ".data",
    "read_metrics": ".runs", "run_path": ".runs",
}
__all__ = sorted(["TrainConfig", "abort", "continue_run", "delete_run", "list_presets", "list_runs",
                  "load_train_config", "resume", "start", "stop", *_EXPORTS])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
