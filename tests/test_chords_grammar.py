"""What the chord reader refuses and why, and the property that every canonical name reads back.

The property test writes every symbol of one, two and three quality words (10,909 symbols),
parses each one the reader accepts, and parses its canonical name again: same pitch classes, same
bass, same family, and the name is its own canonical name.
"""
from __future__ import annotations

import itertools

import pytest

from pipelines.common.errors import StudioError
from pipelines.data.chord_vocab import chord_tokens, chord_of_token
from pipelines.music.chords import parse_chord

REFUSED = [  # symbol, the part the sentence must name
    ("C7#9#9", "#9 twice"),
    ("C77", "7 twice"),
    ("Cmaj7maj7", "maj twice"),
    ("CΔ7maj7", "maj twice"),
    ("C13b13", "13 (or 6) and b13"),
    ("Cadd13b13", "13 (or 6) and b13"),
    ("C6b13", "13 (or 6) and b13"),
    ("Cb5b5", "power chord"),
    ("C5add9", "power chord"),
    ("C-5", "power chord"),
    ("C9b9", "natural 9 and an altered one"),
    ("C7(9,#9)", "natural 9 and an altered one"),
    ("Csus2b9", "natural 9 and an altered one"),
    ("C11#11", "11 and #11"),
    ("Cm7#9", "#9 is the minor 3rd"),
    ("C7#5b13", "b13 is the #5"),
    ("C+b13", "b13 is the #5"),
    ("C7b5#11", "#11 is the b5"),
    ("Cdim#11", "#11 is the b5"),
    ("Cdim13", "13 is the 6th or diminished 7th"),
    ("Cdim7add13", "add13 is the 6th or diminished 7th"),
    ("Csus4add11", "add11 is the sus4"),
    ("C11sus4", "11 is the sus4"),
    ("C13add9", "add9 repeats a tone that 13 already has"),
    ("C6(13)", "the 6th twice"),
    ("C696", "the 6th twice"),
    ("C2add9", "adds the 9 twice"),
    ("C69add9", "adds the 9 twice"),
    ("Cmsus4add11", "adds the 11 twice"),
    ("C(b9)addb9", "b9 twice"),
    ("C7b13(b6)", "b13 twice"),
    ("C7#11add#11", "#11 twice"),
    ("C7alt(b9)", "alt already holds"),
    ("Cmaj7alt", "alt already holds"),
    ("C9alt", "alt already holds"),
    ("Cm(no3)", "no3 removes a 3rd"),
    ("Csus4no3", "no3 removes a 3rd"),
    ("C7b5no5", "no5 removes a 5th"),
    ("Cø(maj7)", "half-diminished"),
    ("Cm7maj7", "second 7th"),
    ("C7dim7", "belongs right after the root"),
    ("C7m", "belongs right after the root"),
    ("C7M", "belongs before them"),
    ("Cdim#5", "already fixed"),
    ("C+b5", "already fixed"),
    ("Cxyz", "'xyz' is not a chord word"),
    ("Cmaj17", "'17' is not a chord word"),
    ("C7#", "'#' is not a chord word"),
    ("C7/9", "'/9' is not a chord word"),
    ("C4", "'4' is not a chord word"),
    ("Cdom", "'dom' is not a chord word"),
    ("CIt+6", "music21 name"),
    ("CGer", "music21 name"),
    ("CN6", "music21 name"),
    ("CTristan", "music21 name"),
    ("Cpower", "music21 name"),
    ("Cdom7dim5", "music21 name"),
    ("C7(b9,", "brackets in '7(b9,' do not pair up"),
    ("Cmaj7#11)", "do not pair up"),
    ("H7", "note name A-G"),
    ("7", "note name A-G"),
]


@pytest.mark.parametrize("symbol,part", REFUSED, ids=[r[0] for r in REFUSED])
def test_refusal_is_one_sentence_naming_the_symbol_and_the_part(symbol, part):
    with pytest.raises(StudioError) as info:
        parse_chord(symbol)
    message = str(info.value)
    assert message.startswith(f"unknown chord symbol {symbol!r}: ")
    assert part in message
    assert ". " not in message and "\n" not in message


# Words a chart may put after a root; their combinations are the property test's symbols.
WORDS = ["", "m", "-", "dim", "o", "ø", "h", "aug", "+", "maj", "M", "MA", "Δ", "^", "MI", "5", "6", "69",
         "6/9", "7", "9", "11", "13", "2", "sus2", "sus4", "sus", "alt", "b5", "#5", "+5", "b9", "#9",
         "+9", "#11", "b13", "b6", "add9", "add11", "add13", "add#11", "addb9", "add3", "no3", "no5",
         "omit5", "maj7", "M7", "Δ7", "maj9", "(maj7)", "(b9)", "(#11)", "(b5)", "7+", "dom7"]
SHORT_WORDS = ["m", "o", "ø", "+", "Δ", "6", "7", "9", "13", "sus4", "b5", "#5", "b9", "#9", "#11", "b13",
               "add9", "no3", "(maj7)", "alt"]


def symbols() -> list[str]:
    """Every root-C symbol of one or two WORDS and of three SHORT_WORDS, each written once."""
    out = {"C" + "".join(c) for n in (1, 2) for c in itertools.product(WORDS, repeat=n)}
    out |= {"C" + "".join(c) for c in itertools.product(SHORT_WORDS, repeat=3)}
    return sorted(out)


def test_every_accepted_symbol_reads_back_from_its_canonical_name():
    accepted, broken = 0, []
    for symbol in symbols():
        try:
            chord = parse_chord(symbol)
        except StudioError:
            continue
        accepted += 1
        for bass in ("", "/E", "/Bb"):
            again = parse_chord(chord.name + bass)
            with_bass = parse_chord(symbol + bass)
            if (again.pitch_classes, again.bass, again.family, again.name) != \
                    (with_bass.pitch_classes, with_bass.bass, with_bass.family, with_bass.name):
                broken.append(f"{symbol + bass} -> {with_bass.name} -> {again.name}")
    assert broken == []
    assert accepted > 3000       # the property ran over thousands of real chords, not a handful


def test_every_chord_token_is_a_fixed_point():
    for token in chord_tokens()[1:]:
        chord = chord_of_token(token)
        assert "CHORD_" + chord.name == token
        assert parse_chord(chord.name).pitch_classes == chord.pitch_classes


# iReal Pro's chord qualities, as its editor offers them (each on C).
IREAL_QUALITIES = ("5 2 add9 + o h sus ^ - ^7 -7 7 7sus h7 o7 ^9 ^13 6 69 ^7#11 ^9#11 ^7#5 -6 -69 -^7 "
                   "-^9 -9 -11 -7b5 h9 -b6 -#5 9 7b9 7#9 7#11 7b5 7#5 9#11 9b5 9#5 7b13 7#9#5 7#9b5 "
                   "7#9#11 7b9#11 7b9b5 7b9#5 7b9#9 7b9b13 7alt 13 13#11 13b9 13#9 7b9sus 7susadd3 9sus "
                   "13sus 7b13sus 11").split()


def test_every_ireal_pro_quality_is_read():
    assert len(IREAL_QUALITIES) == 61
    names = {quality: parse_chord("C" + quality).name for quality in IREAL_QUALITIES}
    assert names["h"] == names["h7"] == "Cm7b5" and names["^"] == "Cmaj7" and names["-b6"] == "Cmb6"
    assert names["2"] == names["add9"] and names["-7b5"] == names["h"]
    assert len(set(names.values())) == len(IREAL_QUALITIES) - 4   # those four pairs alone share a name
