"""Meters whose bar is not whole quarters (3/8, 5/8, 9/8 ...) tokenize: every position the encoder
writes is one the vocabulary has, from a MIDI file through ingest and tokenize."""
from __future__ import annotations

import random

import pytest

from pipelines.data.build import tokenize_dataset
from pipelines.data.ingest import IngestConfig, ingest
from pipelines.data.studio_codec import bar_ticks_of, round_trip_share
from pipelines.data.tokenizers import TokenizerConfig
from pipelines.data.vocab import Header, Vocabulary
from pipelines.music.piece import Note, Piece

METERS = [(3, 8), (5, 8), (7, 8), (9, 8), (6, 8), (12, 8), (3, 4), (5, 4)]


def _piece(meter: tuple[int, int], seed: int) -> Piece:
    """Eight bars of 16ths and eighth-note triplets at random, laid from the start of the piece."""
    rng = random.Random(seed)
    beats = 8 * meter[0] * 4 / meter[1]
    starts = sorted({round(rng.choice((rng.randrange(int(beats * 4)) / 4, rng.randrange(int(beats * 3)) / 3)), 4)
                     for _ in range(40)})
    notes = [Note(s, rng.randrange(40, 90), rng.choice((0.25, 1 / 3, 0.5, 1.0)), rng.randrange(40, 110)) for s in starts]
    return Piece(notes=notes, tempo_bpm=100, time_signature=meter)


@pytest.mark.parametrize("meter", METERS, ids=lambda m: f"{m[0]}-{m[1]}")
def test_every_position_is_in_the_vocabulary_and_notes_round_trip(meter):
    vocab = Vocabulary()
    bar_ticks = bar_ticks_of(meter)
    for seed in range(20):
        piece = _piece(meter, seed)
        tokens = vocab.encode(piece, Header(style="mehldau"))
        assert vocab.check(tokens) == [], (meter, seed)
        assert all(int(t[4:]) < bar_ticks for t in tokens if t.startswith("POS_"))
        decoded = vocab.decode(tokens)
        kept, total = round_trip_share(piece.notes, decoded.notes, bar_ticks)
        assert kept == total, (meter, seed, kept, total)


def test_a_9_8_and_a_3_8_file_ingest_and_tokenize(tmp_path, studio_home):
    files = [str(_piece(m, i).write_midi(tmp_path / f"song-{m[0]}-{m[1]}-{i}.mid"))
             for m in ((9, 8), (3, 8)) for i in range(3)]
    assert ingest(files, IngestConfig(dataset="odd"))["kept"] == 6
    summary = tokenize_dataset("odd", TokenizerConfig())
    assert sum(split["files"] for split in summary["counts"].values()) == 6
    assert summary["round_trip_overall"] == 1.0
