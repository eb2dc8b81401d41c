"""MidiTok REMI and TSD behind the studio's tokenizer interface (see ``tokenizers.py``).

Header words (``STYLE_<name>``, free labels) are MidiTok special tokens, so a sequence opens with
them as the studio tokens do; ``BOS_None``/``EOS_None`` mark a song's first and last piece.
Sequences are cut at MidiTok's own bar boundaries (``TokSequence.split_per_bars``). The round trip
is measured against MidiTok's preprocessed score (its grid: ``beat_res`` positions a beat).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..common.errors import StudioError
from ..music.midi_reader import piece_from_score
from ..music.piece import Piece
from .tokenizer_base import MidiFiles, TokenizerConfig, header_words
from .vocab import DEFAULT_STYLES, Header

SPECIALS = ("PAD", "BOS", "EOS", "MASK")


def _miditok_config(cfg: TokenizerConfig, styles: Sequence[str], labels: Sequence[str]):
    from miditok import TokenizerConfig as MidiTokConfig

    words = header_words("general", labels)[1:]
    words += [f"STYLE_{s}" for s in dict.fromkeys((*DEFAULT_STYLES, *styles))]
    return MidiTokConfig(
        pitch_range=(21, 109), beat_res={(0, 4): cfg.beat_res, (4, 12): max(1, cfg.beat_res // 2)},
        num_velocities=cfg.num_velocities, special_tokens=[*SPECIALS, *words],
        use_chords=cfg.use_chords, use_rests=cfg.use_rests, use_tempos=cfg.use_tempos,
        use_time_signatures=cfg.use_time_signatures, use_sustain_pedals=cfg.use_sustain_pedals,
        use_programs=cfg.use_programs, one_token_stream_for_programs=cfg.use_programs,
        num_tempos=32, tempo_range=(40, 250))


class MidiTokTokenizer(MidiFiles):
    """REMI or TSD (``cfg.kind``) from MidiTok 3."""

    def __init__(self, cfg: TokenizerConfig, styles: Sequence[str] = (), labels: Sequence[str] = ()) -> None:
        import miditok

        self.cfg = cfg
        self.kind = cfg.kind
        self.labels = tuple(labels)
        backend = {"remi": miditok.REMI, "tsd": miditok.TSD}[cfg.kind]
        self.backend = backend(_miditok_config(cfg, styles, labels))

    # ---- vocabulary ------------------------------------------------------------------------
    @property
    def vocab(self) -> list[str]:
        """Token names in id order (learned BPE tokens as their base tokens joined by '+')."""
        if self.backend.is_trained:
            learned = self.backend._vocab_learned_bytes_to_tokens
            by_id = sorted(self.backend.vocab_model.items(), key=lambda kv: kv[1])
            return ["+".join(learned[b]) for b, _ in by_id]
        return [t for t, _ in sorted(self.backend.vocab.items(), key=lambda kv: kv[1])]

    def kind_of(self, token: str) -> str:
        return token.split("_", 1)[0].lower()

    # ---- encode / decode -------------------------------------------------------------------
    def _score(self, piece_or_score):
        return piece_to_score(piece_or_score) if isinstance(piece_or_score, Piece) else piece_or_score

    def _sequence(self, piece_or_score):
        seq = self.backend.encode(self._score(piece_or_score), encode_ids=False)
        if isinstance(seq, list):
            if len(seq) != 1:
                raise StudioError(f"{len(seq)} tracks reached the {self.kind} tokenizer; merge tracks "
                                  "or set use_programs: true")
            seq = seq[0]
        return seq

    def encode(self, piece_or_score, header: Header) -> list[str]:
        head, bars, start, end = self.encode_bars(piece_or_score, header)
        return [*head, start, *(t for bar in bars for t in bar), end]

    def encode_bars(self, piece_or_score, header: Header) -> tuple[list[str], list[list[str]], str, str]:
        """(header words, the tokens of each bar, start marker, end marker)."""
        seq = self._sequence(piece_or_score)
        bars = [list(b.tokens) for b in seq.split_per_bars()]
        bars = [b for b in bars if b]
        if sum(map(len, bars)) != len(seq.tokens):  # never cut a sequence into a different one
            bars = [list(seq.tokens)]
        return header_words(header.style, header.labels), bars, "BOS_None", "EOS_None"

    def ids(self, tokens: Sequence[str]) -> list[int]:
        if self.backend.is_trained:
            from miditok import TokSequence

            seq = TokSequence(tokens=list(tokens))
            self.backend.complete_sequence(seq)
            self.backend.encode_token_ids(seq)
            return list(seq.ids)
        vocab = self.backend.vocab
        return [vocab[t] for t in tokens]

    def decode(self, tokens: Sequence[str | int]) -> Piece:
        return score_to_piece(self.decode_score(tokens))

    def decode_score(self, tokens: Sequence[str | int]):
        """Tokens or ids -> symusic Score (tick time at MidiTok's resolution); header words skipped."""
        from miditok import TokSequence

        if len(tokens) and isinstance(tokens[0], int):
            seq = TokSequence(ids=list(tokens), are_ids_encoded=self.backend.is_trained)
            if self.backend.is_trained:
                self.backend.decode_token_ids(seq)    # BPE ids -> base ids
            self.backend.complete_sequence(seq)
            names = seq.tokens
        else:
            names = list(tokens)
        skip = self._label_words()
        names = [t for t in names if t.split("_", 1)[0] not in {"STYLE", *SPECIALS} and t not in skip]
        seq = TokSequence(tokens=names)
        self.backend.complete_sequence(seq)
        return self.backend.decode(seq if self.backend.one_token_stream else [seq])

    def _label_words(self) -> set[str]:
        return set(header_words("general", self.labels)[1:])

    def round_trip(self, piece_or_score, header: Header, tokens: list[str] | None = None) -> tuple[int, int, Piece]:
        """Notes kept (pitch, onset, duration at MidiTok's grid) after encode -> decode;
        ``tokens``: the piece's encoding when the caller has it already."""
        score = self._score(piece_or_score)
        reference = self.backend.preprocess_score(score.copy())
        if reference.tpq != self.backend.time_division:
            reference = reference.resample(self.backend.time_division)
        if tokens is None:
            tokens = self.encode(score, header)
        decoded = self.decode_score(tokens)

        def notes(s) -> set[tuple[int, int, int]]:
            return {(n.pitch, n.time, n.duration) for t in s.tracks for n in t.notes}

        kept = notes(reference) & notes(decoded)
        return len(kept), len(notes(reference)), score_to_piece(decoded)

    def check(self, tokens: Sequence[str]) -> list[str]:
        unknown = [t for t in tokens if t not in self.backend.vocab]
        return [f"{t!r} is not in the {self.kind} vocabulary" for t in unknown[:20]]

    # ---- BPE and persistence ---------------------------------------------------------------
    def train_bpe(self, midi_paths: Sequence[Path]) -> None:
        """Learn ``cfg.bpe_vocab_size`` tokens with MidiTok's BPE on the given files."""
        if self.cfg.bpe_vocab_size <= len(self.backend.vocab):
            raise StudioError(f"bpe_vocab_size must be larger than the base vocabulary "
                              f"({len(self.backend.vocab)}; got {self.cfg.bpe_vocab_size})")
        self.backend.train(vocab_size=self.cfg.bpe_vocab_size, model="BPE", files_paths=list(midi_paths))

    def to_dict(self) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "miditok.json"
            self.backend.save(path)
            return {"labels": list(self.labels), "miditok": json.loads(path.read_text(encoding="utf-8"))}

    def load_state(self, state: dict[str, Any]) -> None:
        import miditok

        self.labels = tuple(state.get("labels", ()))
        backend = {"remi": miditok.REMI, "tsd": miditok.TSD}[self.kind]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "miditok.json"
            path.write_text(json.dumps(state["miditok"]), encoding="utf-8")
            self.backend = backend(params=path)


def piece_to_score(piece: Piece, ticks_per_quarter: int = 480):
    """A Piece as a one-track symusic Score (tick time), for the MidiTok tokenizers."""
    import symusic

    score = symusic.Score(ticks_per_quarter)
    score.tempos.append(symusic.Tempo(0, piece.tempo_bpm))
    score.time_signatures.append(symusic.TimeSignature(0, *piece.time_signature))
    track = symusic.Track("Piano", piece.program, False)
    if piece.notes:
        raw = np.array([(n.start, n.duration, n.pitch, n.velocity) for n in piece.notes], dtype=float)
        starts = np.round(raw[:, 0] * ticks_per_quarter).astype(np.int32)
        durations = np.maximum(1, np.round(raw[:, 1] * ticks_per_quarter)).astype(np.int32)
        track.notes = symusic.Note.from_numpy(starts, durations, raw[:, 2].astype(np.int8),
                                              np.clip(raw[:, 3], 1, 127).astype(np.int8), "tick")
    for down, up in piece.pedal:
        track.pedals.append(symusic.Pedal(int(round(down * ticks_per_quarter)),
                                          max(1, int(round((up - down) * ticks_per_quarter)))))
    score.tracks.append(track)
    return score


def score_to_piece(score) -> Piece:
    """A (decoded) symusic Score back to a Piece, in beats."""
    return piece_from_score(score, drop_drums=True)[0]
