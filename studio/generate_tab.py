"""Generate tab: chord chart + style + model -> piano roll, audio, MIDI download and metrics."""
from __future__ import annotations

import gradio as gr

from pipelines.common.errors import StudioError
from pipelines.generate.api import METERS, MODELS, STYLES, GenerateConfig, generate
from pipelines.generate.examples import example_charts
from pipelines.music.metrics import METRIC_LABELS
from pipelines.music.pianoroll import piano_roll_figure

from .common import ui_errors
from .settings import StudioSettings

STYLE_LABELS = {"Gospel": "gospel", "Mehldau": "mehldau"}


def _whole(value, name: str) -> int:
    """A whole number from a UI or API value, or a StudioError that names the field."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a whole number (got {value!r})") from None
    if number != int(number):
        raise StudioError(f"{name} must be a whole number (got {value!r})")
    return int(number)


def _number(value, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a number (got {value!r})") from None


def metrics_rows(metrics: dict) -> list[list]:
    """The metrics as (label, value) rows for the panel."""
    return [[METRIC_LABELS.get(k, k), "n/a" if v is None else v] for k, v in metrics.items()]


@ui_errors("Fix the input and press Generate again")
def run_generate(chart: str, style: str, model: str, bars, tempo, seed, meter: str,
                 progress: gr.Progress = gr.Progress()):
    """Handler (and the named `generate` endpoint): returns piano roll, audio, MIDI, metrics, summary."""
    cfg = GenerateConfig(
        chords=chart, style=STYLE_LABELS.get(style, style), model=model,
        bars=_whole(bars, "bars"), tempo_bpm=_number(tempo, "tempo"), seed=_whole(seed, "seed"),
        meter=meter, render_audio=True)
    result = generate(cfg, progress=lambda fraction, message: progress(fraction, desc=message))
    title = f"{cfg.style.title()} · seed {cfg.seed} · {result.piece.tempo_bpm:g} bpm · {cfg.meter}"
    figure = piano_roll_figure(result.piece, title=title)
    summary = result.summary()
    summary["midi"], summary["wav"] = result.midi_path.name, result.wav_path.name  # no server paths
    return figure, str(result.wav_path), str(result.midi_path), metrics_rows(result.metrics), summary


def build(settings: StudioSettings) -> None:
    """The Generate tab."""
    examples = example_charts()
    by_name = {e.name: e for e in examples}
    with gr.Tab("Generate", id="generate"):
        gr.Markdown("Type a chord chart (bars split by `|`, `%` repeats a bar), pick a style and press "
                    "**Generate**. Each seed is a different take; the metrics show how well the chords "
                    "can be heard in the notes.")
        with gr.Row():
            with gr.Column(scale=3):
                example = gr.Dropdown(label="Example chart", choices=[e.name for e in examples], value=None)
                chart = gr.Textbox(label="Chord chart", lines=3, value=examples[0].chart,
                                   placeholder="| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |")
            with gr.Column(scale=2):
                style = gr.Radio(label="Style", choices=list(STYLE_LABELS), value="Gospel")
                model = gr.Dropdown(label="Model", choices=list(MODELS), value="rules")
                with gr.Row():
                    bars = gr.Slider(label="Bars", minimum=1, maximum=64, step=1, value=8)
                    meter = gr.Dropdown(label="Meter", choices=list(METERS), value="4/4")
                with gr.Row():
                    tempo = gr.Number(label="Tempo (bpm, 20-300)", value=examples[0].tempo_bpm, precision=0)
                    seed = gr.Number(label="Seed", value=1, precision=0)
        button = gr.Button("Generate", variant="primary")
        roll = gr.Plot(label="Piano roll", elem_classes=["pianoroll"])
        with gr.Row():
            audio = gr.Audio(label="Listen", type="filepath", interactive=False)
            midi = gr.File(label="MIDI download", interactive=False)
        with gr.Row():
            metrics = gr.Dataframe(label="Metrics", headers=["metric", "value"], interactive=False,
                                   elem_classes=["metrics-table"])
            summary = gr.JSON(label="Summary")

        def pick_example(name):
            if not name:
                return gr.update(), gr.update(), gr.update()
            chosen = by_name[name]
            return chosen.chart, "Mehldau" if chosen.style == "mehldau" else "Gospel", chosen.tempo_bpm

        example.change(pick_example, inputs=example, outputs=[chart, style, tempo], api_name=False)
        button.click(run_generate, inputs=[chart, style, model, bars, tempo, seed, meter],
                     outputs=[roll, audio, midi, metrics, summary], api_name="generate")
