"""What a pianist takes for granted, over many random and written charts x seeds, in both styles.

Each take is checked with pipelines/music/playing.py; a failing take is written to
``tmp_path`` as MIDI (named by style, chart and seed) so it can be heard.
"""
from __future__ import annotations

import itertools
import random
import statistics

import pytest

from pipelines.generate.rules import DEFAULT_TEMPO_RANGES, perform_chart
from pipelines.generate.rules.charts import TRIAL_CHARTS, random_charts
from pipelines.generate.rules.checks import onset_tick, take_report
from pipelines.music.playing import MAX_NOTES_PER_ONSET, shared_note_share
from pipelines.music.chords import parse_chart
from pipelines.music.metrics import chord_tone_ratio

STYLES = ("gospel", "mehldau")
SEEDS = (1, 2, 3)
GOSPEL_REGISTER = (28, 100)


def _charts():
    return list(TRIAL_CHARTS) + random_charts(40, seed=13)


@pytest.fixture(scope="module")
def takes():
    """style -> [(chart name, seed, piece)] over every chart x seed, each chart at one tempo."""
    out = {}
    for style in STYLES:
        rows = []
        for index, trial in enumerate(_charts()):
            tempo = random.Random(f"test-tempo:{index}").randint(*DEFAULT_TEMPO_RANGES[style])
            chart = parse_chart(trial.chart)
            rows += [(trial.name, seed, perform_chart(chart, style, tempo, seed, trial.time_signature))
                     for seed in SEEDS]
        out[style] = rows
    return out


def _failing(takes, style, tmp_path, bad) -> list[str]:
    """Names of the takes for which ``bad(report, piece)`` holds; each is written to tmp_path as MIDI."""
    names = []
    for name, seed, piece in takes[style]:
        if bad(take_report(piece), piece):
            label = f"{style}_{name.replace(' ', '_')}_seed{seed}"
            piece.write_midi(tmp_path / f"{label}.mid")
            names.append(label)
    return names


@pytest.mark.parametrize("style", STYLES)
def test_no_key_struck_twice_and_no_chords_smeared(takes, style, tmp_path):
    assert not _failing(takes, style, tmp_path, lambda r, p: r["doubled_keys"] or r["smeared_onsets"])


@pytest.mark.parametrize("style", STYLES)
def test_two_hands_can_play_every_onset(takes, style, tmp_path):
    assert not _failing(takes, style, tmp_path, lambda r, p: r["largest_onset"] > MAX_NOTES_PER_ONSET
                        or r["low_clusters"] or r["off_grid_notes"])


@pytest.mark.parametrize("style", STYLES)
def test_bass_on_every_change_and_guide_tones_heard(takes, style, tmp_path):
    assert not _failing(takes, style, tmp_path,
                        lambda r, p: r["bass_on_changes"] != 1.0 or r["guide_tones"] != 1.0)


@pytest.mark.parametrize("style", STYLES)
def test_every_bar_sounds_and_nothing_leaves_the_bars(takes, style, tmp_path):
    def bad(report, piece):
        end = piece.bars * piece.beats_per_bar
        return report["silent_bars"] or any(n.end > end + 1e-6 for n in piece.notes)

    assert not _failing(takes, style, tmp_path, bad)


def test_gospel_stays_in_its_register(takes, tmp_path):
    low, high = GOSPEL_REGISTER
    assert not _failing(takes, "gospel", tmp_path, lambda r, p: r["lowest"] < low or r["highest"] > high)


@pytest.mark.parametrize("style", STYLES)
def test_harmony_keeps_to_the_chords(takes, style):
    """Tension-aware chord-tone ratio over every note of the style's takes."""
    hits = total = 0.0
    for _, _, piece in takes[style]:
        heard = sum(piece.chord_at(n.start) is not None for n in piece.notes)
        ratio = chord_tone_ratio(piece, tension_aware=True)
        if ratio is not None:
            hits, total = hits + ratio * heard, total + heard
    assert hits / total >= 0.97, f"{style}: {hits / total:.4f}"


@pytest.mark.parametrize("style", STYLES)
def test_seeds_of_one_chart_share_few_notes(takes, style):
    """Notes two seeds of one chart share (same onset tick and pitch, over the smaller take):
    a fifth on average or less, at most a third for every pair."""
    by_chart: dict[str, list] = {}
    for name, seed, piece in takes[style]:
        by_chart.setdefault(name, []).append((seed, piece))
    shares = {(name, seed_a, seed_b): shared_note_share(a, b) for name, pieces in by_chart.items()
              for (seed_a, a), (seed_b, b) in itertools.combinations(pieces, 2)}
    assert statistics.mean(shares.values()) <= 0.2, statistics.mean(shares.values())
    over = {pair: round(share, 3) for pair, share in shares.items() if share > 1 / 3}
    assert not over, over


def test_shared_note_share_counts_onset_and_pitch():
    from pipelines.music.piece import Note, Piece

    a = Piece(notes=[Note(0.0, 60, 1.0), Note(0.0, 64, 1.0), Note(1.0, 67, 1.0)])
    b = Piece(notes=[Note(0.0, 60, 0.5), Note(0.5, 64, 1.0), Note(1.0, 67, 1.0), Note(2.0, 72, 1.0)])
    assert shared_note_share(a, b) == pytest.approx(2 / 3)
    assert onset_tick(Note(1.5, 60, 1.0)) == 18
