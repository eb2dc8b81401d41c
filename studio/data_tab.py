"""Data tab: upload MIDI or zips, see what happened to each file, analyse, tokenize, listen."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from pipelines.common import StudioError
from pipelines.data import (AugmentConfig, DEFAULT_STYLES, IngestConfig, SplitConfig, dataset_meta,
                            dataset_stats, existing_dataset, ingest, list_datasets, plot_lengths,
                            read_manifest, round_trip_preview, tokenize_dataset, tokenizer_preset,
                            tokenizer_presets)
from pipelines.generate import bootstrap_dataset

from .common import lists_state, private_lists, shown_copy, ui_errors, unlock_lists
from .settings import StudioSettings

REPORT_HEADERS = ["file", "status", "reason", "notes", "duration (s)"]
ROUND_TRIP_HEADERS = ["file", "notes kept", "notes", "share"]


def _presets() -> list[str]:
    return tokenizer_presets() or ["studio"]


def _labels(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def _uploaded(files, max_upload_mb: int) -> list[Path]:
    """The server-side paths of the uploaded files, each under the upload cap."""
    paths = []
    for item in files or []:
        path = Path(item if isinstance(item, str) else getattr(item, "path", None) or item["path"])
        if not path.is_file():
            raise StudioError(f"the upload {path.name} did not arrive; upload it again")
        size_mb = path.stat().st_size / 1e6
        if size_mb > max_upload_mb:
            raise StudioError(f"{path.name} is {size_mb:.1f} MB; uploads are capped at {max_upload_mb} MB")
        paths.append(path)
    if not paths:
        raise StudioError("no files were uploaded; drop .mid/.midi files or a .zip of them")
    return paths


def _report_rows(report: dict) -> list[list]:
    return [[r["file"], r["status"], r["reason"], r["notes"], r["duration_s"]] for r in report["report"]]


def _file_choices(name: str | None) -> list[tuple[str, str]]:
    if not name or name not in list_datasets():
        return []
    return [(f"{e['file']} · {e['notes']} notes", e["hash"]) for e in read_manifest(existing_dataset(name))]


def _choices_update(name: str | None):
    return gr.update(choices=list_datasets(), value=name)


def make_handlers(settings: StudioSettings):
    """The tab's handlers (also the named endpoints ``ingest`` and ``tokenize``)."""

    @ui_errors("Check the files and the dataset name, then press Ingest again")
    def run_ingest(files, dataset: str, style: str, labels: str, merge_tracks: bool, drop_drums: bool,
                   admin_password: str | None = None, progress: gr.Progress = gr.Progress()):
        settings.require_admin(admin_password)
        cfg = IngestConfig(dataset=dataset, style=style or "general", labels=_labels(labels),
                           merge_tracks=bool(merge_tracks), drop_drums=bool(drop_drums))
        report = ingest(_uploaded(files, settings.max_upload_mb), cfg, progress=progress)
        summary = (f"**{report['kept']} kept, {report['skipped']} skipped**; dataset `{report['dataset']}` "
                   f"now holds {report['files_in_dataset']} files.")
        return _report_rows(report), summary, _choices_update(report["dataset"])

    @ui_errors("Pick a style the corpus generator knows and a count of 1-5000")
    def run_bootstrap(dataset: str, style: str, n, admin_password: str | None = None,
                      progress: gr.Progress = gr.Progress()):
        settings.require_admin(admin_password)
        report = bootstrap_dataset(dataset, style, int(n or 0), progress=progress)
        summary = f"**{report['kept']} rule-based {style} performances added** to `{report['dataset']}`."
        return _report_rows(report), summary, _choices_update(report["dataset"])

    @ui_errors("Ingest files into the dataset first")
    def run_stats(dataset: str, admin_password: str | None = None):
        settings.require_admin(admin_password)  # the uploaded files are the admin's
        stats = dataset_stats(dataset)
        brief = {k: stats[k] for k in ("files", "notes", "duration_s", "time_signatures", "keys", "styles",
                                       "labels")}
        brief["notes_per_s"] = {k: stats["notes_per_s"][k] for k in ("mean", "median")}
        brief["pitch_range"] = [stats["pitch"]["lowest"], stats["pitch"]["highest"]]
        brief["chords"] = stats["chords"]
        return shown_copy(stats.get("plot")), brief, gr.update(choices=_file_choices(dataset), value=None)

    @ui_errors("Fix the tokenizer settings and press Tokenize again")
    def run_tokenize(dataset: str, preset: str, max_seq_len, transpose, tempo_pct, velocity_jitter,
                     valid_share, test_share, seed, admin_password: str | None = None,
                     progress: gr.Progress = gr.Progress()):
        settings.require_admin(admin_password)
        cfg = tokenizer_preset(preset or "studio", {"max_seq_len": int(max_seq_len)})
        augment = AugmentConfig(transpose=int(transpose), tempo_pct=float(tempo_pct),
                                velocity_jitter=int(velocity_jitter), seed=int(seed))
        split = SplitConfig(valid_share=float(valid_share), test_share=float(test_share), seed=int(seed))
        summary = tokenize_dataset(dataset, cfg, augment, split, progress=progress)
        lengths = plot_lengths(existing_dataset(dataset))
        per_file = dataset_meta(dataset)["round_trip"]["per_file"]
        rows = [[f["file"], f["kept"], f["total"], f["share"]] for f in per_file.values()]
        return summary, shown_copy(lengths), rows

    @ui_errors("Pick a file of the dataset (press Analyse to list them)")
    def run_preview(dataset: str, file_hash: str, admin_password: str | None = None):
        settings.require_admin(admin_password)  # the uploaded originals are the admin's
        if not file_hash:
            raise StudioError("no file is selected; press Analyse, then pick a file")
        result = round_trip_preview(dataset, file_hash)
        text = (f"{result['file']}: {result['kept']} of {result['total']} notes kept at the "
                f"{result['tokenizer']} grid ({100 * result['share']:.1f} %); first {result['seconds']:.0f} s.")
        return shown_copy(result["original_wav"]), shown_copy(result["round_trip_wav"]), text

    return run_ingest, run_bootstrap, run_stats, run_tokenize, run_preview


