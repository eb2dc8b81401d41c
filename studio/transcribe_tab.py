"""Transcribe A/B tab: the mix vs Demucs stems vs oracle stems, transcribed and scored side by side.

Everything is done by ``pipelines.transcribe`` (run_ab, run_batch, run_slakh: each writes its own
files); this module lays out widgets, shows what they wrote, and names the endpoints.
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import gradio as gr

from pipelines.common import StudioError, load_config, workspace_dir
from pipelines.transcribe import (ABConfig, SEPARATOR_MODELS, TABLE_COLUMNS, TRANSCRIBERS, preset_path,
                                  transcribe_presets)

from .common import ui_errors, without_paths
from .settings import StudioSettings

SEPARATORS = ([("Oracle stems, 6 classes (multi-track MIDI input)", "oracle:htdemucs_6s"),
               ("Oracle stems, 4 classes (multi-track MIDI input)", "oracle:htdemucs")] +
              [(f"{spec.label}: {', '.join(spec.stems)}", f"demucs:{name}")
               for name, spec in SEPARATOR_MODELS.items()] +
              [("None: transcribe the mix alone", "none:htdemucs")])
INPUT_TYPES = [".wav", ".flac", ".mp3", ".ogg", ".mid", ".midi"]
SLOTS = 7  # the mix plus up to six stem classes
PRESET_NONE = "(defaults)"
DEVICES = [("auto (cuda when present)", "auto"), ("cpu", "cpu"), ("cuda", "cuda")]  # cuda without a
# GPU is refused in one sentence
PUBLIC_MAX_SONGS = 20  # songs of one batch on a public Space (each is a full A/B: minutes of CPU)


def _presets() -> list[str]:
    return [PRESET_NONE] + transcribe_presets()


def _config(preset: str, separator: str, transcriber: str, onset: float, frame: float,
            min_note_ms: float, excerpt_s: float, settings: StudioSettings,
            device: str | None = None) -> ABConfig:
    """The preset (server-side YAML: commands and paths never come from the browser) + the form."""
    kind, model = (separator or SEPARATORS[0][1]).split(":", 1)
    overrides: dict[str, Any] = {"separator": kind, "demucs_model": model, "transcriber": transcriber,
                                 "onset_threshold": onset, "frame_threshold": frame,
                                 "min_note_ms": min_note_ms, "device": device or "auto",
                                 "excerpt_s": excerpt_s if excerpt_s and excerpt_s > 0 else None}
    if settings.on_space:
        overrides["max_duration_s"] = 300.0
    return load_config(ABConfig, _preset_path(preset), overrides)


def _preset_path(preset: str | None) -> Path | None:
    if not preset or preset == PRESET_NONE:
        return None
    return preset_path(preset)


def _preset_form(preset: str) -> list:
    """The form's values from a preset (defaults for keys it does not set)."""
    cfg = load_config(ABConfig, _preset_path(preset))
    separator = "none:htdemucs" if cfg.separator == "none" else f"{cfg.separator}:{cfg.demucs_model}"
    return [separator, cfg.transcriber, cfg.onset_threshold,
            cfg.frame_threshold, cfg.min_note_ms, cfg.excerpt_s or 0, cfg.device]


