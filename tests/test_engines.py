"""The rule-based Gospel and Mehldau engines follow the chart, differ from each other, vary by seed."""
from __future__ import annotations

import random
import statistics

import pytest

from pipelines.generate.corpus import random_chart, write_corpus
from pipelines.generate.rules import perform_chart
from pipelines.music.chords import parse_chart
from pipelines.music.metrics import all_metrics, chord_accuracy, chord_tone_ratio
from pipelines.music.midi_reader import read_midi
from pipelines.music.piece import PIANO_HIGH, PIANO_LOW

STYLES = ("gospel", "mehldau")


def charts(n: int = 20, seed: int = 2026) -> list[str]:
    """Random charts drawn from both styles' progressions, in random keys, with slash chords,
    altered dominants and N.C. bars among them."""
    rng = random.Random(seed)
    return [random_chart(STYLES[i % 2], rng, bars=8)[0] for i in range(n)]


@pytest.fixture(scope="module")
def takes():
    out = {}
    for style in STYLES:
        for index, text in enumerate(charts()):
            meter = (4, 4) if style == "gospel" or index % 4 else (5, 4)
            out[style, index] = perform_chart(parse_chart(text), style, 60 + 4 * index, index, meter)
    return out


@pytest.mark.parametrize("style", STYLES)
def test_engines_follow_the_chart(takes, style):
    pieces = [p for (s, _), p in takes.items() if s == style]
    hits = spans = ct_hits = ct_total = 0
    for piece in pieces:
        accuracy = chord_accuracy(piece)
        spans += accuracy["n"]
        hits += round(accuracy["root_quality"] * accuracy["n"])
        ctr = chord_tone_ratio(piece, tension_aware=True)
        notes = sum(1 for n in piece.notes if piece.chord_at(n.start) is not None)
        ct_total += notes
        ct_hits += round(ctr * notes)
        assert accuracy["root"] >= 0.75, piece.chords  # no take loses the harmony
    assert hits / spans >= 0.95, f"{style}: chord recognition accuracy {hits / spans:.3f}"
    assert ct_hits / ct_total >= 0.95, f"{style}: tension-aware chord-tone ratio {ct_hits / ct_total:.3f}"


def test_styles_differ_measurably(takes):
    """Gospel plays more notes, in block chords; Mehldau plays lines and open voicings."""
    from scipy.stats import mannwhitneyu

    from pipelines.music.playing import onsets

    def figures(piece):
        return {"notes_per_bar": all_metrics(piece)["notes_per_bar"],
                "notes_per_onset": len(piece.notes) / len(onsets(piece.notes)),
                "pitch_class_entropy_1bar": all_metrics(piece)["pitch_class_entropy_1bar"]}

    metrics = {s: [figures(p) for (style, _), p in takes.items() if style == s] for s in STYLES}
    for key in ("notes_per_bar", "notes_per_onset", "pitch_class_entropy_1bar"):
        gospel = [m[key] for m in metrics["gospel"]]
        mehldau = [m[key] for m in metrics["mehldau"]]
        means = (key, statistics.mean(gospel), statistics.mean(mehldau))
        assert mannwhitneyu(gospel, mehldau).pvalue < 0.01, means
        assert statistics.mean(gospel) > statistics.mean(mehldau), key


def test_notes_stay_in_bars_and_range(takes):
    for piece in takes.values():
        end = piece.bars * piece.beats_per_bar
        for note in piece.notes:
            assert PIANO_LOW <= note.pitch <= PIANO_HIGH
            assert 0 <= note.start < end and note.end <= end + 1e-6  # no notes outside the bar, none stuck


@pytest.mark.parametrize("style", STYLES)
def test_each_seed_is_a_different_take_and_seeds_repeat(style):
    chart = parse_chart("| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |")
    one = perform_chart(chart, style, 90, 1)
    again = perform_chart(chart, style, 90, 1)
    other = perform_chart(chart, style, 90, 2)
    assert one.notes == again.notes
    assert one.notes != other.notes


def test_mehldau_odd_meters_keep_the_bars():
    chart = parse_chart("| Dm9 | G13 | Cmaj7 | A7alt |")
    for meter in ((5, 4), (7, 4), (3, 4)):
        piece = perform_chart(chart, "mehldau", 100, 4, meter)
        assert piece.bars == 4 and piece.beats_per_bar == meter[0]
        assert chord_accuracy(piece)["root"] == 1.0


def test_corpus_generator_writes_playable_files(tmp_path):
    summary = write_corpus("gospel", 3, tmp_path, seed=5)
    lines = (tmp_path / "corpus.jsonl").read_text().splitlines()
    assert summary["n"] == 3 and len(lines) == 3
    for line in lines:
        import json

        entry = json.loads(line)
        piece = read_midi(tmp_path / entry["file"])
        assert 60 <= entry["tempo_bpm"] <= 140
        assert len(piece.notes) == entry["notes"]
        assert [e.chord.symbol for e in piece.chords][:1] == [parse_chart(entry["chart"]).bars[0][0].symbol]


def test_default_tempo_for_any_style():
    from pipelines.generate.rules import default_tempo

    assert 56 <= default_tempo("mehldau", 3) <= 118
    assert 70 <= default_tempo("general", 3) <= 130  # a trained model's own style


@pytest.mark.parametrize("style", STYLES)
def test_plain_idiom_keeps_the_harmony_and_drops_the_idiom(style):
    """The plain idiom (the shipped default's stage-1 corpus) plays the same chart with the same
    harmony and bass, in straight time, with no ostinato (Mehldau) or shuffle/16ths (Gospel)."""
    from pipelines.generate.rules.checks import take_report

    ratios, low = [], {"full": 0, "plain": 0}
    odd = {"full": [], "plain": []}  # share of onsets off the eighths (triplets and 16ths)
    for index, text in enumerate(charts(8, seed=7)):
        chart = parse_chart(text)
        full = perform_chart(chart, style, 72 + 8 * index, index)
        plain = perform_chart(chart, style, 72 + 8 * index, index, idiom="plain")
        assert plain.notes != full.notes
        report = take_report(plain)
        assert report["doubled_keys"] == 0 and report["silent_bars"] == 0
        assert report["bass_on_changes"] == 1.0
        ratios.append(chord_tone_ratio(plain, tension_aware=True))
        for idiom, piece in (("full", full), ("plain", plain)):
            starts = {round(n.start, 4) for n in piece.notes}
            odd[idiom].append(sum(abs(s * 2 - round(s * 2)) > 1e-3 for s in starts) / len(starts))
        low["full"] += sum(n.pitch < 48 for n in full.notes)
        low["plain"] += sum(n.pitch < 48 for n in plain.notes)
    assert statistics.fmean(ratios) >= 0.95
    if style == "mehldau":  # no broken-chord ostinato: the left hand holds each group's first note
        assert low["plain"] < 0.7 * low["full"]
    assert statistics.fmean(odd["plain"]) < 0.5 * statistics.fmean(odd["full"])


def test_plain_idiom_is_a_corpus_variety(tmp_path):
    from pipelines.common.errors import StudioError
    from pipelines.generate.corpus import corpus_plan

    assert corpus_plan("gospel", 3, 1, "plain") != corpus_plan("gospel", 3, 1, "wide")
    summary = write_corpus("mehldau", 2, tmp_path, seed=3, variety="plain")
    assert summary["n"] == 2 and all(f.startswith("mehldau_plain3_") for f in summary["files"])
    with pytest.raises(StudioError, match="idiom"):
        perform_chart(parse_chart("| C | F |"), "gospel", 90, 1, idiom="loud")
