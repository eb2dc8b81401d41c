"""Generate tab: chord chart + style + model -> piano roll, audio, MIDI download and metrics."""
from __future__ import annotations

import functools
import math
from typing import Callable

import gradio as gr

from pipelines.common import StudioError
from pipelines.generate import (GenerateConfig, METERS, style_defaults, temperatures_text, example_charts,
                                generate, list_models, model_style)
from pipelines.music import METRIC_LABELS, TOKEN_ROOTS, piano_roll_figure, read_midi

from .common import published_models, ui_errors
from .settings import StudioSettings

STYLE_LABELS = {"Gospel": "gospel", "Mehldau": "mehldau"}
MAX_SEED = 2**32 - 1  # what numpy's generators take; a larger seed is refused before anything is written
KEYS = ["auto"] + [f"{root}{mode}" for mode in ("maj", "min") for root in TOKEN_ROOTS]
EVIDENCE_LABELS = {"longest_copied_bars": "Longest stretch found in the training data (bars)",
                   "copied_4bar_share": "Share of 4-bar windows found in the training data",
                   "tokens_per_s": "Decoding speed (tokens/s)"}


def _whole(value, name: str) -> int:
    """A whole number from a UI or API value, or a StudioError that names the field."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a whole number (got {value!r})") from None
    if not math.isfinite(number) or number != int(number):
        raise StudioError(f"{name} must be a whole number (got {value!r})")
    return int(number)


def _seed(value) -> int:
    seed = _whole(value, "seed")
    if not 0 <= seed <= MAX_SEED:
        raise StudioError(f"seed must be 0-{MAX_SEED} (got {value!r})")
    return seed


def _number(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StudioError(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(number):
        raise StudioError(f"{name} must be a finite number (got {value!r})")
    return number


def metrics_rows(metrics: dict, corpus: dict | None = None, novelty: dict | None = None,
                 decoding: dict | None = None) -> list[list]:
    """The panel: (label, this take, training corpus) rows, then novelty and decoding speed."""
    def show(value):
        return "n/a" if value is None else value

    rows = [[METRIC_LABELS.get(k, k), show(v), show((corpus or {}).get(k)) if corpus else "—"]
            for k, v in metrics.items()]
    for key in ("longest_copied_bars", "copied_4bar_share"):
        if novelty:
            rows.append([EVIDENCE_LABELS[key], show(novelty.get(key)), "—"])
    if decoding:
        engine = decoding.get("engine") or decoding.get("backend")
        speed = decoding.get("tokens_per_s")
        rows.append([EVIDENCE_LABELS["tokens_per_s"], f"{speed} ({engine})" if engine else speed, "—"])
    return rows


def _take_view(take: dict) -> tuple:
    """Piano roll, audio, MIDI and panel rows of one saved take (a dict kept in gr.State)."""
    figure = piano_roll_figure(read_midi(take["midi"]), title=take["title"])
    rows = metrics_rows(take["metrics"], take.get("corpus"), take.get("novelty"), take.get("decoding"))
    return figure, take.get("wav"), take["midi"], rows


def _run(cfg: GenerateConfig, progress) -> tuple:
    result = generate(cfg, progress=lambda fraction, message: progress(fraction, desc=message))
    if result.decoding.get("style_note"):
        gr.Info(result.decoding["style_note"])
    if result.decoding.get("substitutions"):
        gr.Info("Chords the model has no token for were played as the nearest it knows: "
                + "; ".join(result.decoding["substitutions"]))
    takes = []
    for index, take in enumerate(result.takes):
        title = (f"{cfg.style.title()} · seed {cfg.seed} · take {index + 1} · {result.piece.tempo_bpm:g} bpm "
                 f"· {cfg.meter}")
        takes.append({"midi": str(take.midi_path), "wav": str(take.wav_path) if take.wav_path else None,
                      "metrics": take.metrics, "novelty": take.novelty, "corpus": result.corpus_metrics,
                      "decoding": result.decoding, "title": title, "chart": result.chart.text(),
                      "regenerable": take.tokens is not None})
    summary = result.summary()
    summary["midi"], summary["wav"] = result.midi_path.name, result.wav_path.name if result.wav_path else None
    summary.pop("variations", None)  # no server paths in the page
    if "decoding" in summary:
        summary["decoding"] = {k: v for k, v in summary["decoding"].items() if k != "checkpoint"}
    table = [[i + 1, t["metrics"].get("chord_accuracy_root"), t["metrics"].get("notes"),
              (t["novelty"] or {}).get("longest_copied_bars", "—")] for i, t in enumerate(takes)]
    picker = gr.update(choices=[str(i + 1) for i in range(len(takes))], value="1")
    return (*_take_view(takes[0]), summary, table, takes, picker, takes[0])


def rule_settings(harmony=None, bass=True, guides=True, low=None, high=None, notes=None) -> dict:
    """The rules' GenerateConfig fields from the UI or the API (None or "" keeps the style's default)."""
    def given(value):
        return value is not None and value != ""

    out = {"bass_on_change": _flag(bass, "bass on change"), "guide_tones": _flag(guides, "guide tones")}
    if given(harmony):
        out["harmony_strength"] = _number(harmony, "harmony strength")
    for name, value, label in (("register_low", low, "register low"), ("register_high", high, "register high"),
                               ("max_notes_per_onset", notes, "notes per onset")):
        if given(value):
            out[name] = _whole(value, label)
    return out


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "1", "on", "yes"):
        return True
    if str(value).strip().lower() in ("false", "0", "off", "no"):
        return False
    raise StudioError(f"{name} must be on or off (got {value!r})")


def style_rules(style: str) -> tuple:
    """The controls a style sets: harmony strength, register low and high, notes an onset, temperature."""
    rules = style_defaults(STYLE_LABELS.get(style, str(style).lower()))
    return (rules["harmony_strength"], rules["register"][0], rules["register"][1], rules["max_notes_per_onset"],
            rules["temperature"])


def _temperature(value) -> float | None:
    """The Temperature input; None or "" (an API caller leaving it out) keeps the style's."""
    return None if value is None or value == "" else _number(value, "temperature")


