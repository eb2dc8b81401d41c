"""The table against music21's ChordSymbol, a reference written by other people: the same notes on
every spelling both read, except where this module's docstring chooses another convention."""
from __future__ import annotations

import warnings

import pytest
from music21 import harmony

from chord_table import rows
from pipelines.common.errors import StudioError
from pipelines.music.chords import parse_chord

DIFFERENT_ON_PURPOSE = {  # symbol: why the studio reads it otherwise
    "C13": "no 11th in a dominant 13th (music21 adds F)",
    "CM13": "no 11th in a major 13th",
    "C13#11": "no natural 11th beside the #11",
    "C13b9": "the b9 is kept and replaces the 9 (music21 drops the b9)",
    "C13#9": "the #9 is kept and replaces the 9 (music21 drops the #9)",
    "C13b5": "no 11th in a dominant 13th",
    "C69": "6/9 is 1 3 5 6 9 (music21 reads 69 as 1 9 6)",
    "C69#11": "6/9 is 1 3 5 6 9",
    "C2": "iReal Pro's C2 is add9 (music21 reads 1 9)",
    "Cadd9(no3)": "no3 removes the 3rd (music21 keeps it)",
    "C+5": "+5 is a raised 5th (music21 reads a power chord)",
    "C7b5#5": "both altered 5ths are kept (music21 drops the b5)",
    "C7altered": "altered is alt (music21 reads a plain C7)",
}


def music21_pitch_classes(symbol: str) -> frozenset[int] | None:
    """music21's reading, or None where it refuses the symbol or reads it as no notes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pitches = harmony.ChordSymbol(symbol.replace("♭", "b").replace("♯", "#")).pitches
        except Exception:  # music21 raises several kinds of errors on symbols it does not know
            return None
    return frozenset(p.pitchClass for p in pitches) or None


def test_the_table_agrees_with_music21_wherever_music21_reads_the_symbol():
    compared, different = 0, []
    for quality, *_ in rows():
        symbol = "C" + quality
        if quality.startswith("-") or symbol in DIFFERENT_ON_PURPOSE:
            continue                  # music21 reads a leading '-' as a flat
        theirs = music21_pitch_classes(symbol)
        if theirs is None:
            continue
        compared += 1
        if parse_chord(symbol).pitch_classes != theirs:
            different.append(symbol)
    assert different == []
    assert compared >= 100


@pytest.mark.parametrize("symbol", sorted(DIFFERENT_ON_PURPOSE))
def test_each_difference_on_purpose_is_still_a_difference(symbol):
    assert parse_chord(symbol).pitch_classes != music21_pitch_classes(symbol)


def test_every_music21_abbreviation_is_read_or_refused_on_purpose():
    refused = []
    for _, abbreviations in harmony.CHORD_TYPES.values():
        for abbreviation in abbreviations:
            try:
                chord = parse_chord("C" + abbreviation)
            except StudioError as exc:
                assert "music21 name" in str(exc), abbreviation
                refused.append(abbreviation)
                continue
            theirs = music21_pitch_classes("C" + abbreviation)
            if "13" not in abbreviation and abbreviation != "dimb9":   # 13ths: no 11th; music21's
                assert chord.pitch_classes == theirs, abbreviation     # dimb9 lacks the 7th its ob9 has
    assert sorted(refused) == sorted(["dom7dim5", "m#7", "N6", "It+6", "It", "Fr+6", "Fr", "Gr+6", "Ger",
                                      "pedal", "power", "tristan"])
