"""Read-only views of runs for the CLI and the UI: a report, the loss plot, the dataset check."""

from __future__ import annotations

import time
from typing import Any

from ..common.errors import StudioError
from .config import TrainConfig
from .runs import best_eval_loss, log_tail, read_metrics, read_status, run_path, summarize


def run_report(run_id: str, tail_lines: int = 30) -> dict[str, Any]:
    """Status, latest figures (loss, ETA, tokens/s, memory), best eval loss and the log's tail."""
    run_dir = run_path(run_id)
    summary = summarize(run_dir)
    status = read_status(run_dir)
    metrics = read_metrics(run_dir)
    latest: dict[str, Any] = {}
    for record in metrics:
        latest.update({k: v for k, v in record.items() if k not in ("event", "time")})
    beat = status.get("heartbeat")
    return {
        **summary,
        "pid": status.get("pid"),
        "heartbeat_age_s": round(time.time() - beat, 1) if beat else None,
        "loss": latest.get("loss"),
        "eval_loss": latest.get("eval_loss"),
        "perplexity": latest.get("perplexity"),
        "eta_s": latest.get("eta_s"),
        "tokens_per_s": latest.get("tokens_per_s"),
        "peak_mem_gb": latest.get("peak_mem_gb"),
        "sample_decoded_share": latest.get("sample_decoded_share"),
        "best_eval_loss": best_eval_loss(metrics),
        "metrics_lines": len(metrics),
        "log_tail": log_tail(run_dir, tail_lines),
    }


def ema(values: list[float], smoothing: float) -> list[float]:
    """Exponential moving average (TensorBoard's debiased smoothing); 0 = raw values."""
    if not 0.0 <= smoothing < 1.0:
        raise StudioError(f"smoothing must be 0-0.99 (got {smoothing})")
    out, last, weight = [], 0.0, 0.0
    for value in values:
        last = smoothing * last + (1 - smoothing) * value
        weight = smoothing * weight + (1 - smoothing)
        out.append(last / weight if weight else value)
    return out


def loss_series(metrics: list[dict[str, Any]]) -> dict[str, list]:
    """Train and eval loss points and the steps where the run was resumed."""
    train = [(m["step"], m["loss"]) for m in metrics if m.get("loss") is not None]
    evals = [(m["step"], m["eval_loss"]) for m in metrics if m.get("eval_loss") is not None]
    resumes = [m["step"] for m in metrics if m.get("event") == "resume"]
    return {"train": train, "eval": evals, "resumes": resumes}


def loss_figure(run_id: str, smoothing: float = 0.6, log_y: bool = True):
    """A matplotlib figure of train (raw + EMA) and eval loss, resume boundaries as dashed lines
    (a ``matplotlib.figure.Figure``, not pyplot's global state, so it is safe in worker threads)."""
    from matplotlib.figure import Figure

    series = loss_series(read_metrics(run_path(run_id)))
    fig = Figure(figsize=(8, 3.6), dpi=90)
    ax = fig.subplots()
    if series["train"]:
        steps, losses = zip(*series["train"])
        ax.plot(steps, losses, color="#1f77b4", alpha=0.25, linewidth=1, label="train (raw)")
        ax.plot(steps, ema(list(losses), smoothing), color="#1f77b4", linewidth=2, label="train (EMA)")
    if series["eval"]:
        steps, losses = zip(*series["eval"])
        ax.plot(steps, losses, "o-", color="#d62728", linewidth=2, label="eval")
    for step in series["resumes"]:
        ax.axvline(step, color="grey", linestyle="--", linewidth=1)
        ax.annotate(
            "resumed",
            (step, 1),
            xycoords=("data", "axes fraction"),
            fontsize=8,
            color="grey",
            rotation=90,
            va="top",
            ha="right",
        )
    if log_y and (series["train"] or series["eval"]):
        from matplotlib.ticker import ScalarFormatter

        ax.set_yscale("log")
        for axis_formatter in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis_formatter(ScalarFormatter())
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(
        f"{run_id}: {len(series['train'])} train points, {len(series['eval'])} eval points", fontsize=9
    )
    if series["train"] or series["eval"]:
        ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def check_config(cfg: TrainConfig) -> dict[str, Any]:
    """Every blocker with its fix, the expected memory and time here, and what each vocab mode costs
    in sequence length on the dataset; offline and without loading a model (about a second)."""
    from .data import read_split, sequence_length_report
    from .preflight import local_model_config, preflight

    found = preflight(cfg)
    report: dict[str, Any] = {
        "runnable": found["runnable"],
        "refusal": found["blockers"][0] if found["blockers"] else None,
        "blockers": found["blockers"],
        "notes": found["notes"],
        "estimate": found["estimate"].get("text"),
        "dataset": cfg.dataset,
        "max_seq_len": cfg.max_seq_len,
    }
    try:
        rows = read_split(cfg.dataset, "train")
    except StudioError:
        return report
    lm_tokenizer = None
    if cfg.base_model and cfg.method != "scratch" and local_model_config(cfg.base_model) is not None:
        from transformers import AutoTokenizer

        try:
            lm_tokenizer = AutoTokenizer.from_pretrained(cfg.base_model, local_files_only=True)
        except (OSError, ValueError):
            lm_tokenizer = None
    report["sequence_lengths"] = sequence_length_report(rows, lm_tokenizer)
    report["sequences_longer_than_max_seq_len"] = sum(
        1 for r in rows if len(r["text"].split()) + 2 > cfg.max_seq_len
    )
    return report
