"""The event language: token list, chord words, grammar, encode/decode of small real pieces."""
from __future__ import annotations

import random

import numpy as np
import pytest

from pipelines.common.errors import StudioError
from pipelines.data.chord_vocab import QUALITIES, SLASH_QUALITIES, chord_of_token
from pipelines.data.studio_codec import grid_notes, round_trip_share
from pipelines.data.vocab import NEXT_KINDS, Header, Vocabulary
from pipelines.music.chords import parse_chord
from pipelines.music.piece import ChordEvent, Note, Piece


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary(styles=("gospel", "mehldau"), labels=("mood:calm",))


def _piece() -> Piece:
    """Two bars of 4/4: a held bass (tied over the bar), a triplet figure, a 16th, pedal, a chart."""
    notes = [Note(0.0, 36, 6.0, 70), Note(0.0, 64, 1.0, 90), Note(0.0, 67, 1.0, 90),
             Note(1.0, 72, 1 / 3, 60), Note(4 / 3, 74, 1 / 3, 60), Note(5 / 3, 76, 1 / 3, 60),
             Note(2.75, 79, 0.25, 100), Note(4.5, 60, 9.5, 40)]
    chords = [ChordEvent(0.0, 4.0, parse_chord("Cmaj7")), ChordEvent(4.0, 4.0, parse_chord("Bb13#11"))]
    return Piece(notes=notes, tempo_bpm=92, chords=chords, pedal=[(0.0, 3.5), (4.0, 8.0)])


def test_tokens_are_unique_and_kinds_cover_the_grammar(vocab):
    assert len(vocab.tokens) == len(set(vocab.tokens)) == len(vocab.token_to_id)
    assert vocab.tokens[0] == "PAD"
    kinds = set(vocab.kinds)
    assert kinds <= set(NEXT_KINDS)
    for token in ("STYLE_gospel", "MOOD_calm", "TEMPO_120", "TIMESIG_7/4", "KEY_Ebmaj", "KEY_F#min",
                  "SONG_START", "SONG_END", "BAR_START", "POS_0", "POS_4", "POS_45", "NOTE_21", "NOTE_108",
                  "DUR_3", "DUR_48", "VEL_PPP", "VEL_FFF", "CHORD_NC", "CHORD_Bb13#11", "CHORD_Ebmaj7/G",
                  "CHORD_Db69", "CHORD_F#m7b5", "CHORD_G7alt", "PEDAL_ON", "PEDAL_OFF"):
        assert token in vocab.token_to_id, token
    assert "NOTE_20" not in vocab.token_to_id and "POS_1" not in vocab.token_to_id


def test_every_chord_token_is_its_chords_canonical_name(vocab):
    for token in vocab.tokens:
        if vocab.kind_of(token) == "chord" and token != "CHORD_NC":
            assert "CHORD_" + chord_of_token(token).name == token
    assert len(QUALITIES) == len(set(QUALITIES)) and set(SLASH_QUALITIES) <= set(QUALITIES)


@pytest.mark.parametrize("symbol,expected,exact", [
    ("Bb13#11", "CHORD_Bb13#11", True),
    ("Ebmaj7/G", "CHORD_Ebmaj7/G", True),
    ("N.C.", "CHORD_NC", True),
    ("C7b9#11/E", None, False),         # not a word: a C dominant with a slash bass E
    ("Cmaj13#11", "CHORD_C", False),    # nearest shares most pitch classes (checked below)
])
def test_nearest_chord(vocab, symbol, expected, exact):
    token, is_exact = vocab.nearest_chord(parse_chord(symbol))
    assert is_exact is exact
    assert token in vocab.token_to_id
    if expected and exact:
        assert token == expected
    if not exact:
        chord = parse_chord(symbol)
        found = chord_of_token(token)
        assert found.root == chord.root
        assert len(found.pitch_classes & chord.pitch_classes) >= 3


def test_encode_is_grammatical_and_round_trips(vocab):
    piece = _piece()
    tokens = vocab.encode(piece, Header(style="gospel", labels=("mood:calm",)))
    assert tokens[:6] == ["STYLE_gospel", "MOOD_calm", "TEMPO_92", "TIMESIG_4/4", "KEY_Cmaj", "SONG_START"]
    assert tokens[-1] == "SONG_END"
    assert vocab.check(tokens) == []
    assert "CHORD_Cmaj7" in tokens and "CHORD_Bb13#11" in tokens
    assert tokens.count("BAR_START") == 4            # the pedal and the tied note reach into bar 4
    assert "DUR_48" in tokens                        # the 6-beat bass note is tied
    decoded = vocab.decode(tokens)
    assert round_trip_share(piece.notes, decoded.notes) == (len(piece.notes), len(piece.notes))
    assert [c.chord.name for c in decoded.chords] == ["Cmaj7", "Bb13#11"]
    assert decoded.tempo_bpm == 92 and len(decoded.pedal) == 2
    assert vocab.decode([vocab.token_to_id[t] for t in tokens]).notes == decoded.notes


