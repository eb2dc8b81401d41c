"""The out-of-process transcriber plug-in, driven by a tiny real script written here."""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from pipelines.common.errors import StudioError
from pipelines.transcribe.config import ABConfig
from pipelines.transcribe.transcribers import TRANSCRIBERS, get_transcriber

SCRIPT = textwrap.dedent("""
    import sys, time
    import pretty_midi, soundfile
    wav, out, ckpt, mode = sys.argv[1:5]
    audio, rate = soundfile.read(wav)
    open(ckpt).read()  # the checkpoint must be readable
    if mode == "fail":
        sys.exit("model exploded")
    if mode == "sleep":
        time.sleep(30)
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    if mode == "notes":  # one note per second of input, pitch 60 + i
        for i in range(int(len(audio) / rate)):
            inst.notes.append(pretty_midi.Note(100, 60 + i, float(i), i + 0.5))
    pm.instruments.append(inst)
    pm.write(out)
""")


@pytest.fixture
def plugin(tmp_path):
    script = tmp_path / "fake_mt3.py"
    script.write_text(SCRIPT)
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_text("weights")

    def config(mode: str, timeout_s: float = 60.0) -> ABConfig:
        return ABConfig(transcriber="external", external_checkpoint=str(checkpoint),
                        external_timeout_s=timeout_s,
                        external_command=[sys.executable, str(script), "{input}", "{output}",
                                          "{checkpoint}", mode])
    return config


AUDIO = (0.1 * np.sin(np.arange(3 * 16_000) / 16_000 * 2 * np.pi * 440)).astype(np.float32)


def test_registry_names_every_backend():
    assert set(TRANSCRIBERS) == {"basic-pitch", "muscriptor", "external"}
    with pytest.raises(StudioError, match="transcriber must be one of"):
        get_transcriber("yourmt3-typo")


def test_the_plugin_reads_the_midi_its_command_writes(plugin):
    notes = get_transcriber("external")(AUDIO, 16_000, plugin("notes"))
    assert notes.pitches.tolist() == [60, 61, 62]
    assert notes.intervals[:, 0].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("mode, message", [
    ("empty", "zero notes; that counts as a failure"),
    ("fail", "failed with exit code 1: model exploded"),
])
def test_failures_are_one_sentence(plugin, mode, message):
    with pytest.raises(StudioError, match=message):
        get_transcriber("external")(AUDIO, 16_000, plugin(mode))


def test_a_slow_plugin_is_stopped_by_the_timeout(plugin):
    with pytest.raises(StudioError, match="did not finish within 2 s"):
        get_transcriber("external")(AUDIO, 16_000, plugin("sleep", timeout_s=2.0))


def test_bad_commands_are_refused_before_running(plugin, tmp_path):
    cfg = plugin("notes")
    cfg.external_command = [sys.executable, "x.py", "{input}"]
    with pytest.raises(StudioError, match=r"must contain \{output\}"):
        get_transcriber("external")(AUDIO, 16_000, cfg)
    cfg = plugin("notes")
    cfg.external_checkpoint = str(tmp_path / "missing.ckpt")
    with pytest.raises(StudioError, match="checkpoint .* does not exist"):
        get_transcriber("external")(AUDIO, 16_000, cfg)
    cfg.external_command = None
    with pytest.raises(StudioError, match="needs external_command"):
        get_transcriber("external")(AUDIO, 16_000, cfg)
