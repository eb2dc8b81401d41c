"""Export a run's checkpoint as a stand-alone model: LoRA merged into its base (torch) or fused (mlx),
saved to ``<workspace>/models/<name>`` with a model card (data, config, metrics); optional hub push.

Exports live in the workspace (``STUDIO_HOME``) beside the runs, never in the checkout's shipped
``checkpoints/``."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from ..common.errors import StudioError
from ..common.files import atomic_write_text
from ..common.paths import workspace_dir
from .backends import get_backend
from .config import config_to_yaml
from .launcher import run_config
from .runs import best_eval_loss, checkpoint_path, read_metrics, read_status, run_path

log = logging.getLogger(__name__)


def export_run(
    run_id: str,
    name: str,
    checkpoint: str = "best",
    push_to: str | None = None,
    token: str | None = None,
    out_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Merge/fuse ``run_id``'s ``checkpoint`` into ``<workspace>/models/<name>`` (or ``out_dir``) with a card.

    Args:
        checkpoint: ``best``, ``latest`` or ``step-N``.
        push_to: a hub repo id (``user/name``) to upload to; needs ``token`` and a network.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name or ""):
        raise StudioError(f"an export name is 1-64 letters, digits, '_', '.', '-' (got {name!r})")
    if push_to and not token:
        raise StudioError(
            "pushing to the hub needs a token (--token, or HF_TOKEN); the export itself needs none"
        )
    run_dir = run_path(run_id)
    cfg = run_config(run_dir)
    source = checkpoint_path(run_dir, checkpoint)
    out = Path(out_dir) if out_dir else models_dir() / name
    if out.exists() and any(out.iterdir()):
        raise StudioError(f"{out} already exists and is not empty; pick another name or delete it")
    out.mkdir(parents=True, exist_ok=True)
    result = get_backend(cfg.backend).export(run_dir, source, out)
    card = model_card(run_id, name, source, cfg)
    atomic_write_text(out / "README.md", card)
    summary = {"run_id": run_id, "checkpoint": source.name, "out_dir": str(out), **result}
    if push_to:
        summary["pushed_to"] = push(out, push_to, token or "")
    return summary


def models_dir() -> Path:
    """Where exports go: ``<workspace>/models`` (the Train tab also offers them as base models)."""
    return workspace_dir() / "models"


def exported_models() -> list[tuple[str, str]]:
    """(label, ``models/<name>``) for every exported model, for a model picker."""
    root = models_dir()
    if not root.is_dir():
        return []
    return [(f"{p.name} (exported)", f"models/{p.name}") for p in sorted(root.iterdir())
            if (p / "config.json").is_file() or (p / "adapter_config.json").is_file()]


def model_card(run_id: str, name: str, source: Path, cfg: Any) -> str:
    """README.md: how the model was trained, on what, and how well (from the run's own files)."""
    run_dir = run_path(run_id)
    status = read_status(run_dir)
    metrics = read_metrics(run_dir)
    losses = [m["loss"] for m in metrics if m.get("loss") is not None]
    card = _read(source / "studio_checkpoint.json")
    best = best_eval_loss(metrics)
    rows = [
        ("run", run_id),
        ("checkpoint", source.name),
        ("backend / method", f"{cfg.backend} / {cfg.method}"),
        ("base model", cfg.base_model or "none (trained from scratch)"),
        ("dataset", cfg.dataset),
        ("music tokens", cfg.vocab_mode if cfg.method != "scratch" else "the dataset vocabulary"),
        ("steps", f"{status.get('step')} of {status.get('total_steps')}"),
        ("final train loss", f"{losses[-1]:.4f}" if losses else "n/a"),
        ("best eval loss", f"{best:.4f}" if best is not None else "n/a"),
        ("checkpoint eval loss", card.get("eval_loss")),
        ("exported", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return (
        f"---\nlibrary_name: transformers\ntags: [music, symbolic-music, music-model-studio]\n---\n\n"
        f"# {name}\n\nA symbolic-music model exported from the Music Model Studio.\n\n"
        f"| | |\n|---|---|\n{table}\n\n## Training config\n\n```yaml\n{config_to_yaml(cfg)}```\n\n"
        "## Use\n\nLoad it like any causal LM (`AutoModelForCausalLM.from_pretrained`) or pick it as "
        "the model in "
        "the Generate tab; `studio_checkpoint.json` says how its tokens are spelled.\n"
    )


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def push(folder: Path, repo_id: str, token: str) -> str:
    """Upload ``folder`` to the hub; offline (HF_HUB_OFFLINE or no network) -> a message, not a traceback."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise StudioError(
            f"the hub is switched off here (HF_HUB_OFFLINE is set), so nothing was pushed; the "
            f"model is saved at {folder}: push it later with huggingface-cli upload {repo_id} {folder}"
        )
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id)
    except Exception as exc:  # network, auth: the export stands, the push did not happen
        raise StudioError(
            f"pushing to {repo_id} failed ({type(exc).__name__}: {str(exc)[:200]}); the model is "
            f"saved at {folder}"
        ) from None
    return f"https://huggingface.co/{repo_id}"
