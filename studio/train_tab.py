"""Train tab: pick dataset, preset and base model (the default preset is one this machine can run,
with its expected memory and time), adjust the form (derived from TrainConfig), Check, preview the
command, Start (queued while another run trains); watch the run history, the live loss plot, ETA,
tokens/s, memory, log and samples; Stop & save (then Skip the evaluation), Abort, Resume, Continue,
Delete; compare runs. The tab writes a YAML and starts the same CLI a user would type; afterwards it
only reads the run's files (polled with gr.Timer). Every list is read again when the tab is shown."""

from __future__ import annotations

from typing import Any

import gradio as gr

from pipelines.common import StudioError
from pipelines.train import (RUN_COLUMNS, base_model_choices, check_config, check_markdown, compare_figure,
                             config_diff, default_preset, delete_run, export_run, field_names, form_config,
                             form_estimate, form_preview, grouped_fields, launcher, list_datasets,
                             list_presets, loss_figure, preset_values, read_metrics, report_or_none, run_ids,
                             run_markdown, run_path, run_rows, run_samples, start_from_form)

from .common import lists_state, private_lists, shown_copy, ui_errors, unlock_lists
from .settings import StudioSettings

POLL_S = 1.0


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
    settings.require_admin(password)  # one sentence, and a growing wait for a client that keeps guessing


def _values(names: list[str], args: tuple) -> dict[str, Any]:
    return {name: value for name, value in zip(names, args) if value not in (None, "")}