def _upload_section(datasets: list[str]) -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Row():
        with gr.Column(scale=3):
            ui.files = gr.File(label="MIDI files or .zip", file_count="multiple",
                               file_types=[".mid", ".midi", ".zip"], type="filepath", elem_id="data-upload")
        with gr.Column(scale=2):
            ui.dataset = gr.Dropdown(label="Dataset name", choices=datasets, value="my-dataset",
                                     allow_custom_value=True)
            ui.style = gr.Dropdown(label="Style", choices=list(DEFAULT_STYLES), value="general",
                                   allow_custom_value=True)
            ui.labels = gr.Textbox(label="Free labels (comma separated, e.g. mood:calm, live)")
            with gr.Row():
                ui.merge = gr.Checkbox(label="Merge tracks into one piano part", value=True)
                ui.drums = gr.Checkbox(label="Drop drums", value=True)
    with gr.Row():
        ui.ingest = gr.Button("Ingest", variant="primary")
        ui.boot_style = gr.Dropdown(label="Bootstrap style", choices=["gospel", "mehldau"], value="gospel")
        ui.boot_n = gr.Number(label="Performances to generate", value=20, precision=0, minimum=1, maximum=5000)
        ui.bootstrap = gr.Button("Bootstrap from the rule-based engines")
    ui.summary = gr.Markdown()
    ui.report = gr.Dataframe(label="Ingest report", headers=REPORT_HEADERS, interactive=False, wrap=True,
                             column_widths=["32%", "8%", "44%", "8%", "8%"], elem_classes=["ingest-report"])
    return ui


