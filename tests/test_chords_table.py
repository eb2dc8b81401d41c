"""Every spelling of tests/chord_table.py on two roots: the notes, the canonical name, the family."""
from __future__ import annotations

import pytest

from pipelines.common.errors import StudioError
from pipelines.music.chords import NOTE_PCS, TOKEN_ROOTS, parse_chord

from chord_table import rows

ROOTS = ("Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B", "C#", "Cb", "E#")
ROWS = rows()
CASES = [(root, *row) for index, row in enumerate(ROWS) for root in ("C", ROOTS[index % len(ROOTS)])]


def root_pc(root: str) -> int:
    return (NOTE_PCS[root[0]] + root[1:].count("#") - root[1:].count("b")) % 12


@pytest.mark.parametrize("root,quality,intervals,name,family", CASES,
                         ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_spelling(root, quality, intervals, name, family):
    if name == "ERROR":
        with pytest.raises(StudioError, match="chord symbol"):
            parse_chord(root + quality)
        return
    chord = parse_chord(root + quality)
    pc = root_pc(root)
    assert chord.pitch_classes == frozenset((pc + i) % 12 for i in intervals)
    assert chord.name == TOKEN_ROOTS[pc] + name
    assert chord.family == family
    again = parse_chord(chord.name)   # the canonical name reads back as the same chord
    assert (again.pitch_classes, again.bass, again.name) == (chord.pitch_classes, chord.bass, chord.name)


def test_table_has_several_hundred_symbols():
    assert len(ROWS) >= 300
    assert len({quality for quality, *_ in ROWS}) == len(ROWS)   # no row written twice