def _run_dir(kind: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")  # a served folder: 16 random hex digits, not guessable
    return workspace_dir() / "outputs" / "transcribe" / f"{kind}-{stamp}-{secrets.token_hex(8)}"


def _file_path(upload: Any) -> str | None:
    if upload is None:
        return None
    return upload if isinstance(upload, str) else getattr(upload, "name", None) or str(upload)


def _summary(report: dict) -> str:
    rtf = report.get("real_time_factor", {})
    timings = ", ".join(f"{k} {v:.2f} s (RTF {rtf[k]:.3f})" if k in rtf else f"{k} {v:.2f} s"
                        for k, v in report["timings_s"].items())
    device = "; ".join(f"{k}: {v}" for k, v in report["device"].items())
    lines = [f"**{Path(report['input']).name}** ({report['kind']}, {report['duration_s']:.1f} s): "
             f"sides {', '.join(report['sides'])}.",
             f"Timings: {timings} (RTF: seconds of work per second of audio).",
             f"Device: {device}."]
    lines += [f"Note: {n}" for n in report["notes"]]
    lines.append("Piano rolls: green = hits, red = misses (reference notes not found), blue = false "
                 "notes. Onset-only F1 uses 50 ms and 50 cents; N/A = the reference has no notes.")
    return "\n\n".join(lines)


def _slot_updates(report: dict | None, side: str | None) -> list:
    """Per slot: row visibility, title, audio, piano roll, MIDI download (mix first, then the
    stems that sound; silent stems, such as vocals of a MIDI, show only in the table)."""
    rows = []
    if report:
        stems = report["stems"]
        rows = [s for s in stems if s["side"] == "mix"] + [
            s for s in stems if s["side"] == side and s["skipped"] != "silent stem"]
    updates: list = []
    for i in range(SLOTS):
        if i >= len(rows):
            updates += [gr.update(visible=False), "", None, None, None]
            continue
        stem = rows[i]
        png = Path(stem["wav"]).with_suffix(".png")
        name = "the mix" if stem["side"] == "mix" else f"{stem['side']} · {stem['stem']}"
        title = f"### {name}: {stem['n_notes']} notes"
        if stem["skipped"]:
            title += f" ({stem['skipped']})"
        updates += [gr.update(visible=True), title, stem["wav"],
                    str(png) if png.is_file() else None, stem["midi"]]
    return updates


def _stem_slots() -> list:
    """SLOTS hidden rows (title, audio player, MIDI download | piano roll), flattened for outputs."""
    outputs: list = []
    for _ in range(SLOTS):
        with gr.Row(visible=False) as row:
            with gr.Column(scale=1):
                title = gr.Markdown()
                audio = gr.Audio(label="Audio", type="filepath", interactive=False)
                midi = gr.File(label="Transcription (MIDI)", interactive=False)
            roll = gr.Image(label="Piano roll over the reference", type="filepath",
                            interactive=False, scale=3)
        outputs += [row, title, audio, roll, midi]
    return outputs


def _run_handler(settings: StudioSettings):
    """The A/B handler: run_ab writes every file; this shows them (table, files, stem slots)."""

    @ui_errors("Check the input and the settings, then run again")
    def on_run(path_in, ref_in, sep, trans, onset_t, frame_t, min_ms, excerpt_s, preset_name,
               device="auto", progress=gr.Progress()):
        from pipelines.transcribe import comparison_table, run_ab

        path = _file_path(path_in)
        if not path:
            raise StudioError("upload an audio file or a multi-track MIDI first")
        cfg = _config(preset_name, sep, trans, onset_t, frame_t, min_ms, excerpt_s, settings, device)
        result = run_ab(path, cfg, _run_dir("ab"), reference=_file_path(ref_in),
                        progress=lambda f, d: progress(f, desc=d))
        rows = comparison_table(result.scores)
        csv_path = result.out_dir / "table.csv"
        report = result.to_dict()
        stem_sides = [s for s in result.sides if s != "mix"]
        shown = stem_sides[0] if stem_sides else None
        return [_summary(report), rows, str(result.out_dir / "report.json"),
                str(csv_path) if csv_path.is_file() else None, report,
                gr.update(choices=stem_sides, value=shown)] + _slot_updates(report, shown)

    return on_run


def build(settings: StudioSettings) -> None:
    """Lay out the Transcribe A/B tab and wire the A/B and batch endpoints."""
    with gr.Tab("Transcribe A/B", id="transcribe"):
        gr.Markdown("Does transcribing separated stems beat transcribing the mix? Upload audio with "
                    "an optional reference MIDI, or a multi-track MIDI: the studio renders it into a "
                    "mix and its true per-instrument stems (oracle stems) and scores every side.")
        with gr.Row():
            upload = gr.File(label="Audio (wav, flac, mp3, ogg) or multi-track MIDI",
                             file_types=INPUT_TYPES, elem_id="transcribe-input")
            reference = gr.File(label="Reference MIDI (optional, for audio input)",
                                file_types=[".mid", ".midi"], elem_id="transcribe-reference")
        with gr.Row():
            separator = gr.Radio(SEPARATORS, value=SEPARATORS[0][1], label="Separator")
            transcriber = gr.Dropdown(list(TRANSCRIBERS), value="basic-pitch", label="Transcriber")
            preset = gr.Dropdown(_presets(), value=PRESET_NONE, label="Preset (configs/transcribe)")
            device = gr.Radio(DEVICES, value="auto", label="Device (separation and transcription)",
                              elem_id="transcribe-device")
        defaults = ABConfig()
        with gr.Row():
            onset = gr.Slider(0.05, 0.95, value=defaults.onset_threshold, step=0.05,
                              label="Onset threshold")
            frame = gr.Slider(0.05, 0.95, value=defaults.frame_threshold, step=0.05,
                              label="Frame threshold")
            min_note = gr.Slider(10, 500, value=defaults.min_note_ms, step=1,
                                 label="Minimum note length (ms)")
            excerpt = gr.Number(value=30, minimum=0, label="Use the first N seconds (0 = all)")
        run = gr.Button("Run the A/B", variant="primary", elem_id="transcribe-run")
        summary = gr.Markdown(elem_id="transcribe-summary")
        table = gr.Dataframe(headers=list(TABLE_COLUMNS), label="Comparison (onset-only F1 first)",
                             interactive=False, elem_id="transcribe-table", wrap=True)
        with gr.Row():
            report_file = gr.File(label="Report (JSON)", interactive=False)
            table_file = gr.File(label="Table (CSV)", interactive=False)
        side = gr.Radio([], label="Show the stems of", elem_id="transcribe-side")
        report_state = gr.State(None)
        slot_outputs = _stem_slots()

        on_run = _run_handler(settings)
        run.click(on_run, [upload, reference, separator, transcriber, onset, frame, min_note, excerpt,
                           preset, device],
                  [summary, table, report_file, table_file, report_state, side] + slot_outputs,
                  api_name="transcribe_ab")
        preset.change(ui_errors("Fix the preset file in configs/transcribe")(_preset_form), [preset],
                      [separator, transcriber, onset, frame, min_note, excerpt, device], api_name=False)
        side.change(lambda report, chosen: _slot_updates(report, chosen), [report_state, side],
                    slot_outputs, api_name=False, show_progress="hidden")
        form = [separator, transcriber, onset, frame, min_note, excerpt, preset, device]
        _build_batch(settings, form)
        _build_study(settings, form)


def _build_batch(settings: StudioSettings, form: list) -> None:
    """Batch mode: a zip or several multi-track MIDI files -> pooled scores, CSV and JSON."""
    with gr.Accordion("Batch mode: a zip or several multi-track MIDI files", open=False):
        files = gr.File(label="MIDI files or a .zip of them", file_count="multiple",
                        file_types=[".mid", ".midi", ".zip"], elem_id="transcribe-batch-input")
        go = gr.Button("Run the batch", elem_id="transcribe-batch-run")
        batch_summary = gr.Markdown()
        pooled = gr.Dataframe(label="Pooled scores (micro, macro; stems vs mix win/tie/loss)",
                              interactive=False, wrap=True)
        with gr.Row():
            csv_file = gr.File(label="Per-song CSV", interactive=False)
            pooled_file = gr.File(label="Pooled CSV", interactive=False)
            json_file = gr.File(label="Report (JSON)", interactive=False)

        @ui_errors("Upload multi-track MIDI files or a zip of them")
        def on_batch(uploads, sep, trans, onset_t, frame_t, min_ms, excerpt_s, preset_name,
                     device="auto", progress=gr.Progress()):
            from pipelines.transcribe import MAX_SONGS, run_batch

            paths = [p for p in (_file_path(u) for u in (uploads or [])) if p]
            if not paths:
                raise StudioError("upload MIDI files or a .zip of them first")
            cfg = _config(preset_name, sep, trans, onset_t, frame_t, min_ms, excerpt_s, settings, device)
            # only the reports stay: each song's stems and MIDI live in a temporary folder
            out = run_batch(paths, cfg, _run_dir("batch"), progress=lambda f, d: progress(f, desc=d),
                            keep_songs=False, max_songs=PUBLIC_MAX_SONGS if settings.on_space else MAX_SONGS)
            keep = ("side", "stem", "metric", "songs", "micro_f1", "macro_f1", "n_ref", "n_est",
                    "n_match", "win", "tie", "loss")
            rows = [[_cell(row.get(k)) for k in keep] for row in out["pooled"]
                    if row["metric"].endswith("50ms")]
            failed = "".join(f"\n\n- skipped {f['song']}: {without_paths(f['error'])}" for f in out["failed"])
            text = (f"Scored {out['scored']} of {out['songs']} songs in {out['seconds']:.1f} s "
                    f"(tie when |ΔF1| ≤ {out['tie_margin']}).{failed}")
            return text, gr.update(value=rows, headers=list(keep)), out["csv"], out["pooled_csv"], \
                out["json"]

        go.click(on_batch, [files] + form,
                 [batch_summary, pooled, csv_file, pooled_file, json_file], api_name="transcribe_batch")


def _study_dir(folder: str) -> Path:
    """One output folder per split folder, so running the study again resumes from its cache."""
    import hashlib
    import re

    digest = hashlib.sha256(folder.rstrip("/").encode("utf-8", "replace")).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_-]", "_", Path(folder).name)[:40]
    return workspace_dir() / "outputs" / "transcribe" / f"slakh-{name}-{digest}"