def _tokenize_section() -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Row():
        ui.preset = gr.Dropdown(label="Tokenizer", choices=_presets(), value="studio")
        ui.max_len = gr.Slider(label="Max sequence length (tokens)", minimum=128, maximum=8192, step=64, value=1024)
        ui.seed = gr.Number(label="Seed", value=0, precision=0)
    with gr.Row():
        ui.transpose = gr.Slider(label="Transpose train copies ± semitones", minimum=0, maximum=6, step=1, value=0)
        ui.tempo = gr.Slider(label="Tempo change ± %", minimum=0, maximum=20, step=1, value=0)
        ui.jitter = gr.Slider(label="Velocity jitter ±", minimum=0, maximum=20, step=1, value=0)
        ui.valid = gr.Slider(label="Validation share", minimum=0, maximum=0.4, step=0.05, value=0.1)
        ui.test = gr.Slider(label="Test share", minimum=0, maximum=0.4, step=0.05, value=0.1)
    ui.button = gr.Button("Tokenize", variant="primary")
    with gr.Row():
        ui.summary = gr.JSON(label="Splits")
        ui.lengths = gr.Image(label="Token lengths", type="filepath", interactive=False)
    ui.round_trip = gr.Dataframe(label="Round trip per file", headers=ROUND_TRIP_HEADERS, interactive=False,
                                 elem_classes=["round-trip"])
    return ui


def build(settings: StudioSettings) -> None:
    """The Data tab."""
    run_ingest, run_bootstrap, run_stats, run_tokenize, run_preview = make_handlers(settings)
    with gr.Tab("Data", id="data") as tab:
        gr.Markdown("Drop MIDI files or a .zip, name the dataset and give it a style. Every file is checked "
                    "and the report says what was kept and why the rest was skipped. Then analyse, "
                    f"tokenize into train/valid/test, and listen to the round trip. Uploads are capped at "
                    f"{settings.max_upload_mb} MB.")
        password = gr.Textbox(label="Password to change datasets", type="password",
                              visible=bool(settings.admin_password),
                              info="the one this studio was started with; ingest, bootstrap, analyse, "
                                   "tokenize and preview ask for it")
        # a guarded studio names its datasets only to the admin (the page's config is anyone's)
        up = _upload_section([] if private_lists(settings) else list_datasets())
        unlocked = lists_state(settings)
        unlock_lists(settings, password, unlocked, lambda: (gr.update(choices=list_datasets()),), [up.dataset])
        with gr.Accordion("Analyse", open=True):
            stats_button = gr.Button("Analyse")
            with gr.Row():
                stats_plot = gr.Image(label="Statistics", type="filepath", interactive=False)
                stats_json = gr.JSON(label="Summary")
        with gr.Accordion("Tokenize and split", open=True):
            tk = _tokenize_section()
        with gr.Accordion("Listen: original vs round trip", open=False):
            with gr.Row():
                file_pick = gr.Dropdown(label="File to preview", choices=[], value=None)
                preview_button = gr.Button("Render both")
            preview_text = gr.Markdown()
            with gr.Row():
                original_audio = gr.Audio(label="Original", type="filepath", interactive=False)
                round_audio = gr.Audio(label="Round trip", type="filepath", interactive=False)

        up.ingest.click(run_ingest, inputs=[up.files, up.dataset, up.style, up.labels, up.merge, up.drums, password],
                        outputs=[up.report, up.summary, up.dataset], api_name="ingest")
        up.bootstrap.click(run_bootstrap, inputs=[up.dataset, up.boot_style, up.boot_n, password],
                           outputs=[up.report, up.summary, up.dataset], api_name="bootstrap_dataset")
        stats_button.click(run_stats, inputs=[up.dataset, password], outputs=[stats_plot, stats_json, file_pick],
                           api_name="dataset_stats")
        tk.button.click(run_tokenize, inputs=[up.dataset, tk.preset, tk.max_len, tk.transpose, tk.tempo, tk.jitter,
                                              tk.valid, tk.test, tk.seed, password],
                        outputs=[tk.summary, tk.lengths, tk.round_trip], api_name="tokenize")
        preview_button.click(run_preview, inputs=[up.dataset, file_pick, password],
                             outputs=[original_audio, round_audio, preview_text], api_name="round_trip_preview")
        tab.select(lambda shown: gr.update(choices=list_datasets()) if shown else gr.skip(), unlocked,
                   up.dataset, show_progress="hidden", api_visibility="private")  # made elsewhere too
