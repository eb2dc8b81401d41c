"""The Generate tab's handlers with a trained checkpoint: old positional calls still work, the new inputs
(sampling, variations, key, primer) reach the model, the panel carries corpus and novelty rows, and
regenerating bars of the shown take keeps the others."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from generate_model_fixtures import write_tiny_checkpoint

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tab_ckpt"))


def test_the_tab_imports_no_ml_library():
    tree = ast.parse((REPO / "studio" / "generate_tab.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"torch", "transformers", "peft", "onnxruntime"}


def test_old_positional_call_with_the_rules_model_still_works():
    from studio.generate_tab import run_generate

    out = run_generate("| Cmaj7 | Am7 |", "Gospel", "rules", 2, 90, 1, "4/4")
    figure, wav, midi, rows, summary = out[:5]
    assert Path(wav).is_file() and Path(midi).is_file() and summary["bars"] == 2
    assert rows[0][0] == "Chord accuracy (root)" and rows[0][2] == "—"


def test_trained_model_variations_panel_and_regenerate(checkpoint, studio_home):
    from studio.generate_tab import run_generate, run_regenerate, show_take

    out = run_generate("| Dm7 | G7 | Cmaj7 | A7 |", "Mehldau", str(checkpoint), 4, 80, 3, "4/4", 1.3, 20, 0.9, 2,
                       "Cmaj", None)
    figure, wav, midi, rows, summary, table, takes, picker, current = out
    assert len(takes) == 2 and len(table) == 2 and summary["decoding"]["tokens_per_s"] > 0
    assert "checkpoint" not in summary["decoding"]
    speed = next(r[1] for r in rows if r[0] == "Decoding speed (tokens/s)")
    engine = summary["decoding"]["engine"]   # torch or onnxruntime and which weights
    assert speed == f"{summary['decoding']['tokens_per_s']} ({engine})"
    assert engine == "torch" or engine.startswith("onnxruntime, ") and "weights" in engine
    other = show_take("2", takes)
    assert other[2] == takes[1]["midi"] and other[4] == takes[1]
    again = run_regenerate(current, "2-3", str(checkpoint), "Mehldau", "4/4", 80, 3, 1.3, 20, 0.9)
    old = json.loads(Path(current["midi"]).with_suffix(".json").read_text())["tokens"]
    new = json.loads(Path(again[8]["midi"]).with_suffix(".json").read_text())["tokens"]

    def bars(words):
        text = " ".join(words)
        return text.split("BAR_START")[1:]

    assert bars(old)[0] == bars(new)[0] and bars(old)[3].replace("SONG_END", "") == bars(new)[3].replace("SONG_END", "")


def test_regenerate_without_a_take_says_what_to_do(checkpoint):
    import gradio as gr

    from studio.generate_tab import run_regenerate

    with pytest.raises(gr.Error, match="generate one first"):
        run_regenerate(None, "1-2", str(checkpoint), "Gospel", "4/4", 90, 1)


def test_the_rules_reach_the_model_and_bad_ones_get_one_sentence(checkpoint, studio_home):
    import gradio as gr

    from studio.generate_tab import run_generate

    out = run_generate("| Dm7 | G7 | Cmaj7 | Cmaj7 |", "Gospel", str(checkpoint), 4, 80, 2, "4/4", 1.4, 0, 1.0, 1,
                       "auto", None, 1.0, True, True, 40, 84, 5)
    metrics = out[6][0]["metrics"]
    assert metrics["chord_tone_ratio_tension_aware"] == 1.0 and metrics["bass_on_change"] == 1.0
    assert metrics["max_notes_per_onset"] <= 5
    with pytest.raises(gr.Error, match="harmony strength must be a number"):
        run_generate("| C |", "Gospel", str(checkpoint), 1, 80, 2, "4/4", 1.0, 0, 1.0, 1, "auto", None, "abc")
    with pytest.raises(gr.Error, match="no key for the bass of G7"):
        run_generate("| C | G7 |", "Gospel", str(checkpoint), 2, 80, 2, "4/4", 1.0, 0, 1.0, 1, "auto", None,
                     0.5, True, False, 60, 66, 4)


def test_picking_a_style_adapter_sets_the_style_and_styles_set_their_rules():
    from studio.generate_tab import follow_model, style_rules

    assert follow_model("checkpoints/mehldau", "Gospel")["value"] == "Mehldau"
    assert follow_model("checkpoints/gospel", "Gospel")["value"] == "Gospel"
    assert follow_model("rules", "Gospel") == {"__type__": "update"}
    assert style_rules("Gospel") != style_rules("Mehldau")
    assert style_rules("Gospel")[4] > style_rules("Mehldau")[4]   # Gospel repeats itself at Mehldau's temperature


def test_a_take_samples_at_its_styles_temperature_unless_told(checkpoint, studio_home):
    from pipelines.generate import GenerateConfig, generate, style_defaults

    for style, temperature in (("gospel", None), ("mehldau", None), ("mehldau", 0.7)):
        result = generate(GenerateConfig(chords="| Dm7 G7 | Cmaj7 |", style=style, model=str(checkpoint),
                                         temperature=temperature, render_audio=False, backend="torch"))
        used = result.decoding["temperature"]
        assert used == (style_defaults(style)["temperature"] if temperature is None else temperature)