@ui_errors("Fix the input and press Generate again")
def run_generate(chart: str, style: str, model: str, bars, tempo, seed, meter: str, temperature=None,
                 top_k=0, top_p=0.95, variations=1, key: str = "auto", primer=None, harmony=None, bass=True, guides=True,
                 low=None, high=None, notes=None, progress: gr.Progress = gr.Progress()):
    """Handler (and the named `generate` endpoint): piano roll, audio, MIDI, metrics, summary of take 1,
    then the variations table (inputs after ``meter`` are optional, so older callers keep working;
    the rules' inputs and the temperature left out, or None, take the style's defaults)."""
    cfg = GenerateConfig(
        chords=chart, style=STYLE_LABELS.get(style, style), model=model or "rules",
        bars=_whole(bars, "bars"), tempo_bpm=_number(tempo, "tempo"), seed=_seed(seed),
        meter=meter, render_audio=True, temperature=_temperature(temperature),
        top_k=_whole(top_k, "top-k"), top_p=_number(top_p, "top-p"), variations=_whole(variations, "variations"),
        key=None if key in (None, "", "auto") else key, primer_midi=_upload_path(primer),
        **rule_settings(harmony, bass, guides, low, high, notes))
    return _run(cfg, progress)


@ui_errors("Pick bars inside the take and press Regenerate again")
def run_regenerate(current: dict | None, bar_range: str, model: str, style: str, meter: str, tempo, seed,
                   temperature=None, top_k=0, top_p=0.95, harmony=None, bass=True, guides=True, low=None,
                   high=None, notes=None, progress: gr.Progress = gr.Progress()):
    """Generate bars i-j of the shown take again; every other bar stays as it was."""
    if not current or not current.get("regenerable"):
        raise StudioError("there is no take of a trained model to regenerate yet; generate one first")
    cfg = GenerateConfig(
        chords=current["chart"], style=STYLE_LABELS.get(style, style), model=model, meter=meter,
        tempo_bpm=_number(tempo, "tempo"), seed=_seed(seed), render_audio=True,
        temperature=_temperature(temperature), top_k=_whole(top_k, "top-k"),
        top_p=_number(top_p, "top-p"), regenerate_from=current["midi"], regenerate_bars=str(bar_range or ""),
        **rule_settings(harmony, bass, guides, low, high, notes))
    return _run(cfg, progress)


@ui_errors("Pick another model")
def follow_model(model: str, style: str):
    """Picking a model that plays one style by itself (a style adapter) sets the Style control to it."""
    own = model_style(model) if model else None
    if own is None:
        return gr.update()
    label = next((k for k, v in STYLE_LABELS.items() if v == own), None)
    if label is None:
        return gr.update(choices=[*STYLE_LABELS, own], value=own)
    if label != style:
        gr.Info(f"{model} was trained on {label}: Style set to {label} (pick another to hear it play that one)")
    return gr.update(value=label)


