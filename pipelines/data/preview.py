"""Listen to a dataset file next to its tokenize-then-decode round trip.

``round_trip_preview(name, file_hash)`` renders the first ``max_beats`` beats of the original and of
the decoded tokens to WAV with the studio's renderer, with the share of notes kept. The dataset's
own tokenizer is used when it has been tokenized, else the studio tokens. (The rule-based corpus
that fills a dataset, ``bootstrap_dataset``, is in ``pipelines.generate.corpus``.)
"""
from __future__ import annotations

from dataclasses import replace

from ..common.errors import StudioError
from ..common.paths import workspace_dir
from ..music.piece import Piece
from .dataset import existing_dataset, original_path, read_manifest


def _crop(piece: Piece, max_beats: float) -> Piece:
    notes = [n for n in piece.notes if n.start < max_beats]
    pedal = [(a, min(b, max_beats)) for a, b in piece.pedal if a < max_beats]
    chords = [c for c in piece.chords if c.start < max_beats]
    return replace(piece, notes=notes, pedal=pedal, chords=chords, bars_hint=None)


def round_trip_preview(name: str, file_hash: str, max_beats: float = 64.0) -> dict:
    """Render original and round trip of one file; returns wav paths, kept/total and the tokenizer."""
    from ..music.midi_reader import read_piece
    from ..music.render import render_wav
    from .tokenizers import TokenizerConfig, build_tokenizer, load_tokenizer
    from .vocab import Header

    folder = existing_dataset(name)
    entry = next((e for e in read_manifest(folder) if e["hash"] == file_hash), None)
    if entry is None:
        raise StudioError(f"dataset {name!r} has no file with hash {file_hash!r}")
    piece, _ = read_piece(original_path(folder, file_hash).read_bytes(), entry["file"])
    tokenizer = (load_tokenizer(folder) if (folder / "tokenizer.json").is_file()
                 else build_tokenizer(TokenizerConfig(), [entry["style"]], entry.get("labels", [])))
    header = Header(style=entry["style"], labels=tuple(entry.get("labels", [])))
    kept, total, decoded = tokenizer.round_trip(piece, header)
    out = workspace_dir() / "cache" / "previews" / name  # served to the browser; originals are not
    original_wav = render_wav(_crop(piece, max_beats).to_pretty_midi(), out / f"{file_hash}_original.wav")
    decoded_wav = render_wav(_crop(decoded, max_beats).to_pretty_midi(), out / f"{file_hash}_roundtrip.wav")
    return {"file": entry["file"], "tokenizer": tokenizer.kind, "kept": kept, "total": total,
            "share": round(kept / total, 6) if total else 1.0, "original_wav": str(original_wav.path),
            "round_trip_wav": str(decoded_wav.path), "seconds": round(original_wav.duration_s, 2)}
