"""Round trip over the real corpus: MIDI -> tokens -> MIDI keeps every note at the tokenizer's grid.

Studio tokens and MidiTok REMI, every file of ../shared/corpus/midi/piano and multitrack (tracks
merged into one piano part, drums dropped). A failing file is dumped as MIDI (original and round
trip) into the test's temp folder, to listen to.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.data.miditok_backend import piece_to_score
from pipelines.data.studio_codec import bar_ticks_of, round_trip_share
from pipelines.data.tokenizers import TokenizerConfig, build_tokenizer, load_tokenizer, save_tokenizer
from pipelines.data.vocab import Header
from pipelines.music.midi_reader import read_piece

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "midi"
FILES = sorted((CORPUS / "piano").glob("*.mid")) + sorted((CORPUS / "multitrack").glob("*.mid"))


@pytest.fixture(scope="module")
def tokenizers():
    return {kind: build_tokenizer(TokenizerConfig(kind=kind), ["gospel"], ["mood:calm"])
            for kind in ("studio", "remi")}


@pytest.mark.parametrize("kind", ["studio", "remi"])
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_every_note_survives_the_round_trip(corpus_dir, tokenizers, kind, path, tmp_path):
    """Both directions: every note of the file comes back, and the decoder adds none."""
    tok = tokenizers[kind]
    piece, _ = read_piece(path.read_bytes(), path.name)
    header = Header(style="gospel", labels=("mood:calm",))
    tokens = tok.encode(piece, header)
    kept, total, decoded = tok.round_trip(piece, header, tokens)
    kept_back, total_back = added_notes(tok, piece, decoded, tokens)
    if kept != total or kept_back != total_back:
        piece.write_midi(tmp_path / f"{path.stem}_original.mid")
        decoded.write_midi(tmp_path / f"{path.stem}_{kind}_round_trip.mid")
    assert total > 0
    assert kept == total, f"{total - kept} of {total} notes lost; MIDI dumped in {tmp_path}"
    assert kept_back == total_back, f"the decoder added {total_back - kept_back} notes; MIDI dumped in {tmp_path}"
    if kind == "studio":
        assert tok.check(tokens) == []


def added_notes(tok, piece, decoded, tokens) -> tuple[int, int]:
    """(decoded notes found in the original, decoded notes), each at the tokenizer's own grid."""
    if tok.kind == "studio":
        return round_trip_share(decoded.notes, piece.notes, bar_ticks_of(piece.time_signature))
    reference = tok.backend.preprocess_score(piece_to_score(piece))
    if reference.tpq != tok.backend.time_division:
        reference = reference.resample(tok.backend.time_division)
    original = {(n.pitch, n.time, n.duration) for t in reference.tracks for n in t.notes}
    back = {(n.pitch, n.time, n.duration) for t in tok.decode_score(tokens).tracks for n in t.notes}
    return len(back & original), len(back)


def test_saved_tokenizers_decode_the_same(corpus_dir, tokenizers, tmp_path):
    piece, _ = read_piece((CORPUS / "piano" / "POP909_008.mid").read_bytes())
    header = Header(style="gospel")
    for kind, tok in tokenizers.items():
        save_tokenizer(tok, tmp_path / f"{kind}.json")
        again = load_tokenizer(tmp_path / f"{kind}.json")
        assert again.kind == kind and again.vocab == tok.vocab
        tokens = tok.encode(piece, header)
        assert again.ids(tokens) == tok.ids(tokens)
        assert [(n.pitch, n.start) for n in again.decode(tok.ids(tokens)).notes] == \
            [(n.pitch, n.start) for n in tok.decode(tokens).notes]


def test_a_note_the_decoder_adds_is_caught(tokenizers):
    """The reverse check of the corpus round trip is not vacuous: one note more is seen."""
    from pipelines.music.piece import Note, Piece

    piece = Piece(notes=[Note(float(beat), 60 + beat, 1.0) for beat in range(8)])
    tok = tokenizers["studio"]
    tokens = tok.encode(piece, Header(style="gospel"))
    decoded = tok.decode(tokens)
    assert added_notes(tok, piece, decoded, tokens) == (8, 8)
    decoded.notes.append(Note(2.5, 75, 0.5))
    assert added_notes(tok, piece, decoded, tokens) == (8, 9)
