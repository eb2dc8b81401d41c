"""What a client reads: one sentence, the user's own file name and never a server folder; every input
checked by its field before Gradio converts it; an expected refusal is one log line."""
from __future__ import annotations

import logging
import math

import gradio as gr
import pytest

from pipelines.common.errors import StudioError, reason
from studio.common import check_input, client_message, ui_errors, without_paths


@pytest.mark.parametrize("text, expected", [
    ("/tmp/gradio/3f2a9c/song.wav is not readable audio", "song.wav is not readable audio"),
    ("no run named 'x' in /home/ada/studio/workspace/runs (runs: a)", "no run named 'x' in runs (runs: a)"),
    ("weights go in /root/.cache/torch/hub/checkpoints/", "weights go in a server folder"),
    ("| Cmaj7 | D/F# | 3/4 | https://huggingface.co/Qwen/Qwen2.5", None),  # chords, meters, URLs stay
])
def test_server_paths_are_cut_to_the_users_file(text, expected):
    assert without_paths(text) == (expected if expected is not None else text)


def test_a_client_message_is_one_short_sentence_with_the_next_step():
    message = client_message("bars must be 1-64 (got 500).\n  Really.", "Fix the input and press Generate again")
    assert message == "bars must be 1-64 (got 500).  Really; fix the input and press Generate again".replace("  ", " ")
    assert len(client_message("x" * 5000)) <= 400


def test_lost_reasons_get_a_sentence():
    assert reason(EOFError()) == "the data ends before it should"
    assert reason(KeyError("")) != ""
    long = RuntimeError("Error opening '/tmp/gradio/ab12/my song.wav': Format not recognised. " + "word " * 60)
    text = reason(long)
    assert "/tmp" not in text and "my song.wav" in text and text.endswith("…") and " wor …" not in text


def test_an_expected_refusal_is_one_log_line_and_a_bug_keeps_its_traceback(caplog):
    @ui_errors("Pick another file")
    def refuse(path: str):
        raise StudioError(f"{path} is not a readable MIDI file (the data ends before it should)")

    @ui_errors()
    def crash():
        raise KeyError("/srv/studio/workspace/runs/secret-run/status.json")

    with caplog.at_level(logging.INFO, logger="studio.common"):
        with pytest.raises(gr.Error) as refused:
            refuse("/tmp/gradio/abc/take.mid")
        assert refused.value.message == ("take.mid is not a readable MIDI file (the data ends before it should); "
                                         "pick another file")
        assert not refused.value.print_exception
        records = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(records) == 1 and records[0].exc_info is None
        with pytest.raises(gr.Error) as bug:
            crash()
    assert "/srv/" not in bug.value.message and "status.json" in bug.value.message
    assert any(r.exc_info for r in caplog.records if "crash failed" in r.getMessage())


NUMBER = gr.Number(label="Seed", minimum=0, maximum=100, precision=0)
SLIDER = gr.Slider(label="Temperature", minimum=0.05, maximum=5.0)


@pytest.mark.parametrize("block, value, words", [
    (NUMBER, "abc", "'Seed' must be a number (got 'abc')"),
    (NUMBER, math.nan, "'Seed' must be a finite number"),
    (NUMBER, "inf", "'Seed' must be a finite number"),
    (NUMBER, 1e30, "'Seed' must be 0-100 (got 1e+30)"),
    (NUMBER, -1, "'Seed' must be 0-100"),
    (NUMBER, [1], "'Seed' must be a number (got [1])"),
    (NUMBER, True, "'Seed' must be a number"),
    (SLIDER, None, "'Temperature' must be a number"),
    (gr.Checkbox(label="Drop drums"), "abc", "'Drop drums' must be true or false"),
    (gr.Dropdown(label="Meter", choices=["4/4", "3/4"]), "x" * 1000, "'Meter' must be one of its choices"),
    (gr.Dropdown(label="Meter", choices=["4/4"]), {"a": 1}, "'Meter' must be one of its choices"),
    (gr.Dropdown(label="Systems", choices=["rules"], multiselect=True, allow_custom_value=True), [1, 2],
     "'Systems' must be one of its choices (got 1)"),
    (gr.Textbox(label="Chord chart"), "x" * 1_000_000, "'Chord chart' is 1,000,000 characters long"),
    (gr.Textbox(label="Chord chart"), [1, 2], "'Chord chart' must be text"),
    (gr.File(label="MIDI"), "abc", "'MIDI' must be a file uploaded to this studio"),
    (gr.File(label="MIDI"), {"path": 5}, "'MIDI' must be a file uploaded to this studio"),
    (gr.File(label="MIDI", file_count="single"), [{"path": "a"}], "'MIDI' takes one uploaded file"),
])
def test_a_wrong_input_is_refused_by_its_field_in_one_sentence(block, value, words):
    with pytest.raises(gr.Error) as refused:
        check_input(block, value, 0)
    assert refused.value.message.startswith(words), refused.value.message
    assert len(refused.value.message) <= 400 and "\n" not in refused.value.message


def test_good_inputs_pass_unchanged_or_as_numbers():
    assert check_input(NUMBER, "7", 0) == 7 and check_input(NUMBER, None, 0) is None
    assert check_input(SLIDER, 1.5, 0) == 1.5
    assert check_input(gr.Dropdown(choices=["4/4"], allow_custom_value=True), "7/8", 0) == "7/8"
    assert check_input(gr.File(file_count="multiple"), [{"path": "/tmp/gradio/x/a.mid"}], 0)