def _refresh(run_id: str | None, smoothing: float, log_y: bool, seen: list, shown: bool = True) -> tuple:
    """One poll: run table, details, plot (only when new metrics arrived), log tail, samples; nothing
    on a guarded studio until the admin password is typed (``shown``)."""
    if not shown:
        return (gr.skip(),) * 9
    rows = run_rows()
    ids = [r[0] for r in rows]
    # a poll never sets the Run picker's value, only its choices: one that started before Start (or a
    # pick) would otherwise answer after it and put the view back on the run it saw
    picker = gr.update(choices=ids)
    if run_id not in ids:
        run_id = ids[0] if ids else None  # nothing picked: the newest run is shown
    if run_id is None:
        return (
            gr.update(value=rows),
            picker,
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
    samples_md, files, wav = run_samples(run_id)  # shown as private copies: runs/ is never served
    files, wav = [shown_copy(f) for f in files], shown_copy(wav)
    return (
        gr.update(value=rows),
        picker,
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
    first = default_preset()
    first = first if first in presets else None
    start_values = preset_values(first)
    private = private_lists(settings)  # a guarded studio's page names no dataset, run or server folder
    with gr.Tab("Train", id="train") as tab:
        gr.Markdown(
            "Pick a dataset, a preset and a base model, adjust any setting, check the command and press "
            "**Start**. Runs live in their own processes: close the browser or restart the studio and "
            "nothing is lost."
        )
        # 1. pickers and the form (one widget per TrainConfig field)
        with gr.Row():
            dataset = gr.Dropdown(
                label="Dataset", choices=[] if private else list_datasets(), value=None, allow_custom_value=True
            )
            preset = gr.Dropdown(label="Preset", choices=presets, value=first)
            base_model = gr.Dropdown(
                label="Base model (local folder or hub id)",
                choices=_public_bases() if private else base_model_choices(),
                value=start_values["base_model"] or None,
                allow_custom_value=True,
            )
        expected = gr.Markdown(form_estimate(first, {}), elem_id="train-estimate")
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
        check_report = gr.Markdown(elem_id="train-check")
        # 2. runs: list, controls, live view
        gr.Markdown("### Runs (every past run; a new run waits in the queue while another trains)")
        runs_table = gr.Dataframe(
            label="Runs", headers=RUN_COLUMNS, value=[] if private else run_rows(), interactive=False, wrap=True,
            elem_id="train-runs",
        )
        with gr.Row():
            run_pick = gr.Dropdown(
                label="Run", choices=[] if private else run_ids(), value=None, scale=3, allow_custom_value=True
            )
            continue_preset = gr.Dropdown(
                label="Continue with preset",
                choices=presets,
                value="stage2_gospel" if "stage2_gospel" in presets else None,
                scale=2,
            )
        with gr.Row():
            stop_button = gr.Button("Stop & save")
            skip_button = gr.Button("Skip evaluation")
            abort_button = gr.Button("Abort", variant="stop")
            resume_button = gr.Button("Resume")
            continue_button = gr.Button("Continue as new run")
            delete_button = gr.Button("Delete", variant="stop")
        details = gr.Markdown("The runs show once the admin password is typed above (Enter)." if private
                              else "No runs yet: start one above.", elem_id="train-details")
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
        with gr.Accordion("Compare runs: loss curves overlaid, config side by side", open=False):
            with gr.Row():
                compare_pick = gr.Dropdown(label="Runs to compare (two or more)", choices=[] if private else run_ids(),
                                           multiselect=True, scale=4, allow_custom_value=True)  # API: any run
                compare_button = gr.Button("Compare", scale=1)
            compare_plot = gr.Plot(label="Loss of the chosen runs", elem_id="train-compare-plot")
            compare_table = gr.Dataframe(label="Settings that differ", interactive=False, wrap=True,
                                         elem_id="train-compare-diff")
        with gr.Accordion("Export the selected run (LoRA merged into its base, or mlx fuse)", open=False):
            with gr.Row():
                export_name = gr.Textbox(label="Name (saved to the workspace's models/<name>)", max_lines=1)
                export_ckpt = gr.Textbox(
                    label="Checkpoint (best, latest or step-N)", value="best", max_lines=1
                )
                hub_repo = gr.Textbox(label="Hub repo to push to (optional, user/name)", max_lines=1)
                hub_token = gr.Textbox(label="Hub token (only for a push)", type="password", max_lines=1)
            export_button = gr.Button("Export")
        seen = gr.State([None, 0, 0.6, True])
        unlocked = lists_state(settings)
        timer = gr.Timer(POLL_S)

        # 3. wiring
        @ui_errors("Pick another preset")
        def load_preset(name: str):
            values = preset_values(name)
            return [gr.update(value=values[n]) for n in names[1:]] + [form_estimate(name, {})]

        def lists(shown: bool = True):
            """Every list read again from disk: datasets, base models, runs (when shown, after actions;
            on a guarded studio once the admin password was typed)."""
            if not shown:
                return (gr.skip(),) * 5
            ids = run_ids()
            return (gr.update(choices=list_datasets()), gr.update(choices=base_model_choices()),
                    gr.update(choices=ids), gr.update(value=run_rows()), gr.update(choices=ids))

        @ui_errors("Pick two or more runs")
        def compare(chosen: list[str] | None, smoothing_value: float, log_scale: bool, pw: str | None = None):
            _check_admin(settings, pw)  # the runs' configs name datasets and server folders
            headers, rows = config_diff(list(chosen or []))
            figure = compare_figure(list(chosen), smoothing_value, log_scale)
            return figure, gr.update(value=rows or [["(no setting differs)"] + [""] * len(chosen)],
                                     headers=headers)

        @ui_errors("Fix the setting it names and press Preview again")
        def preview(preset_name, pw, *args):
            _check_admin(settings, pw)  # the preview names server folders
            return form_preview(preset_name, _values(names, args))

        @ui_errors("Fix the setting it names and press Check again")
        def check(preset_name, pw, *args):
            _check_admin(settings, pw)  # the check looks up server folders (base model, dataset)
            cfg, _ = form_config(preset_name, _values(names, args))
            return check_markdown(check_config(cfg))

        @ui_errors("Fix the setting it names and press Start again")
        def start_run(preset_name, pw, *args):
            _check_admin(settings, pw)
            result = start_from_form(preset_name, _values(names, args))
            gr.Info(f"Started {result['run_id']} (it waits in the queue if another run is training)")
            return result["command"], gr.update(choices=run_ids(), value=result["run_id"])

        @ui_errors("Pick a run from the list")
        def run_status(run_id: str, admin_password: str | None = None) -> dict:
            """A run's status and its last 50 metrics rows (the run_status API endpoint)."""
            _check_admin(settings, admin_password)
            if not isinstance(run_id, str):
                raise StudioError(f"run_id must be a run's name (got {type(run_id).__name__})")
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
                ids = run_ids()
                picked = result.get("run_id") if fn is launcher.continue_run else run_id
                return json_text(result), gr.update(choices=ids, value=picked if picked in ids else None)

            return handler

        @ui_errors("Pick a run with a checkpoint and a new name")
        def export(run_id, pw, name, checkpoint, repo, token):
            _check_admin(settings, pw)
            result = export_run(run_id or "", name, checkpoint or "best", repo or None, token or None)
            gr.Info(f"Exported to {result['out_dir']}")
            return json_text(result)

        preset.change(load_preset, preset, [*inputs[1:], expected])
        estimate = ui_errors("Fix the setting it names")(lambda p, *a: form_estimate(p, _values(names, a)))
        dataset.change(estimate, [preset, *inputs], expected,
                       show_progress="hidden")
        list_outputs = [dataset, base_model, run_pick, runs_table, compare_pick]
        tab.select(lists, unlocked, list_outputs, show_progress="hidden", api_visibility="private")
        unlock_lists(settings, password, unlocked, lists, list_outputs)
        compare_button.click(compare, [compare_pick, smoothing, log_y, password], [compare_plot, compare_table],
                             api_name="compare_runs")
        export_button.click(
            export, [run_pick, password, export_name, export_ckpt, hub_repo, hub_token], command
        )
        preview_button.click(preview, [preset, password, *inputs], command)
        check_button.click(check, [preset, password, *inputs], check_report, api_name="check_config")
        start_button.click(start_run, [preset, password, *inputs], [command, run_pick], api_name="start_run")
        acted = [command, run_pick]
        stop_button.click(
            action(launcher.stop, "Pick a running run"), [run_pick, password], acted, api_name="stop_run"
        )
        skip_button.click(action(launcher.skip, "Press it after Stop & save, while the run is stopping"),
                          [run_pick, password], acted, api_name="skip_eval")
        abort_button.click(action(launcher.abort, "Pick a running run"), [run_pick, password], acted,
                           api_name="abort_run")
        resume_button.click(
            action(launcher.resume, "Pick a stopped, failed or aborted run"), [run_pick, password], acted,
            api_name="resume_run",
        )
        continue_button.click(
            action(launcher.continue_run, "Pick a run with a checkpoint"),
            [run_pick, password, continue_preset],
            acted,
        )
        delete_button.click(action(delete_run, "Pick a run"), [run_pick, password], acted,
                            api_name="delete_run")
        gr.api(run_status, api_name="run_status")  # for gradio_client: no component on the page
        outputs = [runs_table, run_pick, details, plot, log_box, samples_md, sample_files, sample_audio, seen]
        timer.tick(
            _refresh,
            [run_pick, smoothing, log_y, seen, unlocked],
            outputs,
            show_progress="hidden",
            api_visibility="private",
            trigger_mode="always_last",  # a slow poll is not queued up behind itself
        )
        for control in (smoothing, log_y):
            control.change(
                _refresh,
                [run_pick, smoothing, log_y, seen, unlocked],
                outputs,
                show_progress="hidden",
                api_visibility="private",
            )


def _public_bases() -> list[str]:
    """The base models a guarded page may name: the presets' hub ids, no server folder."""
    from pathlib import Path

    return [choice for choice in base_model_choices() if not Path(choice).is_absolute()]


def json_text(result: Any) -> str:
    import json

    return json.dumps(result, indent=2, default=str)
