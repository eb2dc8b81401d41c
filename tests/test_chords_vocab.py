"""The chord words of the shipped checkpoints keep their notes: every token id means what it meant
when checkpoints/default, gospel and mehldau were trained."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chord_table import DEGREES
from pipelines.data.chord_vocab import QUALITIES, chord_of_token, chord_tokens
from pipelines.data.vocab import Vocabulary
from pipelines.music.chords import TOKEN_ROOTS, parse_chord

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
# Each vocabulary quality on C, as the parser read it when the shipped models were trained.
TRAINED_MEANING = {
    "": "1 3 5",
    "m": "1 b3 5",
    "dim": "1 b3 b5",
    "aug": "1 3 #5",
    "sus2": "1 9 5",
    "sus4": "1 11 5",
    "5": "1 5",
    "6": "1 3 5 6",
    "69": "1 9 3 5 6",
    "m6": "1 b3 5 6",
    "m69": "1 9 b3 5 6",
    "add9": "1 9 3 5",
    "madd9": "1 9 b3 5",
    "7": "1 3 5 b7",
    "maj7": "1 3 5 7",
    "m7": "1 b3 5 b7",
    "mMaj7": "1 b3 5 7",
    "m7b5": "1 b3 b5 b7",
    "dim7": "1 b3 b5 6",
    "7sus4": "1 11 5 b7",
    "9": "1 9 3 5 b7",
    "maj9": "1 9 3 5 7",
    "m9": "1 9 b3 5 b7",
    "mMaj9": "1 9 b3 5 7",
    "m9b5": "1 9 b3 b5 b7",
    "9sus4": "1 9 11 5 b7",
    "11": "1 9 3 11 5 b7",
    "m11": "1 9 b3 11 5 b7",
    "13": "1 9 3 5 6 b7",
    "maj13": "1 9 3 5 6 7",
    "m13": "1 9 b3 11 5 6 b7",
    "13sus4": "1 9 11 5 6 b7",
    "7alt": "1 b9 b3 3 b5 #5 b7",
    "7b9": "1 b9 3 5 b7",
    "7#9": "1 b3 3 5 b7",
    "7#11": "1 3 b5 5 b7",
    "7b13": "1 3 5 #5 b7",
    "7b5": "1 3 b5 b7",
    "7#5": "1 3 #5 b7",
    "7b9b13": "1 b9 3 5 #5 b7",
    "7#9b13": "1 b3 3 5 #5 b7",
    "7#5#9": "1 b3 3 #5 b7",
    "7b9#11": "1 b9 3 b5 5 b7",
    "9#11": "1 9 3 b5 5 b7",
    "9b5": "1 9 3 b5 b7",
    "13#11": "1 9 3 b5 5 6 b7",
    "13b9": "1 b9 3 5 6 b7",
    "7sus4b9": "1 b9 11 5 b7",
    "maj7#11": "1 3 b5 5 7",
    "maj9#11": "1 9 3 b5 5 7",
    "maj7#5": "1 3 #5 7",
    "m7b9": "1 b9 b3 5 b7",
}


def test_every_quality_keeps_its_trained_notes_on_every_root():
    assert set(TRAINED_MEANING) == set(QUALITIES)
    for quality, degrees in TRAINED_MEANING.items():
        intervals = {DEGREES[d] for d in degrees.split()}
        for root_pc, root in enumerate(TOKEN_ROOTS):
            chord = chord_of_token(f"CHORD_{root}{quality}")
            assert chord.pitch_classes == {(root_pc + i) % 12 for i in intervals}, (root, quality)


@pytest.mark.parametrize("checkpoint", ["default", "gospel", "mehldau"])
def test_shipped_checkpoints_have_the_same_chord_tokens_in_the_same_order(checkpoint):
    tokenizer = json.loads((CHECKPOINTS / checkpoint / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    shipped = [t for t, _ in sorted(vocab.items(), key=lambda item: item[1]) if t.startswith("CHORD_")]
    assert shipped == chord_tokens()


@pytest.mark.parametrize("symbol,token", [
    ("Co9", "CHORD_Cdim7"), ("Fob9", "CHORD_Fdim7"), ("Ebo11", "CHORD_Ebdim7"),   # not half-diminished
    ("Cdim(maj7)", "CHORD_Cdim"), ("C6sus4", "CHORD_Csus4"), ("CMA7", "CHORD_Cmaj7"),
    ("C7+", "CHORD_C7#5"), ("Ch7", "CHORD_Cm7b5"), ("B♭7(♯11)", "CHORD_Bb7#11"),
])
def test_chart_chords_are_forced_as_the_nearest_word_with_the_right_notes(symbol, token):
    assert Vocabulary().nearest_chord(parse_chord(symbol))[0] == token
