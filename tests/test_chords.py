"""Chord symbols -> pitch classes, over a table of jazz symbols; chart parsing and its errors."""
from __future__ import annotations

import pytest

from pipelines.common.errors import StudioError
from pipelines.music.chords import NOTE_PCS, parse_chart, parse_chord, split_bar


def pcs(names: str) -> frozenset[int]:
    """'C E G Bb' -> pitch classes."""
    out = set()
    for name in names.split():
        pc = NOTE_PCS[name[0]] + name[1:].count("#") - name[1:].count("b")
        out.add(pc % 12)
    return frozenset(out)


CHORDS = [  # symbol, expected pitch classes, canonical name, family
    ("C", "C E G", "C", "maj"),
    ("Cm", "C Eb G", "Cm", "min"),
    ("Cmin", "C Eb G", "Cm", "min"),
    ("C-", "C Eb G", "Cm", "min"),
    ("Cdim", "C Eb Gb", "Cdim", "dim"),
    ("C°", "C Eb Gb", "Cdim", "dim"),
    ("Caug", "C E G#", "Caug", "aug"),
    ("C+", "C E G#", "Caug", "aug"),
    ("Csus2", "C D G", "Csus2", "sus"),
    ("Csus4", "C F G", "Csus4", "sus"),
    ("Csus", "C F G", "Csus4", "sus"),
    ("C5", "C G", "C5", "power"),
    ("C6", "C E G A", "C6", "maj"),
    ("Cm6", "C Eb G A", "Cm6", "min"),
    ("C6/9", "C E G A D", "C69", "maj"),
    ("C69", "C E G A D", "C69", "maj"),
    ("Cm6/9", "C Eb G A D", "Cm69", "min"),
    ("C7", "C E G Bb", "C7", "dom"),
    ("Cmaj7", "C E G B", "Cmaj7", "maj"),
    ("CM7", "C E G B", "Cmaj7", "maj"),
    ("CΔ7", "C E G B", "Cmaj7", "maj"),
    ("CΔ", "C E G B", "Cmaj7", "maj"),
    ("Cm7", "C Eb G Bb", "Cm7", "min"),
    ("C-7", "C Eb G Bb", "Cm7", "min"),
    ("Cmi7", "C Eb G Bb", "Cm7", "min"),
    ("Cm(maj7)", "C Eb G B", "CmMaj7", "min"),
    ("Am(maj7)", "A C E G#", "AmMaj7", "min"),
    ("CmMaj7", "C Eb G B", "CmMaj7", "min"),
    ("Cm7b5", "C Eb Gb Bb", "Cm7b5", "hdim"),
    ("Cø", "C Eb Gb Bb", "Cm7b5", "hdim"),
    ("Cø7", "C Eb Gb Bb", "Cm7b5", "hdim"),
    ("F#m7b5", "F# A C E", "F#m7b5", "hdim"),
    ("Cdim7", "C Eb Gb A", "Cdim7", "dim"),
    ("Co7", "C Eb Gb A", "Cdim7", "dim"),
    ("C°7", "C Eb Gb A", "Cdim7", "dim"),
    ("C9", "C E G Bb D", "C9", "dom"),
    ("Cmaj9", "C E G B D", "Cmaj9", "maj"),
    ("Cm9", "C Eb G Bb D", "Cm9", "min"),
    ("Cm11", "C Eb G Bb D F", "Cm11", "min"),
    ("C11", "C E G Bb D F", "C11", "dom"),
    ("C13", "C E G Bb D A", "C13", "dom"),
    ("Cm13", "C Eb G Bb D F A", "Cm13", "min"),
    ("Cmaj13", "C E G B D A", "Cmaj13", "maj"),
    ("C7b9", "C E G Bb Db", "C7b9", "dom"),
    ("C7#9", "C E G Bb D#", "C7#9", "dom"),
    ("C7#11", "C E G Bb F#", "C7#11", "dom"),
    ("C7b13", "C E G Bb Ab", "C7b13", "dom"),
    ("C7b5", "C E Gb Bb", "C7b5", "dom"),
    ("C7#5", "C E G# Bb", "C7#5", "dom"),
    ("C+7", "C E G# Bb", "C7#5", "dom"),
    ("C7alt", "C E Bb Db D# F# Ab", "C7alt", "dom"),
    ("C7(b9,#11)", "C E G Bb Db F#", "C7b9#11", "dom"),
    ("C13b9", "C E G Bb Db A", "C13b9", "dom"),
    ("Bb13#11", "Bb D F Ab C G E", "Bb13#11", "dom"),
    ("Cmaj7#11", "C E G B F#", "Cmaj7#11", "maj"),
    ("Cmaj9#11", "C E G B D F#", "Cmaj9#11", "maj"),
    ("Cadd9", "C E G D", "Cadd9", "maj"),
    ("Cadd2", "C E G D", "Cadd9", "maj"),
    ("Dbadd9", "Db F Ab Eb", "Dbadd9", "maj"),
    ("Cmadd9", "C Eb G D", "Cmadd9", "min"),
    ("C7sus4", "C F G Bb", "C7sus4", "sus"),
    ("C9sus4", "C F G Bb D", "C9sus4", "sus"),
    ("Ebmaj7/G", "Eb G Bb D", "Ebmaj7/G", "maj"),
    ("C/E", "C E G", "C/E", "maj"),
    ("Ab/Bb", "Ab C Eb Bb", "Ab/Bb", "maj"),
    ("D7/F#", "D F# A C", "D7/F#", "dom"),
    ("C#m7", "C# E G# B", "Dbm7", "min"),
    ("Dbm7", "Db E Ab B", "Dbm7", "min"),
    ("Gb7", "Gb Bb Db E", "F#7", "dom"),
    ("F#7", "F# A# C# E", "F#7", "dom"),
    ("Cb", "B D# F#", "B", "maj"),
    ("E#m", "F Ab C", "Fm", "min"),
    ("B♭7", "Bb D F Ab", "Bb7", "dom"),
    ("N.C.", "", "NC", "nc"),
    ("NC", "", "NC", "nc"),
]


