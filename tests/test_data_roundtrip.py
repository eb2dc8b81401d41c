"""Round trip over the real corpus: MIDI -> tokens -> MIDI keeps every note at the tokenizer's grid.

Studio tokens and MidiTok REMI, every file of ../shared/corpus/midi/piano and multitrack (tracks
merged into one piano part, drums dropped). A failing file is dumped as MIDI (original and round
trip) into the test's temp folder, to listen to.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.music.midi_reader import read_piece
from pipelines.data.tokenizers import TokenizerConfig, build_tokenizer, load_tokenizer, save_tokenizer
from pipelines.data.vocab import Header

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "midi"
FILES = sorted((CORPUS / "piano").glob("*.mid")) + sorted((CORPUS / "multitrack").glob("*.mid"))


@pytest.fixture(scope="module")
def tokenizers():
    return {kind: build_tokenizer(TokenizerConfig(kind=kind), ["gospel"], ["mood:calm"])
            for kind in ("studio", "remi")}


@pytest.mark.parametrize("kind", ["studio", "remi"])
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_every_note_survives_the_round_trip(corpus_dir, tokenizers, kind, path, tmp_path):
    tok = tokenizers[kind]
    piece, _ = read_piece(path.read_bytes(), path.name)
    header = Header(style="gospel", labels=("mood:calm",))
    kept, total, decoded = tok.round_trip(piece, header)
    if kept != total:
        piece.write_midi(tmp_path / f"{path.stem}_original.mid")
        decoded.write_midi(tmp_path / f"{path.stem}_{kind}_round_trip.mid")
    assert total > 0
    assert kept == total, f"{total - kept} of {total} notes lost; MIDI dumped in {tmp_path}"
    if kind == "studio":
        tokens = tok.encode(piece, header)
        assert tok.check(tokens) == []


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
