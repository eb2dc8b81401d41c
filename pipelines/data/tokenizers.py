"""Tokenizers behind one interface: the studio's event language, MidiTok REMI and TSD.

Every tokenizer has ``kind``, ``vocab`` (token strings in id order), ``encode(piece, header)`` ->
token strings, ``encode_bars`` -> (header, bars, start, end) for cutting at bar boundaries, ``ids(tokens)``,
``decode(tokens or ids)`` -> Piece, ``round_trip(piece)`` -> (kept, total, decoded) at its own grid,
and ``to_dict()`` for ``tokenizer.json``. ``TOKENIZERS`` is the registry; ``load_tokenizer`` reads a
saved one back (a file or a dataset folder). The config and the parts every tokenizer shares are in
``tokenizer_base.py``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..common.config import from_dict, to_dict
from ..common.errors import StudioError
from ..common.files import atomic_write_text
from ..music.piece import Piece
from .tokenizer_base import MidiFiles, TokenizerConfig, header_words, tokenizer_preset
from .vocab import Header, Vocabulary

__all__ = ["FORMAT", "TOKENIZERS", "MidiFiles", "StudioTokenizer", "TokenizerConfig", "build_tokenizer",
           "header_words", "load_tokenizer", "save_tokenizer", "tokenizer_preset"]

FORMAT = "music-studio-tokenizer"
FORMAT_VERSION = 1


class StudioTokenizer(MidiFiles):
    """The studio's readable event language (``pipelines.data.vocab``)."""

    kind = "studio"

    def __init__(self, cfg: TokenizerConfig, styles: Sequence[str] = (), labels: Sequence[str] = ()) -> None:
        self.cfg = cfg
        self.vocabulary = Vocabulary(styles=tuple(styles), labels=tuple(labels))

    @property
    def vocab(self) -> list[str]:
        return self.vocabulary.tokens

    def kind_of(self, token: str) -> str:
        return self.vocabulary.kind_of(token)

    def encode(self, piece: Piece, header: Header) -> list[str]:
        from .studio_codec import encode_piece

        return encode_piece(self.vocabulary, piece, header, self.cfg.chord_span_beats, self.cfg.chord_source)

    def ids(self, tokens: Sequence[str]) -> list[int]:
        lookup = self.vocabulary.token_to_id
        return [lookup[t] for t in tokens]

    def encode_bars(self, piece: Piece, header: Header) -> tuple[list[str], list[list[str]], str, str]:
        """(header, the tokens of each bar, start marker, end marker) for cutting into sequences."""
        return self.bars(self.encode(piece, header))

    @staticmethod
    def bars(tokens: list[str]) -> tuple[list[str], list[list[str]], str, str]:
        """(header, bars, start marker, end marker) of a whole-song sequence."""
        first = tokens.index("SONG_START")
        body = tokens[first + 1:-1] if tokens[-1] == "SONG_END" else tokens[first + 1:]
        bars: list[list[str]] = []
        for token in body:
            if token == "BAR_START" or not bars:
                bars.append([])
            bars[-1].append(token)
        return tokens[:first], bars, "SONG_START", "SONG_END"

    def decode(self, tokens: Sequence[str | int]) -> Piece:
        return self.vocabulary.decode(tokens)

    def round_trip(self, piece: Piece, header: Header, tokens: list[str] | None = None) -> tuple[int, int, Piece]:
        """(notes kept at the grid, notes at the grid, decoded piece); ``tokens``: the piece's
        encoding when the caller has it already."""
        from .studio_codec import bar_ticks_of, round_trip_share

        decoded = self.decode(tokens if tokens is not None else self.encode(piece, header))
        bar_ticks = bar_ticks_of(header.time_signature or piece.time_signature)
        kept, total = round_trip_share(piece.notes, decoded.notes, bar_ticks)
        return kept, total, decoded

    def check(self, tokens: Sequence[str | int]) -> list[str]:
        return self.vocabulary.check(tokens)

    def to_dict(self) -> dict[str, Any]:
        return {"vocabulary": self.vocabulary.to_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.vocabulary = Vocabulary.from_dict(state["vocabulary"])


def _miditok(cfg: TokenizerConfig, styles: Sequence[str] = (), labels: Sequence[str] = ()):
    from .miditok_backend import MidiTokTokenizer  # lazy: miditok imports torch-free but slow

    return MidiTokTokenizer(cfg, styles, labels)


# The registry: kind -> what builds it from (cfg, styles, labels).
TOKENIZERS = {
    "studio": StudioTokenizer,
    "remi": _miditok,
    "tsd": _miditok,
}


def build_tokenizer(cfg: TokenizerConfig, styles: Sequence[str] = (), labels: Sequence[str] = ()):
    """A fresh tokenizer of ``cfg.kind`` whose header words cover ``styles`` and ``labels``."""
    if cfg.kind not in TOKENIZERS:
        raise StudioError(f"tokenizer kind must be one of {', '.join(TOKENIZERS)} (got {cfg.kind!r})")
    return TOKENIZERS[cfg.kind](cfg, styles, labels)


def save_tokenizer(tokenizer, path: str | Path) -> Path:
    """Write ``tokenizer.json``: format, version, kind, config, vocab (id order) and backend state."""
    data = {"format": FORMAT, "version": FORMAT_VERSION, "kind": tokenizer.kind,
            "config": to_dict(tokenizer.cfg), "vocab": list(tokenizer.vocab),
            "vocab_size": len(tokenizer.vocab), **tokenizer.to_dict()}
    # key order kept (no sort_keys): MidiTok rebuilds its chord vocabulary in its maps' order
    return atomic_write_text(path, json.dumps(data, indent=1) + "\n")


def load_tokenizer(path_or_dataset_dir: str | Path):
    """A tokenizer saved by ``save_tokenizer``: a tokenizer.json, or a dataset folder holding one."""
    path = Path(path_or_dataset_dir)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise StudioError(f"no tokenizer at {path}; tokenize the dataset first "
                          "(python -m pipelines.data tokenize NAME)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StudioError(f"{path} is not valid JSON ({exc})") from None
    if data.get("format") != FORMAT:
        raise StudioError(f"{path} is not a studio tokenizer file (format {data.get('format')!r})")
    cfg = from_dict(TokenizerConfig, data["config"], str(path))
    tokenizer = build_tokenizer(cfg)
    tokenizer.load_state(data)
    if list(tokenizer.vocab) != list(data["vocab"]):
        raise StudioError(f"{path} was written by another version of the {cfg.kind} tokenizer "
                          "(its vocabulary differs); re-tokenize the dataset")
    return tokenizer