@pytest.mark.parametrize("symbol,expected,name,family", CHORDS, ids=[c[0] for c in CHORDS])
def test_chord_pitch_classes(symbol, expected, name, family):
    chord = parse_chord(symbol)
    assert chord.pitch_classes == pcs(expected)
    assert chord.name == name
    assert chord.family == family


def test_table_is_large_enough():
    assert len(CHORDS) >= 60


def test_chord_tones_tensions_and_allowed():
    chord = parse_chord("Bb13#11")
    assert chord.chord_tones == pcs("Bb D F Ab")
    assert chord.tensions == pcs("C G E")
    assert pcs("B C# E") <= chord.allowed_tensions  # b9, #9, #11 are fine on a dominant
    maj = parse_chord("Cmaj7")
    assert pcs("D F# A") <= maj.allowed_tensions
    assert pcs("F") & maj.allowed_tensions == frozenset()  # the natural 11 is an avoid note
    assert parse_chord("Ebmaj7/G").bass_pc == pcs("G").__iter__().__next__()
    assert parse_chord("N.C.").is_no_chord


@pytest.mark.parametrize("bad", ["H7", "Cmaj17", "Cxyz", "", "7", "c", "C7#", "Cq"])
def test_bad_symbols_raise_naming_the_symbol(bad):
    with pytest.raises(StudioError) as info:
        parse_chord(bad)
    assert repr(bad) in str(info.value) or "note name" in str(info.value)


def test_chart_with_bars_and_repeats():
    chart = parse_chart("| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 | % |")
    assert len(chart) == 5
    assert [c.name for c in chart.bars[1]] == ["Am7", "D7"]
    assert chart.bars[4] == chart.bars[3]
    events = chart.events(4.0)
    assert [(e.start, e.duration) for e in events[:3]] == [(0.0, 4.0), (4.0, 2.0), (6.0, 2.0)]


def test_chart_one_chord_per_bar_without_bars():
    chart = parse_chart("Cmaj7 Am7 Dm7 G7")
    assert [bar[0].name for bar in chart.bars] == ["Cmaj7", "Am7", "Dm7", "G7"]
    assert len(parse_chart("Cmaj7, Am7,\nDm7 G7")) == 4


def test_chart_commas_separate_chords_but_not_tensions_in_brackets():
    chart = parse_chart("C7(b9,#11), Fmaj7, Dm7 G7(b9,b13)")
    assert [bar[0].name for bar in chart.bars] == ["C7b9#11", "Fmaj7", "Dm7", "G7b9b13"]
    assert [c.name for c in parse_chart("| C7(b9,#11) F | B♭7(♯11) |").bars[0]] == ["C7b9#11", "F"]


def test_chart_multiline_and_nc():
    chart = parse_chart("| C | F |\n| N.C. | G7 |")
    assert len(chart) == 4 and chart.bars[2][0].is_no_chord


def test_bar_split_in_whole_beats():
    assert split_bar(4.0, 3) == [2.0, 1.0, 1.0]
    assert split_bar(5.0, 2) == [3.0, 2.0]
    assert split_bar(3.0, 2) == [2.0, 1.0]


@pytest.mark.parametrize("text,message", [
    ("| Cmaj7 | Am7 Q7 |", "bar 2"),
    ("| % | C |", "bar 1 cannot be %"),
    ("", "empty"),
    ("   ", "empty"),
    ("| C | | G |", "bar 2"),
])
def test_chart_errors_name_the_bar(text, message):
    with pytest.raises(StudioError) as info:
        parse_chart(text)
    assert message in str(info.value)


def test_fit_loops_and_cuts():
    chart = parse_chart("| C | F | G |")
    assert [b[0].name for b in chart.fit(7).bars] == ["C", "F", "G", "C", "F", "G", "C"]
    assert len(chart.fit(2)) == 2
    with pytest.raises(StudioError, match="bars must be 1-64"):
        chart.fit(65)
