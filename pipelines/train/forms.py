"""What the Train tab needs from the library, without gradio: form groups derived from the config
fields, form values -> config and command, starting a run through the CLI, run rows and details."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..common.config import to_dict
from ..common.errors import StudioError
from ..common.paths import REPO_ROOT, checkpoints_dir, workspace_dir
from .config import TrainConfig, config_from_dict, form_fields, list_presets, load_train_config
from .launcher import cli_start_argv, preview_command, write_form_config
from .history import HISTORY_COLUMNS, duration_text, history_rows
from .samples import gallery
from .status import run_report

PICKERS = ("dataset", "base_model")  # shown as pickers above the form, not inside it
_GROUP_OF_PREFIX = (
    ("lora_", "LoRA"),
    ("scratch_", "Scratch model"),
    ("sample_", "Samples"),
    ("render_", "Samples"),
)
_RUN_FIELDS = {"backend", "method", "vocab_mode", "run_name", "init_from"}
_DEVICE_FIELDS = {"device", "num_processes", "tracking"}


def grouped_fields() -> dict[str, list[dict[str, Any]]]:
    """The config fields (except the pickers) in form groups, in dataclass order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for spec in form_fields():
        name = spec["name"]
        if name in PICKERS:
            continue
        group = next((g for prefix, g in _GROUP_OF_PREFIX if name.startswith(prefix)), None)
        group = group or (
            "Run"
            if name in _RUN_FIELDS
            else "Devices and tracking"
            if name in _DEVICE_FIELDS
            else "Optimisation and checkpoints"
        )
        groups.setdefault(group, []).append(spec)
    return groups


def field_names() -> list[str]:
    """Every form field name in the order the tab lays them out (pickers first)."""
    return list(PICKERS) + [s["name"] for specs in grouped_fields().values() for s in specs]


def preset_values(preset: str | None) -> dict[str, Any]:
    """The preset's resolved config as form values (lists as comma-separated text)."""
    values = to_dict(load_train_config(preset or None))
    return {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in values.items()}


def form_config(preset: str | None, values: dict[str, Any]) -> tuple[TrainConfig, dict[str, Any]]:
    """(config, the overrides that differ from the preset) from a form's values."""
    base = to_dict(load_train_config(preset or None))
    cleaned = {k: v for k, v in values.items() if v is not None}
    cfg = config_from_dict({**base, **cleaned}, "the form")
    resolved = to_dict(cfg)
    overrides = {k: v for k, v in resolved.items() if resolved[k] != base.get(k)}
    return cfg, overrides


def form_preview(preset: str | None, values: dict[str, Any]) -> str:
    """The exact terminal command equivalent to pressing Start with this form."""
    _, overrides = form_config(preset, values)
    return preview_command(preset, overrides)


