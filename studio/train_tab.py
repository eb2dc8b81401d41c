"""Train tab: pick dataset, preset and base model, adjust the form (derived from TrainConfig), preview
the command, Start; watch the run list, the live loss plot, ETA, tokens/s, memory, log and samples;
Stop & save, Abort, Resume, Continue, Delete. The tab writes a YAML and starts the same CLI a user
would type; afterwards it only reads the run's files (polled with gr.Timer)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from pipelines.common.errors import StudioError
from pipelines.train import launcher
from pipelines.train.config import list_presets
from pipelines.train.data import list_datasets
from pipelines.train.export import export_run
from pipelines.train.forms import (
    RUN_COLUMNS,
    base_model_choices,
    field_names,
    form_config,
    form_preview,
    grouped_fields,
    preset_values,
    report_or_none,
    run_markdown,
    run_rows,
    run_samples,
    start_from_form,
)
from pipelines.train.runs import delete_run, read_metrics, run_path
from pipelines.train.status import check_config, loss_figure

from .common import ui_errors
from .settings import StudioSettings

POLL_S = 1.0
DEFAULT_PRESET = "qlora_fast"


def _widget(spec: dict[str, Any], value: Any) -> gr.components.Component:
    """One labelled input for one config field, by its kind."""
    label = spec["name"].replace("_", " ")
    if spec["kind"] == "choice":
        return gr.Dropdown(label=label, choices=spec["choices"], value=str(value))
    if spec["kind"] == "bool":
        return gr.Checkbox(label=label, value=bool(value))
    if spec["kind"] == "int":
        return gr.Number(label=label, value=value, precision=0)
    if spec["kind"] == "float":
        return gr.Number(label=label, value=value)
    hint = " (comma-separated)" if spec["kind"] == "list" else ""
    return gr.Textbox(label=label + hint, value=str(value), max_lines=1)


def _check_admin(settings: StudioSettings, password: str | None) -> None:
    if not settings.check_admin(password):
        raise StudioError(
            "this studio guards training with an admin password, and the one given does not match"
        )


def _values(names: list[str], args: tuple) -> dict[str, Any]:
    return {name: value for name, value in zip(names, args) if value not in (None, "")}


def _refresh(run_id: str | None, smoothing: float, log_y: bool, seen: list) -> tuple:
    """One poll: run table, details, plot (only when new metrics arrived), log tail, samples."""
    rows = run_rows()
    ids = [r[0] for r in rows]
    if run_id not in ids:
        run_id = ids[0] if ids else None
    if run_id is None:
        return (
            gr.update(value=rows),
            gr.update(choices=ids, value=None),
            "No runs yet: start one above.",
            gr.skip(),
            "",
            "",
            [],
            None,
            [None, 0, smoothing, log_y],
        )
    report = report_or_none(run_id)
    key = [run_id, report["metrics_lines"], smoothing, log_y]
    plot = loss_figure(run_id, smoothing, log_y) if key != seen else gr.skip()
    samples_md, files, wav = run_samples(run_id)
    return (
        gr.update(value=rows),
        gr.update(choices=ids, value=run_id),
        run_markdown(report),
        plot,
        report["log_tail"],
        samples_md,
        files,
        wav,
        key,
    )


def build(settings: StudioSettings) -> None:
    """The Train tab."""
    presets = list_presets()
    groups = grouped_fields()
    names = field_names()
    start_values = preset_values(DEFAULT_PRESET if DEFAULT_PRESET in presets else None)
    with gr.Tab("Train", id="train"):
        gr.Markdown(
            "Pick a dataset, a preset and a base model, adjust any setting, check the command and press "
            "**Start**. Runs live in their own processes: close the browser or restart the studio and "
            "nothing is lost."
        )
        # 1. pickers and the form (one widget per TrainConfig field)
        with gr.Row():
            dataset = gr.Dropdown(
                label="Dataset", choices=list_datasets(), value=None, allow_custom_value=True
            )
            preset = gr.Dropdown(
                label="Preset", choices=presets, value=DEFAULT_PRESET if DEFAULT_PRESET in presets else None
            )
            base_model = gr.Dropdown(
                label="Base model (local folder or hub id)",
                choices=base_model_choices(),
                value=start_values["base_model"] or None,
                allow_custom_value=True,
            )
            refresh_pickers = gr.Button("↻ Refresh lists", size="sm")
        inputs: list[gr.components.Component] = [dataset, base_model]
        with gr.Accordion("Settings (from the preset; change any)", open=False):
            for group, specs in groups.items():
                with gr.Accordion(group, open=group == "Run"):
                    with gr.Row(equal_height=True):
                        for spec in specs:
                            inputs.append(_widget(spec, start_values[spec["name"]]))
        password = gr.Textbox(label="Admin password", type="password", visible=bool(settings.admin_password))
        with gr.Row():
            check_button = gr.Button("Check config and dataset")
            preview_button = gr.Button("Preview command")
            start_button = gr.Button("Start", variant="primary")
        command = gr.Code(
            label="Command the studio runs", language="shell", interactive=False, lines=2, max_lines=12
        )
        check_report = gr.JSON(
            label="Check: can this machine run it, and tokens per sequence for each vocab mode", visible=False
        )
        # 2. runs: list, controls, live view
        gr.Markdown("### Runs")
        runs_table = gr.Dataframe(
            label="Runs", headers=RUN_COLUMNS, value=run_rows(), interactive=False, wrap=True
        )
        with gr.Row():
            run_pick = gr.Dropdown(
                label="Run", choices=[r[0] for r in run_rows()], value=None, scale=3, allow_custom_value=True
            )
            continue_preset = gr.Dropdown(
                label="Continue with preset",
                choices=presets,
                value="stage2_gospel" if "stage2_gospel" in presets else None,
                scale=2,
            )
        with gr.Row():
            stop_button = gr.Button("Stop & save")
            abort_button = gr.Button("Abort", variant="stop")
            resume_button = gr.Button("Resume")
            continue_button = gr.Button("Continue as new run")
            delete_button = gr.Button("Delete", variant="stop")
        details = gr.Markdown("No runs yet: start one above.", elem_id="train-details")
        with gr.Row():
            smoothing = gr.Slider(label="EMA smoothing", minimum=0.0, maximum=0.99, step=0.01, value=0.6)
            log_y = gr.Checkbox(label="Log-scale loss", value=True)
        plot = gr.Plot(
            label="Loss (train raw + EMA, eval; dashed lines = resumed)", elem_id="train-loss-plot"
        )
        log_box = gr.Textbox(label="Log (tail)", lines=10, max_lines=10, interactive=False, autoscroll=True)
        with gr.Accordion("Samples at each checkpoint", open=False):
            samples_md = gr.Markdown()
            sample_audio = gr.Audio(label="Newest sample", interactive=False)
            sample_files = gr.File(label="Sample MIDI and audio", file_count="multiple", interactive=False)
        with gr.Accordion("Export the selected run (LoRA merged into its base, or mlx fuse)", open=False):
            with gr.Row():
                export_name = gr.Textbox(label="Name (saved to checkpoints/<name>)", max_lines=1)
                export_ckpt = gr.Textbox(
                    label="Checkpoint (best, latest or step-N)", value="best", max_lines=1
                )
                hub_repo = gr.Textbox(label="Hub repo to push to (optional, user/name)", max_lines=1)
                hub_token = gr.Textbox(label="Hub token (only for a push)", type="password", max_lines=1)
            export_button = gr.Button("Export")
        seen = gr.State([None, 0, 0.6, True])
        timer = gr.Timer(POLL_S)

        # 3. wiring
        @ui_errors("Pick another preset")
        def load_preset(name: str):
            values = preset_values(name)
            return [gr.update(value=values[n]) for n in names[1:]]

        @ui_errors("Fix the setting it names and press Preview again")
        def preview(preset_name, *args):
            return form_preview(preset_name, _values(names, args))

        @ui_errors("Fix the setting it names and press Check again")
        def check(preset_name, *args):
            cfg, _ = form_config(preset_name, _values(names, args))
            return gr.update(value=check_config(cfg), visible=True)

        @ui_errors("Fix the setting it names and press Start again")
        def start_run(preset_name, pw, *args):
            _check_admin(settings, pw)
            result = start_from_form(preset_name, _values(names, args))
            gr.Info(f"Started {result['run_id']}")
            return result["command"], gr.update(choices=[result["run_id"]], value=result["run_id"])

        @ui_errors("Pick a run from the list")
        def run_status(run_id: str) -> dict:
            report = report_or_none(run_id)
            if report is None:
                raise StudioError("no run chosen")
            return {k: v for k, v in report.items() if k != "log_tail"} | {
                "metrics": read_metrics(run_path(run_id))[-50:]
            }

        def action(fn, next_step: str):
            @ui_errors(next_step)
            def handler(run_id: str, pw: str | None, continue_with: str | None = None):
                _check_admin(settings, pw)
                if not run_id:
                    raise StudioError("no run chosen; pick one in the Run list")
                result = fn(run_id, continue_with) if fn is launcher.continue_run else fn(run_id)
                gr.Info(f"{run_id}: {result.get('state', 'done') if isinstance(result, dict) else result}")
                return json_text(result)

            return handler

        @ui_errors("Pick a run with a checkpoint and a new name")
        def export(run_id, pw, name, checkpoint, repo, token):
            _check_admin(settings, pw)
            result = export_run(run_id or "", name, checkpoint or "best", repo or None, token or None)
            gr.Info(f"Exported to {result['out_dir']}")
            return json_text(result)

        preset.change(load_preset, preset, inputs[1:])
        export_button.click(
            export, [run_pick, password, export_name, export_ckpt, hub_repo, hub_token], command
        )
        refresh_pickers.click(
            lambda: (gr.update(choices=list_datasets()), gr.update(choices=base_model_choices())),
            None,
            [dataset, base_model],
        )
        preview_button.click(preview, [preset, *inputs], command)
        check_button.click(check, [preset, *inputs], check_report)
        start_button.click(start_run, [preset, password, *inputs], [command, run_pick], api_name="start_run")
        stop_button.click(
            action(launcher.stop, "Pick a running run"), [run_pick, password], command, api_name="stop_run"
        )
        abort_button.click(action(launcher.abort, "Pick a running run"), [run_pick, password], command)
        resume_button.click(
            action(launcher.resume, "Pick a stopped or failed run"), [run_pick, password], command
        )
        continue_button.click(
            action(launcher.continue_run, "Pick a run with a checkpoint"),
            [run_pick, password, continue_preset],
            command,
        )
        delete_button.click(action(delete_run, "Stop the run first"), [run_pick, password], command)
        status_json = gr.JSON(visible=False)
        status_button = gr.Button("Status", visible=False)  # the run_status endpoint, for gradio_client
        status_button.click(run_status, run_pick, status_json, api_name="run_status")
        outputs = [runs_table, run_pick, details, plot, log_box, samples_md, sample_files, sample_audio, seen]
        timer.tick(
            _refresh,
            [run_pick, smoothing, log_y, seen],
            outputs,
            show_progress="hidden",
            api_visibility="private",
            trigger_mode="always_last",  # a slow poll is not queued up behind itself
        )
        for control in (smoothing, log_y):
            control.change(
                _refresh,
                [run_pick, smoothing, log_y, seen],
                outputs,
                show_progress="hidden",
                api_visibility="private",
            )


def json_text(result: Any) -> str:
    import json

    return json.dumps(result, indent=2, default=str)