def test_allowed_next_accepts_each_real_next_token_and_nothing_after_the_end(vocab):
    tokens = vocab.encode(_piece(), Header(style="mehldau"))
    state = vocab.start_state()
    for token in tokens:
        allowed = vocab.allowed_next(state)
        assert vocab.token_to_id[token] in allowed, token
        assert all(vocab.kind_of(i) in vocab.valid_next_kinds(state.last) for i in allowed)
        state = vocab.advance(state, token)
    assert vocab.allowed_next(state) == []


def test_random_walks_through_allowed_next_always_decode(vocab):
    rng = random.Random(3)
    for _ in range(20):
        state, tokens = vocab.start_state(), []
        while len(tokens) < 300:
            allowed = vocab.allowed_next(state)
            if not allowed:
                break
            token = vocab.tokens[rng.choice(allowed)]
            tokens.append(token)
            state = vocab.advance(state, token)
        assert vocab.check(tokens, complete=False) == []
        vocab.decode(tokens)  # never raises


@pytest.mark.parametrize("tokens,fragment", [
    (["TEMPO_120"], "cannot follow start"),
    (["STYLE_gospel", "TEMPO_120", "TIMESIG_3/4", "KEY_Cmaj", "BAR_START", "POS_36"], "POS_36"),
    (["STYLE_gospel", "TEMPO_120", "TIMESIG_4/4", "KEY_Cmaj", "BAR_START", "POS_12", "POS_6"], "POS_6"),
    (["STYLE_gospel", "TEMPO_120", "TIMESIG_4/4", "KEY_Cmaj", "BAR_START", "POS_0", "NOTE_60", "VEL_MF"],
     "VEL_MF"),
    (["STYLE_gospel", "TEMPO_120", "TIMESIG_4/4", "KEY_Cmaj", "BAR_START", "POS_0", "NOTE_60", "DUR_12",
      "DUR_12"], "DUR_12"),
    (["STYLE_gospel", "TEMPO_120", "TIMESIG_4/4", "KEY_Cmaj", "BAR_START", "POS_0", "NOTE_64", "DUR_12",
      "VEL_MF", "NOTE_60"], "NOTE_60"),
])
def test_check_names_the_offending_token(vocab, tokens, fragment):
    errors = vocab.check(tokens, complete=False)
    assert errors and fragment in errors[0]


def test_incomplete_sequence_and_unknown_token_are_errors(vocab):
    assert "middle of an event" in vocab.check(["STYLE_gospel", "TEMPO_120"])[-1]
    assert vocab.check(["STYLE_gospel", "Pitch_60"])
    with pytest.raises(StudioError, match="not a token"):
        vocab.kind_of("Pitch_60")


def test_grid_notes_snaps_to_sixteenths_and_triplets():
    notes = [Note(0.26, 60, 0.49), Note(1 / 3 + 0.01, 62, 0.2), Note(2.0, 10, 100.0)]
    grid = grid_notes(notes).tolist()
    assert grid[0][:3] == [60, 3, 6]                 # 0.26 beat -> 3 ticks (a 16th); 0.49 -> an 8th
    assert grid[1][:3] == [62, 4, 3]                 # triplet onset; shortest value is a 16th
    assert grid[2][:3] == [22, 24, 384]              # folded into the piano, capped at 8 whole notes


def test_core_ids_do_not_depend_on_the_datasets_styles_and_labels(vocab):
    other = Vocabulary(styles=("ragtime",), labels=("era:1920s", "live"))
    core = [t for t in Vocabulary().tokens]
    assert other.tokens[:len(core)] == core == vocab.tokens[:len(core)]
    assert other.tokens[len(core):] == ["STYLE_ragtime", "ERA_1920s", "LABEL_live"]


def test_vocabulary_save_and_load(vocab):
    again = Vocabulary.from_dict(vocab.to_dict())
    assert again.tokens == vocab.tokens
    with pytest.raises(StudioError, match="re-tokenize"):
        Vocabulary.from_dict({**vocab.to_dict(), "size": 5})
    with pytest.raises(StudioError, match="style must be"):
        Vocabulary(styles=("bad style!",))


def test_chords_are_recognised_from_the_notes_when_there_is_no_chart(vocab):
    voicing = {0: (48, 64, 67, 71), 4: (50, 65, 69, 72), 8: (43, 59, 65, 69), 12: (36, 52, 55, 60)}
    notes = [Note(float(beat), p, 4.0, 80) for beat, chord in voicing.items() for p in chord]
    notes += [Note(2.0, 74, 0.5, 90)]                # a melody note does not change the chord
    tokens = vocab.encode(Piece(notes=notes), Header())
    assert [t for t in tokens if t.startswith("CHORD_")] == ["CHORD_Cmaj7", "CHORD_Dm7", "CHORD_G7", "CHORD_C"]
    lone = vocab.encode(Piece(notes=[Note(0.0, 60, 1.0)]), Header())
    assert [t for t in lone if t.startswith("CHORD_")] == ["CHORD_NC"]