def listed_models_only(fn: Callable, index: int, models: Callable = list_models) -> Callable:
    """``fn`` refusing a model the studio does not list (argument ``index``, the list ``models()``):
    on a guarded studio a browser names a shipped or exported model, never a server folder."""

    @ui_errors("Pick a model from the list (press ↻ models for checkpoints made since the page loaded)")
    @functools.wraps(fn)
    def handler(*args, **kwargs):
        model = str((args[index] if len(args) > index else kwargs.get("model")) or "rules").strip()
        if model not in {value for _, value in models()}:
            raise StudioError(f"model {model[:60]!r} is not one this studio lists")
        return fn(*args, **kwargs)

    return handler


def _upload_path(upload) -> str | None:
    if upload is None or upload == "":
        return None
    return str(getattr(upload, "name", upload))


def show_take(choice: str, takes: list[dict] | None):
    """Switch the panel to another variation."""
    if not takes or not choice:
        return gr.update(), gr.update(), gr.update(), gr.update(), None
    take = takes[int(choice) - 1]
    return (*_take_view(take), take)


def build(settings: StudioSettings) -> None:
    """The Generate tab."""
    guarded = bool(settings.admin_password or settings.on_space)
    listed = functools.partial(published_models, settings)  # no run ids on a guarded studio's page
    generate_fn = listed_models_only(run_generate, 2, listed) if guarded else run_generate
    regenerate_fn = listed_models_only(run_regenerate, 2, listed) if guarded else run_regenerate
    follow_fn = listed_models_only(follow_model, 0, listed) if guarded else follow_model
    examples = example_charts()
    by_name = {e.name: e for e in examples}
    with gr.Tab("Generate", id="generate") as tab:
        gr.Markdown("Type a chord chart (bars split by `|`, `%` repeats a bar), pick a style and a model and "
                    "press **Generate**. With a trained model the chords are forced into the sequence at their "
                    "beats; the panel shows how well they can be heard in the notes next to the training "
                    "corpus, and whether any stretch was copied from it.")
        with gr.Row():
            with gr.Column(scale=3):
                example = gr.Dropdown(label="Example chart", choices=[e.name for e in examples], value=None)
                chart = gr.Textbox(label="Chord chart", lines=3, value=examples[0].chart,
                                   placeholder="| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |")
                primer = gr.File(label="Continue this MIDI (optional, trained models)", file_types=[".mid", ".midi"],
                                 type="filepath")
            with gr.Column(scale=2):
                style = gr.Radio(label="Style", choices=list(STYLE_LABELS), value="Gospel")
                with gr.Row():
                    # custom values: a checkpoint made after the page loaded is taken by name (the API too)
                    model = gr.Dropdown(label="Model", choices=listed(), value="rules", scale=4,
                                        allow_custom_value=True, elem_id="generate-model")
                    refresh = gr.Button("↻ models", size="sm", scale=1)
                with gr.Row():
                    bars = gr.Slider(label="Bars", minimum=1, maximum=64, step=1, value=8)
                    meter = gr.Dropdown(label="Meter", choices=list(METERS), value="4/4")
                    key = gr.Dropdown(label="Key", choices=KEYS, value="auto")
                with gr.Row():
                    tempo = gr.Number(label="Tempo (bpm, 20-300)", value=examples[0].tempo_bpm, precision=0,
                                      minimum=20, maximum=300)
                    seed = gr.Number(label="Seed", value=1, precision=0, minimum=0, maximum=MAX_SEED)
                    variations = gr.Slider(label="Variations", minimum=1, maximum=8, step=1, value=1)
                with gr.Accordion("Sampling (trained models)", open=False):
                    temperature = gr.Slider(label="Temperature", minimum=0.05, maximum=5.0, step=0.05,
                                            value=style_rules("Gospel")[4],
                                            info=f"picking a style sets its own ({temperatures_text()})")
                    top_k = gr.Number(label="Top-k (0 = off)", value=0, precision=0, minimum=0, maximum=100_000)
                    top_p = gr.Slider(label="Top-p", minimum=0.01, maximum=1.0, step=0.01, value=0.95)
                strength0, low0, high0, notes0, _ = style_rules("Gospel")
                with gr.Accordion("Pianist's rules (trained models)", open=False):
                    gr.Markdown("What the decoder holds every trained model to. Harmony strength 0 lets you hear "
                                "what the model itself learned; 1 masks every note outside the chord's tones "
                                "and tensions. Picking a style sets harmony strength, register and notes an onset to its own.")
                    harmony = gr.Slider(label="Harmony strength", minimum=0.0, maximum=1.0, step=0.05,
                                        value=strength0)
                    with gr.Row():
                        bass_rule = gr.Checkbox(label="Root or slash bass at each chord change", value=True)
                        guide_rule = gr.Checkbox(label="3rd and 7th with that bass", value=True)
                    with gr.Row():
                        low = gr.Slider(label="Register: lowest note (MIDI)", minimum=21, maximum=108, step=1,
                                        value=low0)
                        high = gr.Slider(label="Register: highest note (MIDI)", minimum=21, maximum=108, step=1,
                                         value=high0)
                        notes = gr.Slider(label="Notes struck together at most", minimum=1, maximum=10, step=1,
                                          value=notes0)
        button = gr.Button("Generate", variant="primary")
        pick = gr.Radio(label="Variation shown", choices=["1"], value="1")
        roll = gr.Plot(label="Piano roll", elem_classes=["pianoroll"])
        with gr.Row():
            audio = gr.Audio(label="Listen", type="filepath", interactive=False)
            midi = gr.File(label="MIDI download", interactive=False)
        with gr.Row():
            metrics = gr.Dataframe(label="Metrics", headers=["metric", "this take", "training corpus"],
                                   interactive=False, elem_classes=["metrics-table"])
            summary = gr.JSON(label="Summary")
        table = gr.Dataframe(label="Variations", headers=["take", "chord accuracy (root)", "notes",
                                                           "longest copied (bars)"], interactive=False)
        with gr.Row():
            bar_range = gr.Textbox(label="Bars to regenerate (e.g. 3-4)", value="1-2", scale=3)
            regen = gr.Button("Regenerate bars", scale=1)
        takes, current = gr.State([]), gr.State(None)

        def pick_example(name):
            if not name:
                return gr.update(), gr.update(), gr.update()
            chosen = by_name[name]
            return chosen.chart, "Mehldau" if chosen.style == "mehldau" else "Gospel", chosen.tempo_bpm

        outputs = [roll, audio, midi, metrics, summary, table, takes, pick, current]
        example.change(pick_example, inputs=example, outputs=[chart, style, tempo], api_name=False)
        refresh.click(lambda: gr.update(choices=listed()), outputs=model, api_name=False)
        tab.select(lambda: gr.update(choices=listed()), outputs=model, api_name=False)  # runs made meanwhile
        model.input(follow_fn, inputs=[model, style], outputs=style, api_name=False)
        style.change(style_rules, inputs=style, outputs=[harmony, low, high, notes, temperature], api_name=False)
        rules = [harmony, bass_rule, guide_rule, low, high, notes]
        button.click(generate_fn, inputs=[chart, style, model, bars, tempo, seed, meter, temperature, top_k,
                                           top_p, variations, key, primer, *rules],
                     outputs=outputs, api_visibility="private")
        regen.click(regenerate_fn, inputs=[current, bar_range, model, style, meter, tempo, seed, temperature,
                                            top_k, top_p, *rules], outputs=outputs, api_visibility="private")
        # the named endpoints: the same handlers, but the settings a style sets come from hidden inputs
        # without a value, so a gradio_client call that leaves them out gets its style's, not Gospel's
        # (the client fills a left-out input with its component's first value)
        unset = {c: gr.Number(value=None, visible=False, label=c.label) for c in (temperature, harmony, low, high,
                                                                                    notes)}
        api_rules = [unset[harmony], bass_rule, guide_rule, unset[low], unset[high], unset[notes]]
        api_call = gr.Button(visible=False)
        api_call.click(generate_fn, inputs=[chart, style, model, bars, tempo, seed, meter, unset[temperature],
                                            top_k, top_p, variations, key, primer, *api_rules],
                       outputs=outputs, api_name="generate")
        api_call.click(regenerate_fn, inputs=[current, bar_range, model, style, meter, tempo, seed,
                                              unset[temperature], top_k, top_p, *api_rules],
                       outputs=outputs, api_name="regenerate")
        pick.input(show_take, inputs=[pick, takes], outputs=[roll, audio, midi, metrics, current], api_name=False)
