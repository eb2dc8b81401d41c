"""Music metrics on hand-made pieces whose values are known."""
from __future__ import annotations

import math

import pytest

from pipelines.music.chords import parse_chart
from pipelines.music.metrics import (all_metrics, chord_accuracy, chord_tone_ratio, empty_beat_rate,
                                     grooving_similarity, note_density, pitch_class_entropy, polyphony)
from pipelines.music.piece import Note, Piece
from pipelines.music.recognise import recognise_profile, recognise_span


def piece(notes, chart="| Cmaj7 |", tempo=120.0, meter=(4, 4)) -> Piece:
    bars = parse_chart(chart)
    return Piece(notes=[Note(start=s, pitch=p, duration=d, velocity=80) for s, p, d in notes], tempo_bpm=tempo,
                 time_signature=meter, chords=bars.events(meter[0] * 4 / meter[1]), bars_hint=len(bars))


def test_chord_tone_ratio_plain_and_tension_aware():
    p = piece([(0, 60, 1), (0, 64, 1), (0, 67, 1), (0, 71, 1), (1, 74, 1), (2, 65, 1)])  # C E G B D F
    assert chord_tone_ratio(p) == pytest.approx(4 / 6)          # D and F are not in Cmaj7
    assert chord_tone_ratio(p, tension_aware=True) == pytest.approx(5 / 6)  # D (9th) is fine, F is not


def test_anticipated_note_is_heard_against_the_next_chord():
    p = piece([(0, 60, 3.5), (3.5, 69, 1.5)], chart="| C | F |")  # A pushed into the F bar
    assert chord_tone_ratio(p) == 1.0


def test_chord_accuracy_root_and_quality():
    notes = [(0, 48, 4), (0, 64, 4), (0, 67, 4), (4, 53, 4), (4, 69, 4), (4, 72, 4)]
    assert chord_accuracy(piece(notes, "| C | F |")) == {"root": 1.0, "root_quality": 1.0, "n": 2}
    wrong = chord_accuracy(piece(notes, "| C | Fm |"))
    assert wrong["root"] == 1.0 and wrong["root_quality"] == 0.5
    assert chord_accuracy(piece(notes, "| C | G |"))["root"] == 0.5


def test_recogniser_tolerates_rootless_voicings_with_a_bass():
    # G13 rootless (B E F A) over a G in the bass; Dm9 rootless (F A C E) over D
    g13 = [Note(0, 43, 4), Note(0, 59, 4), Note(0, 64, 4), Note(0, 65, 4), Note(0, 69, 4)]
    assert recognise_span(g13, 0, 4).name == "G7"
    dm9 = [Note(0, 38, 4), Note(0, 65, 4), Note(0, 69, 4), Note(0, 72, 4), Note(0, 76, 4)]
    assert recognise_span(dm9, 0, 4).name == "Dm7"
    fifthless = [0.0] * 12
    for pc in (0, 4, 10):  # C E Bb: C7 without its fifth
        fifthless[pc] = 1.0
    assert recognise_profile(fifthless, bass=0).name == "C7"
    assert recognise_profile([0.0] * 12).name == "NC"


def test_pitch_class_entropy_known_values():
    chromatic = piece([(i * 0.25, 60 + i, 0.25) for i in range(12)])
    assert pitch_class_entropy(chromatic) == pytest.approx(math.log2(12))
    assert pitch_class_entropy(piece([(0, 60, 1), (1, 72, 1)])) == 0.0
    assert pitch_class_entropy(piece([(0, 60, 1), (1, 62, 1)])) == pytest.approx(1.0)
    two_bars = piece([(0, 60, 1), (4, 62, 1), (5, 64, 1)], chart="| C | C |")
    assert pitch_class_entropy(two_bars, 1) == pytest.approx((0.0 + 1.0) / 2)
    assert pitch_class_entropy(piece([])) is None


def test_grooving_similarity_known_values():
    same = piece([(0, 60, 1), (2, 60, 1), (4, 60, 1), (6, 60, 1)], chart="| C | C |")
    assert grooving_similarity(same) == 1.0
    shifted = piece([(0, 60, 1), (6, 60, 1)], chart="| C | C |")  # slot 0 vs slot 8 of 16
    assert grooving_similarity(shifted) == pytest.approx(1 - 2 / 16)
    assert grooving_similarity(piece([(0, 60, 1)])) is None


def test_density_polyphony_and_empty_beats():
    p = piece([(b, 60, 1) for b in range(8)], chart="| C | C |", tempo=120)
    assert note_density(p) == {"notes_per_bar": 4.0, "notes_per_s": 2.0}
    triad = piece([(0, 60, 1), (0, 64, 1), (0, 67, 1)], chart="| C | C |")
    assert polyphony(triad) == 3.0
    assert empty_beat_rate(triad) == pytest.approx(7 / 8)
    assert empty_beat_rate(p) == 0.0


def test_all_metrics_has_every_key():
    p = piece([(0, 60, 1), (0, 64, 1), (0, 67, 1)])
    values = all_metrics(p)
    for key in ("chord_accuracy_root", "chord_accuracy_root_quality", "chord_tone_ratio",
                "chord_tone_ratio_tension_aware", "pitch_class_entropy", "pitch_class_entropy_1bar",
                "pitch_class_entropy_4bar", "grooving_similarity", "notes_per_bar", "notes_per_s",
                "polyphony", "empty_beat_rate"):
        assert key in values
