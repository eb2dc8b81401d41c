"""Tokenize a dataset: splits by source file, augmentation of train, sequences cut at bars.

``tokenize_dataset(name, tokenizer_cfg, augment_cfg, split_cfg)`` reads ``manifest.jsonl`` and the
originals, and writes ``tokenizer.json``, ``tokens/{train,valid,test}.jsonl``, ``mlx/{train,valid}.jsonl``
and ``meta.json`` (see ``dataset.py``). Every file is also decoded again and compared with itself at
the tokenizer's grid (the round trip, a share per file and overall).
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..common.config import to_dict
from ..common.errors import StudioError
from ..common.progress import Progress
from ..common.files import atomic_write_json, atomic_write_text
from .augment import AugmentConfig, augmented_pieces, augmented_scores
from .dataset import existing_dataset, manifest_lock, read_manifest
from .tokenizers import TokenizerConfig, build_tokenizer, save_tokenizer
from .vocab import Header

log = logging.getLogger(__name__)
SPLITS = ("train", "valid", "test")


@dataclass
class SplitConfig:
    """Shares of source files held out for validation and test (seeded, by file)."""

    valid_share: float = 0.1
    test_share: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.valid_share < 1 and 0 <= self.test_share < 1 and self.valid_share + self.test_share < 1):
            raise StudioError(f"valid_share and test_share must be 0-1 and leave files for training "
                              f"(got {self.valid_share} and {self.test_share})")


def split_sources(hashes: list[str], cfg: SplitConfig) -> dict[str, list[str]]:
    """Assign each source file to one split; every split gets at least one file when there are 3+."""
    order = sorted(set(hashes))
    random.Random(cfg.seed).shuffle(order)
    n = len(order)
    n_valid = round(n * cfg.valid_share)
    n_test = round(n * cfg.test_share)
    if n >= 3:
        n_valid = max(n_valid, 1 if cfg.valid_share > 0 else 0)
        n_test = max(n_test, 1 if cfg.test_share > 0 else 0)
    n_valid, n_test = min(n_valid, max(0, n - 1)), min(n_test, max(0, n - 1 - n_valid))
    return {"valid": sorted(order[:n_valid]), "test": sorted(order[n_valid:n_valid + n_test]),
            "train": sorted(order[n_valid + n_test:])}


def cut_sequences(head: list[str], bars: list[list[str]], start: str, end: str,
                  max_len: int) -> tuple[list[list[str]], int]:
    """Whole bars packed into sequences of at most ``max_len`` tokens, each opening with ``head``;
    ``start`` opens the song's first sequence, ``end`` closes its last. Returns (sequences, bars
    dropped because one bar alone is longer than a sequence can hold)."""
    room = max_len - len(head) - 2
    if room < 8:
        raise StudioError(f"max_seq_len {max_len} leaves no room after the {len(head)}-token header")
    sequences: list[list[str]] = []
    current: list[str] = []
    dropped = 0
    for bar in bars:
        if len(bar) > room:
            dropped += 1
            continue
        if current and len(current) + len(bar) > room:
            sequences.append(current)
            current = []
        current = current + bar
    if current or not sequences:
        sequences.append(current)
    out = [[*head, *seq] for seq in sequences]
    out[0].insert(len(head), start)
    out[-1].append(end)
    return out, dropped


def _load(entry: dict, data: bytes, cfg: TokenizerConfig):
    """The piece (or, for MidiTok with programs, the drum-free Score) a manifest entry holds."""
    from ..music.midi_reader import read_piece, read_score

    if cfg.kind != "studio" and cfg.use_programs:
        return read_score(data, entry["file"], drop_drums=entry.get("drop_drums", True))
    return read_piece(data, entry["file"], drop_drums=entry.get("drop_drums", True))[0]


def _tokenize_file(tok, music, header: Header, max_len: int) -> tuple[list[list[str]], list[str], int]:
    """(sequences, the whole song as one sequence, bars dropped)."""
    head, bars, start, end = tok.encode_bars(music, header)
    sequences, dropped = cut_sequences(head, bars, start, end, max_len)
    return sequences, [*head, start, *(t for bar in bars for t in bar), end], dropped


@dataclass
class _Collected:
    """What tokenizing the files gathers: records per split and the figures for meta.json."""

    records: dict[str, list[dict]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    song_lengths: list[int] = field(default_factory=list)
    per_file: dict[str, dict] = field(default_factory=dict)
    dropped_bars: int = 0
    copies: int = 0


def _tokenize_entry(tok, entry: dict, data: bytes, part: str, cfg: TokenizerConfig, augment: AugmentConfig,
                    out: _Collected) -> None:
    """Tokenize one manifest entry (plus its augmented copies when it is in train) into ``out``."""
    music = _load(entry, data, cfg)
    header = Header(style=entry["style"], labels=tuple(entry.get("labels", [])))
    versions = [("original", music)]
    if part == "train" and augment.enabled:
        maker = augmented_pieces if hasattr(music, "notes") else augmented_scores
        versions += list(maker(music, augment, entry["hash"]))
    for version_name, version in versions:
        sequences, song, dropped = _tokenize_file(tok, version, header, cfg.max_seq_len)
        out.dropped_bars += dropped
        if version_name == "original":
            out.song_lengths.append(len(song))
            kept, total, _ = tok.round_trip(music, header, tokens=song)
            out.per_file[entry["hash"]] = {"file": entry["file"], "kept": kept, "total": total,
                                           "share": round(kept / total, 6) if total else 1.0}
        else:
            out.copies += 1
        for seq in sequences:
            out.records[part].append({"text": " ".join(seq), "ids": tok.ids(seq), "style": entry["style"],
                                      "source": entry["hash"]})


def tokenize_dataset(name: str, tokenizer_cfg: TokenizerConfig, augment: AugmentConfig | None = None,
                     split: SplitConfig | None = None, progress: Progress | None = None) -> dict:
    """Write tokens, splits, tokenizer.json and meta.json for dataset ``name``; returns a summary."""
    augment, split = augment or AugmentConfig(), split or SplitConfig()
    started = time.perf_counter()
    # 1. the manifest, a tokenizer whose header words cover its styles and labels, the splits
    folder = existing_dataset(name)
    entries = read_manifest(folder)
    styles = sorted({e["style"] for e in entries})
    labels = sorted({lab for e in entries for lab in e.get("labels", [])})
    tok = build_tokenizer(tokenizer_cfg, styles, labels)
    splits = split_sources([e["hash"] for e in entries], split)
    split_of = {h: s for s, hashes in splits.items() for h in hashes}
    # 2. MidiTok BPE learns its merges on the train originals only
    if tokenizer_cfg.bpe_vocab_size:
        tok.train_bpe([folder / "originals" / f"{h}.mid" for h in splits["train"]])
    # 3. every file: sequences into its split, augmented copies into train, the round trip
    out = _Collected()
    for index, entry in enumerate(entries):
        if progress:
            progress(index / max(1, len(entries)), f"tokenizing {entry['file']}")
        data = (folder / "originals" / f"{entry['hash']}.mid").read_bytes()
        _tokenize_entry(tok, entry, data, split_of[entry["hash"]], tokenizer_cfg, augment, out)
    # 4. meta.json and the files, written under the dataset's lock
    kept = sum(f["kept"] for f in out.per_file.values())
    total = sum(f["total"] for f in out.per_file.values())
    meta = {
        "name": name, "created": round(time.time(), 3), "files": len(entries), "styles": styles,
        "labels": labels, "tokenizer": {"kind": tok.kind, "config": to_dict(tokenizer_cfg),
                                        "vocab_size": len(tok.vocab)},
        "splits": splits, "split": to_dict(split),
        "augmentation": {**to_dict(augment), "train_copies": out.copies},
        "counts": {s: {"files": len(splits[s]), "sequences": len(out.records[s]),
                       "tokens": sum(len(r["ids"]) for r in out.records[s])} for s in SPLITS},
        "song_lengths": out.song_lengths, "max_seq_len": tokenizer_cfg.max_seq_len,
        "sequence_lengths": [len(r["ids"]) for s in SPLITS for r in out.records[s]],
        "bars_dropped_too_long": out.dropped_bars,
        "round_trip": {"overall": round(kept / total, 6) if total else 1.0, "kept": kept, "total": total,
                       "per_file": out.per_file},
        "seconds": round(time.perf_counter() - started, 3),
        "notes": _notes(entries, tokenizer_cfg, out),
    }
    with manifest_lock(folder):
        _write_outputs(folder, tok, out.records, meta)
    if progress:
        progress(1.0, "done")
    summary = {k: meta[k] for k in ("name", "files", "counts", "max_seq_len", "bars_dropped_too_long", "seconds",
                                    "notes")}
    return {**summary, "tokenizer": tok.kind, "vocab_size": len(tok.vocab),
            "round_trip_overall": meta["round_trip"]["overall"], "train_copies": out.copies}


def _notes(entries: list[dict], cfg: TokenizerConfig, out: _Collected) -> list[str]:
    """Sentences for the user about choices the data and the tokenizer disagree on."""
    notes = []
    kept_programs = sum(not e.get("merge_tracks", True) for e in entries)
    if kept_programs and not (cfg.kind != "studio" and cfg.use_programs):
        notes.append(f"{kept_programs} files were ingested keeping their instruments, but this tokenizer "
                     "merges every part into one piano; use remi or tsd with use_programs: true to keep them")
    if out.dropped_bars:
        notes.append(f"{out.dropped_bars} bars were longer than max_seq_len {cfg.max_seq_len} allows and "
                     "were left out; raise max_seq_len to keep them")
    lost = [f["file"] for f in out.per_file.values() if f["share"] < 1.0]
    if lost:
        notes.append(f"{len(lost)} files lose notes in the round trip (e.g. {lost[0]}); listen to them in "
                     "the preview")
    return notes


def _write_outputs(folder: Path, tok, records: dict[str, list[dict]], meta: dict) -> None:
    save_tokenizer(tok, folder / "tokenizer.json")
    for part in SPLITS:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[part])
        atomic_write_text(folder / "tokens" / f"{part}.jsonl", text)
    for part in ("train", "valid"):
        text = "".join(json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n" for r in records[part])
        atomic_write_text(folder / "mlx" / f"{part}.jsonl", text)
    atomic_write_json(folder / "meta.json", meta)