def start_from_form(preset: str | None, values: dict[str, Any], timeout_s: float = 180.0) -> dict[str, Any]:
    """Write the form's YAML and start it with the same CLI a user would type; returns its JSON."""
    cfg, _ = form_config(preset, values)
    path = write_form_config(cfg)
    proc = subprocess.run(
        cli_start_argv(path, preset or "defaults"), cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=timeout_s, env=_env(),
    )
    if proc.returncode != 0:
        path.unlink(missing_ok=True)  # a refused start leaves no file behind
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
        raise StudioError(lines[-1][7:] if lines else f"the launcher failed: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ, STUDIO_HOME=str(workspace_dir()))


def base_model_choices() -> list[str]:
    """Local model folders (workspace models/, shipped checkpoints/) and the presets' hub ids."""
    local = []
    for root in (workspace_dir() / "models", checkpoints_dir()):
        if root.is_dir():
            local += [str(p) for p in sorted(root.iterdir()) if (p / "config.json").is_file()]
    hub = sorted({load_train_config(p).base_model for p in list_presets()} - {""})
    return local + hub


RUN_COLUMNS = HISTORY_COLUMNS


def run_rows() -> list[list[Any]]:
    """The run history as table rows (every run reconciled with its process)."""
    return history_rows()


def run_ids() -> list[str]:
    return [row[0] for row in history_rows()]


_duration = duration_text


def form_estimate(preset: str | None, values: dict[str, Any]) -> str:
    """One line: what this form's run is expected to need here (memory, time), or why it is unknown."""
    from .preflight import estimate

    cfg, _ = form_config(preset, values)
    from .preflight import default_preset

    fits = " (the preset this machine should start with)" if preset == default_preset() else ""
    return f"**Expected here for {preset or 'the defaults'}{fits}:** {estimate(cfg)['text']}"


def check_markdown(report: dict[str, Any]) -> str:
    """Check's answer as Markdown: ready or every blocker with its fix, notes, the estimate."""
    lines = ["**Ready to start.**" if report["runnable"] else f"**{len(report['blockers'])} blocker(s):**"]
    lines += [f"- ⛔ {b}" for b in report["blockers"]]
    lines += [f"- ℹ {n}" for n in report.get("notes", [])]
    if report.get("estimate"):
        lines.append(f"\n**Expected here:** {report['estimate']}")
    lengths = report.get("sequence_lengths")
    if lengths:
        lines.append(f"\n{lengths['sequences']} training sequences, {lengths['events_mean']} events each on "
                     f"average (max {lengths['events_max']}); "
                     f"{report.get('sequences_longer_than_max_seq_len', 0)} longer than max_seq_len "
                     f"{report['max_seq_len']} are cut into windows.")
        if lengths.get("text_cost_x"):
            lines.append(f"Spelled as text for the base model's tokenizer they are {lengths['text_cost_x']}x "
                         "longer than as added tokens.")
    return "\n".join(lines)


def run_markdown(report: dict[str, Any]) -> str:
    """State, step, ETA, tokens/s, memory and the error of one run, as a few lines of Markdown."""

    def fmt(value: Any, pattern: str = "{:.4g}") -> str:
        return "–" if value is None else pattern.format(value)

    lines = [
        f"**{report['run_id']}** · {report['state']} · step {report['step']}"
        f"{'/' + str(report['total_steps']) if report.get('total_steps') else ''}",
        f"loss {fmt(report.get('loss'))} · eval loss {fmt(report.get('eval_loss'))} · perplexity "
        f"{fmt(report.get('perplexity'))} · best eval {fmt(report.get('best_eval_loss'))}",
        f"ETA {_duration(report.get('eta_s')) or '–'} · "
        f"{fmt(report.get('tokens_per_s'), '{:.0f}')} tokens/s · "
        f"peak memory {fmt(report.get('peak_mem_gb'), '{:.2f}')} GB · samples decoded "
        f"{fmt(report.get('sample_decoded_share'), '{:.0%}')}",
    ]
    if report.get("phase"):
        lines.append(f"⏳ {report['phase']} (Skip ends the evaluation and samples now)")
    if report.get("state") == "queued" and report.get("queue_note"):
        lines.append(f"⏸ queued: {report['queue_note']}")
    if report.get("error"):
        lines.append(f"⚠ {report['error']}")
    return "  \n".join(lines)


def run_samples(run_id: str) -> tuple[str, list[str], str | None]:
    """(Markdown summary of every checkpoint's samples, their MIDI/WAV files, the newest WAV)."""
    from .runs import run_path

    entries = gallery(run_path(run_id))
    if not entries:
        return "No samples yet (they are written at each checkpoint).", [], None
    lines, files, newest_wav = ["| step | decoded | samples |", "|---|---|---|"], [], None
    for entry in entries:
        share = entry.get("decoded_share")
        lines.append(
            f"| {entry['step']} | {'–' if share is None else f'{share:.0%}'} | {len(entry['samples'])} |"
        )
        for sample in entry["samples"]:
            for key in ("midi", "wav"):
                if sample.get(key) and Path(sample[key]).is_file():
                    files.append(sample[key])
                    if key == "wav" and newest_wav is None:
                        newest_wav = sample[key]
    return "\n".join(lines), files[:40], newest_wav


def report_or_none(run_id: str | None) -> dict[str, Any] | None:
    return run_report(run_id) if run_id else None


__all__ = [
    "RUN_COLUMNS",
    "check_markdown",
    "form_estimate",
    "run_ids",
    "base_model_choices",
    "config_from_dict",
    "field_names",
    "form_config",
    "form_preview",
    "grouped_fields",
    "preset_values",
    "report_or_none",
    "run_markdown",
    "run_rows",
    "run_samples",
    "start_from_form",
]