def _study_summary(out: dict) -> str:
    rtf = ", ".join(f"{k} {v:.3f}" for k, v in out["real_time_factor"].items())
    skipped = "".join(f"\n\n- skipped {s['track']}: {without_paths(s['reason'])}" for s in out["skipped"])
    return (f"Scored {out['scored']} of {out['tracks']} tracks ({out['cached']} from the cache) in "
            f"{out['seconds']:.1f} s. {out['mix_scoring']}\n\nReal-time factor per stage: {rtf}. "
            f"Intervals: paired bootstrap 95 % over tracks.{skipped}")


def _study_handler(settings: StudioSettings):
    """The study handler: run_slakh writes the report; this shows its summary, table, chart, files."""

    @ui_errors("Give a Slakh2100 split folder on this server")
    def on_study(path, chosen, first_n, admin_password, sep, trans, onset_t, frame_t, min_ms,
                 excerpt_s, preset_name, device="auto", progress=gr.Progress()):
        from pipelines.transcribe import run_slakh

        settings.require_admin(admin_password)
        folder = str(path or "").strip()
        if not folder:
            raise StudioError("type the path of a Slakh2100 split folder on this server first")
        cfg = _config(preset_name, sep, trans, onset_t, frame_t, min_ms, excerpt_s, settings, device)
        out_dir = _study_dir(folder)
        out = run_slakh(folder, cfg, out_dir, separators=chosen or None, max_tracks=int(first_n or 0) or None,
                        progress=lambda f, d: progress(f, desc=d),
                        command=f"studio Transcribe A/B tab: Slakh2100 study of {Path(folder).name}")
        keep = ("class", "comparison", "metric", "mean", "low", "high", "n")
        rows = [[_cell(r.get(k)) for k in keep] for r in out["differences"] if r["mean"] is not None]
        reports = ("scores_csv", "differences_csv", "sdr_csv")
        files = [str(out_dir / "study.json")] + [out["files"][k] for k in reports if out["files"][k]]
        return _study_summary(out), gr.update(value=rows, headers=list(keep)), out["files"]["chart"], files

    return on_study


