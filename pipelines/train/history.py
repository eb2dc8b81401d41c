"""Every past run side by side: the history table, overlaid loss curves and a config diff."""

from __future__ import annotations

from typing import Any

import yaml

from ..common.errors import StudioError
from .runs import list_runs, read_metrics, run_path
from .status import ema, loss_series

HISTORY_COLUMNS = ["run", "state", "steps", "best eval loss", "duration", "preset", "backend / method",
                   "dataset", "note"]


def history_rows() -> list[list[Any]]:
    """One row per run, newest first: state, steps, best eval loss, duration and preset."""
    rows = []
    for r in list_runs():
        steps = f"{r['step']}/{r['total_steps']}" if r.get("total_steps") else str(r["step"])
        best = f"{r['best_eval_loss']:.4f}" if r.get("best_eval_loss") is not None else ""
        note = r.get("error") or r.get("queue_note") or r.get("phase") or ""
        rows.append([r["run_id"], r["state"], steps, best, duration_text(r.get("duration_s")),
                     r.get("preset") or "", f"{r['backend']} / {r['method']}", r["dataset"], note[:160]])
    return rows


def duration_text(seconds: float | None) -> str:
    """``12m05s`` or ``1h02m``; empty when unknown."""
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _configs(run_ids: list[str]) -> dict[str, dict[str, Any]]:
    if len(run_ids) < 2:
        raise StudioError(f"pick two or more runs to compare (got {len(run_ids)})")
    out = {}
    for run_id in run_ids:
        path = run_path(run_id) / "config.yaml"
        out[run_id] = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
    return out


def config_diff(run_ids: list[str]) -> tuple[list[str], list[list[str]]]:
    """(headers, rows): every config key whose value differs between the runs, one column per run."""
    configs = _configs(run_ids)
    keys = sorted({k for c in configs.values() for k in c})
    rows = []
    for key in keys:
        values = [configs[r].get(key, "–") for r in run_ids]
        if any(v != values[0] for v in values[1:]):
            rows.append([key] + [", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in values])
    return ["setting", *run_ids], rows


def compare_runs(run_ids: list[str]) -> dict[str, Any]:
    """Each run's state, steps and best/last losses, and the config keys that differ (for the CLI)."""
    headers, rows = config_diff(run_ids)
    runs = {r["run_id"]: r for r in list_runs()}
    summary = {}
    for run_id in run_ids:
        series = loss_series(read_metrics(run_path(run_id)))
        row = runs.get(run_id, {})
        summary[run_id] = {
            "state": row.get("state"), "step": row.get("step"), "preset": row.get("preset"),
            "best_eval_loss": row.get("best_eval_loss"),
            "last_train_loss": series["train"][-1][1] if series["train"] else None,
        }
    return {"runs": summary, "config_diff": [dict(zip(headers, r)) for r in rows]}


def compare_figure(run_ids: list[str], smoothing: float = 0.6, log_y: bool = True):
    """Train loss (EMA) and eval loss of two or more runs on one matplotlib figure, one colour per run
    (a ``matplotlib.figure.Figure``, not pyplot's global state, so it is safe in worker threads)."""
    import matplotlib
    from matplotlib.figure import Figure

    if len(run_ids) < 2:
        raise StudioError(f"pick two or more runs to compare (got {len(run_ids)})")
    fig = Figure(figsize=(8, 3.6), dpi=90)
    ax = fig.subplots()
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    drawn = 0
    for index, run_id in enumerate(run_ids):
        series = loss_series(read_metrics(run_path(run_id)))
        colour = colours[index % len(colours)]
        if series["train"]:
            steps, losses = zip(*series["train"])
            ax.plot(steps, ema(list(losses), smoothing), color=colour, linewidth=2, label=f"{run_id} train")
            drawn += 1
        if series["eval"]:
            steps, losses = zip(*series["eval"])
            ax.plot(steps, losses, "o--", color=colour, linewidth=1, label=f"{run_id} eval")
            drawn += 1
    if log_y and drawn:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"{len(run_ids)} runs: train (EMA {smoothing:g}) and eval loss", fontsize=9)
    if drawn:
        ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
