"""Creating a test with the real rule-based engines: clips rendered alike, opaque names, all or nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
import soundfile

from pipelines.common.config import load_config
from pipelines.common.errors import StudioError
from pipelines.common.paths import configs_dir
from pipelines.listen import ListenTestConfig, chart_sets, create_test, list_tests, load_charts
from pipelines.listen.store import connect, listen_dir


@pytest.mark.parametrize("preset", sorted(p.name for p in (configs_dir() / "listen").glob("*.yaml")))
def test_every_preset_loads(preset):
    cfg = load_config(ListenTestConfig, configs_dir() / "listen" / preset)
    assert load_charts(cfg.charts)


@pytest.mark.parametrize("chart_set", chart_sets())
def test_every_chart_set_parses(chart_set):
    charts = load_charts(chart_set)
    assert len(charts) >= 3 and all(chords.startswith("|") for _, chords in charts)


def test_chart_files_and_their_errors(tmp_path):
    good = tmp_path / "mine.txt"
    good.write_text("# my charts\nBlues: | C7 | F7 | C7 | G7 |\n| Dm7 | G7 |\n")
    assert load_charts(good) == [("Blues", "| C7 | F7 | C7 | G7 |"), ("chart 2", "| Dm7 | G7 |")]
    bad = tmp_path / "bad.txt"
    bad.write_text("Oops: | Cmaj7 | Hm7 |\n")
    with pytest.raises(StudioError, match="chart 'Oops' in bad.txt: bar 2"):
        load_charts(bad)
    with pytest.raises(StudioError, match="must be a chart set"):
        load_charts(tmp_path / "missing.txt")
    with pytest.raises(StudioError, match="seeds_per_chart must be 1-16"):
        ListenTestConfig(seeds_per_chart=0)


def test_create_renders_every_clip_alike(tmp_path):
    charts = tmp_path / "charts.txt"
    charts.write_text("Two-five-one: | Dm7 | G7 | Cmaj7 | Cmaj7 |\nAmen: | Fmaj9 | Fm6 | Cmaj9 | Cmaj9 |\n")
    cfg = ListenTestConfig(name="Gospel vs Mehldau!", system_1="rules", system_2="rules", style="gospel",
                           style_2="mehldau", charts=str(charts), seeds_per_chart=2, bars=2, tempo_bpm=120,
                           seed=5, repeats=0, catch_trials=0)
    steps = []
    made = create_test(cfg, progress=lambda fraction, message: steps.append(fraction))
    assert made["test_id"].startswith("gospel-vs-mehldau-") and made["pairs"] == 4 and made["clips"] == 8
    assert made["systems"] == ["rules (gospel)", "rules (mehldau)"] and steps[-1] == 1.0
    folder = listen_dir(made["test_id"])
    with connect() as conn:
        clips = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM clips")}
        pairs = [dict(r) for r in conn.execute("SELECT * FROM pairs ORDER BY id")]
    assert sorted((p["chart_name"], p["seed"]) for p in pairs) == [
        ("Amen", 5), ("Amen", 6), ("Two-five-one", 5), ("Two-five-one", 6)]
    for pair in pairs:
        first, second = clips[pair["clip_1_id"]], clips[pair["clip_2_id"]]
        assert (first["system"], second["system"]) == ("rules (gospel)", "rules (mehldau)")
        assert first["seed"] == second["seed"] == pair["seed"]
        audio = [soundfile.info(str(folder / clip["file"])) for clip in (first, second)]
        assert audio[0].frames == audio[1].frames and audio[0].samplerate == audio[1].samplerate == 44100
        assert first["sha256"] != second["sha256"]
    for clip in clips.values():
        assert clip["loudness_lufs"] == pytest.approx(-20.0, abs=0.5)
        assert clip["bars"] == 2 and clip["tempo_bpm"] == 120
        name = Path(clip["file"]).name
        assert not any(word in name for word in ("rules", "gospel", "mehldau", "seed"))  # blind
        assert (folder / clip["midi_file"]).is_file()
        assert Path(clip["midi_file"]).stem != Path(clip["file"]).stem  # the WAV's name leads to no MIDI
    assert not (folder / "work").exists()


def test_a_failed_create_leaves_nothing_behind(studio_home):
    cfg = ListenTestConfig(name="broken", system_1="rules", system_2="no-such-model", charts="turnarounds",
                           seeds_per_chart=1, bars=1)
    with pytest.raises(StudioError, match="no-such-model cannot be generated: model must be"):
        create_test(cfg)
    assert list_tests() == []
    assert not any((studio_home / "listen").glob("broken-*"))


def test_systems_are_the_models_generate_offers():
    from pipelines.generate.model.loading import list_models
    from pipelines.listen import list_systems

    systems = list_systems()
    assert systems == list_models() and "rules" in [value for _, value in systems]


def test_three_systems_in_a_round_robin_with_hidden_checks(tmp_path):
    import numpy as np

    from pipelines.music.midi_reader import load_pretty_midi

    charts = tmp_path / "charts.txt"
    charts.write_text("Two-five-one: | Dm7 | G7 | Cmaj7 | Cmaj7 |\nAmen: | Fmaj9 | Fm6 | Cmaj9 | Cmaj9 |\n")
    cfg = ListenTestConfig(name="three", system_1="rules", system_2="rules", style="gospel",
                           style_2="mehldau",
                           more_systems=("default@gospel",), charts=str(charts), seeds_per_chart=1, bars=2,
                           tempo_bpm=120, repeats=2, catch_trials=2, catch_kind="scatter")
    made = create_test(cfg)
    assert made["systems"] == ["rules (gospel)", "rules (mehldau)", "default (gospel)"]
    assert made["pairs"] == 2 * 3 and made["hidden_checks"] == 4 and made["clips"] == 2 * 3 + 2
    assert made["plan"]["pairs_per_participant"] == 10 and made["plan"]["votes_needed_per_system_pair"] == 210
    folder = listen_dir(made["test_id"])
    with connect() as conn:
        clips = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM clips")}
        pairs = [dict(r) for r in conn.execute("SELECT * FROM pairs ORDER BY id")]
        test = conn.execute("SELECT systems_json, min_play_s FROM tests").fetchone()
    assert test["min_play_s"] == 0.0 and "default (gospel)" in test["systems_json"]
    main = [p for p in pairs if p["kind"] == "main"]
    heard = sorted((p["chart_name"], clips[p["clip_1_id"]]["system"], clips[p["clip_2_id"]]["system"])
                   for p in main)
    assert heard == sorted((chart, a, b) for chart in ("Amen", "Two-five-one")
                           for a, b in (("rules (gospel)", "rules (mehldau)"),
                                        ("rules (gospel)", "default (gospel)"),
                                        ("rules (mehldau)", "default (gospel)")))  # every pair, every chart
    repeats = [p for p in pairs if p["kind"] == "repeat"]
    for repeat in repeats:
        original = next(p for p in main if p["id"] == repeat["repeat_of"])
        assert (repeat["clip_1_id"], repeat["clip_2_id"]) == (original["clip_1_id"], original["clip_2_id"])
    for catch in (p for p in pairs if p["kind"] == "catch"):
        original, copy = clips[catch["clip_1_id"]], clips[catch["clip_2_id"]]
        assert copy["system"] == f"degraded copy (scatter) of {original['system']}"
        frames = [soundfile.info(str(folder / clip["file"])).frames for clip in (original, copy)]
        assert frames[0] == frames[1]
        assert copy["loudness_lufs"] == pytest.approx(-20.0, abs=0.5)
        notes = [load_pretty_midi(folder / clip["midi_file"]).instruments[0].notes
                 for clip in (original, copy)]
        assert sorted(n.start for n in notes[0]) == sorted(n.start for n in notes[1])  # the same timing
        before, after = ({(round(n.start, 3), n.pitch) for n in clip_notes} for clip_notes in notes)
        assert len(before & after) < 0.2 * len(before)  # every note moved (a few land on a chord-mate)
        spread = np.array([min(abs(p - q) for s, q in before if s == t) for t, p in after])
        assert spread.max() <= 12
        assert not any(word in Path(copy["file"]).name for word in ("degraded", "catch", "rules"))


def test_wrong_chords_move_the_low_notes_bar_by_bar(tmp_path):
    import pretty_midi

    from pipelines.listen.degrade import degrade_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(0)
    for bar in range(4):  # a C major chord under a melody note, every bar (2 s a bar at 120 bpm)
        for pitch in (48, 52, 55, 72):
            piano.notes.append(pretty_midi.Note(80, pitch, bar * 2.0, bar * 2.0 + 1.5))
    midi.instruments.append(piano)
    midi.write(str(tmp_path / "in.mid"))
    assert degrade_midi(tmp_path / "in.mid", tmp_path / "out.mid", "wrong_chords", seed=3) == 12
    out = pretty_midi.PrettyMIDI(str(tmp_path / "out.mid")).instruments[0].notes
    for bar in range(4):
        low = [n.pitch for n in out if n.start == pytest.approx(bar * 2.0) and n.pitch < 66]
        shift = {p - q for p, q in zip(sorted(low), (48, 52, 55))}
        assert len(shift) == 1 and shift.pop() in (-6, -1, 1, 6)                 # one wrong chord a bar
    assert [n.pitch for n in out if n.pitch > 66] == [72] * 4                     # the melody stays
    with pytest.raises(StudioError, match="catch_kind must be one of scatter, wrong_chords"):
        degrade_midi(tmp_path / "in.mid", tmp_path / "x.mid", "reverse", seed=1)