def _build_study(settings: StudioSettings, form: list) -> None:
    """The Slakh2100 study over a split folder on this server (the admin's: it reads server folders)."""
    with gr.Accordion("Slakh2100 study: a split folder on this server", open=False):
        gr.Markdown("Each track's own stems are the oracle and its MIDI the reference; every track is "
                    "cached, so a stopped study run again goes on where it stopped.")
        with gr.Row():
            folder = gr.Textbox(label="Slakh2100 split folder on this server (e.g. "
                                      "slakh2100_flac_redux/test)", elem_id="transcribe-slakh-folder")
            models = gr.CheckboxGroup(list(SEPARATOR_MODELS), label="Separators to compare (with their "
                                      "weights on this server)")
            max_tracks = gr.Number(value=0, minimum=0, precision=0, label="Only the first N tracks (0 = all)")
            password = gr.Textbox(label="Admin password (the study reads server folders)", type="password",
                                  visible=bool(settings.admin_password))
        go = gr.Button("Run the study", elem_id="transcribe-slakh-run")
        summary = gr.Markdown()
        table = gr.Dataframe(label="Differences (mean over tracks, 95 % interval)", interactive=False,
                             wrap=True)
        chart = gr.Image(label="Differences with their intervals", type="filepath", interactive=False)
        files = gr.File(label="Report (JSON, CSV)", file_count="multiple", interactive=False)

        on_study = _study_handler(settings)
        go.click(on_study, [folder, models, max_tracks, password] + form, [summary, table, chart, files],
                 api_name="transcribe_slakh")


def _cell(value: Any) -> Any:
    if value is None:
        return "N/A"
    return round(value, 3) if isinstance(value, float) else value
