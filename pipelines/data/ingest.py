"""Ingest: MIDI files, folders of them (recursively) and .zip archives into a dataset, with a verdict
for every file.

``ingest(paths, cfg)`` reads each input (folders file by file, archives member by member), checks it, and adds the good
ones to ``datasets/<name>/`` (see ``dataset.py``); the report says, per file, kept or skipped and
why. A file is skipped when it is empty, not MIDI, corrupt, has no notes or only drums, is shorter
than one bar, longer than the limit, too big, in a meter the event language has no word for, or
already in the dataset (same bytes). The rest go on.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from ..common.progress import Progress
from ..common.errors import StudioError
from .archive import MIDI_SUFFIXES, ArchiveLimits, iter_zip
from .dataset import add_entries, check_name, dataset_dir
from .vocab import TIME_SIGNATURES, check_style, label_token

log = logging.getLogger(__name__)
MAX_NAME_CHARS = 160


@dataclass
class IngestConfig:
    """What to ingest into, with which labels, and the limits a file must meet."""

    dataset: str = "my-dataset"
    style: str = "general"
    labels: list[str] = field(default_factory=list)   # free labels: "mood:calm", "live"
    merge_tracks: bool = True        # True: one piano part; False: keep programs (MidiTok use_programs)
    drop_drums: bool = True
    max_file_mb: float = 16.0
    max_duration_min: float = 60.0
    min_bars: float = 1.0
    max_members: int = 2000          # per archive
    max_total_mb: float = 512.0      # per archive, uncompressed
    max_ratio: float = 100.0         # per archive member, uncompressed / compressed

    def __post_init__(self) -> None:
        self.dataset = check_name(self.dataset)
        self.style = check_style(self.style)
        self.labels = [lab.strip() for lab in self.labels if lab and lab.strip()]
        for label in self.labels:
            label_token(label)
        if not 0 < self.max_file_mb <= 256:
            raise StudioError(f"max_file_mb must be more than 0 and at most 256 (got {self.max_file_mb})")
        if not 0 < self.max_duration_min <= 600:
            raise StudioError(f"max_duration_min must be 0-600 (got {self.max_duration_min})")


def display_name(name: str) -> str:
    """A file name fit for a report: long names shortened in the middle."""
    name = name.replace("\\", "/")
    if len(name) <= MAX_NAME_CHARS:
        return name
    return name[: MAX_NAME_CHARS // 2 - 1] + "…" + name[-(MAX_NAME_CHARS // 2):]


def _inputs(paths: Sequence[str | Path], cfg: IngestConfig) -> Iterator[tuple[int, str, bytes | None, str | None]]:
    """(input index, name, bytes or None, skip reason) for every file and archive member."""
    for index, raw in enumerate(paths):
        for name, data, skipped in _input(Path(raw), cfg):
            yield index, name, data, skipped


def _input(path: Path, cfg: IngestConfig, shown: str | None = None) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(name, bytes or None, skip reason) for one path: a MIDI file, each archive member, or each
    file under a folder (recursively; hidden files and folders are passed over)."""
    name = display_name(shown or path.name)
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(path).parts))
        if not files:
            yield name, None, "an empty folder"
        for file in files:
            yield from _input(file, cfg, f"{path.name}/{file.relative_to(path).as_posix()}")
    elif not path.is_file():
        yield name, None, "not found (or not a file)"
    elif path.suffix.lower() == ".zip":
        limits = ArchiveLimits(cfg.max_members, cfg.max_total_mb, cfg.max_ratio, cfg.max_file_mb)
        try:
            for member in iter_zip(path, name, limits):
                yield display_name(f"{shown or path.name}/{member.name}"), member.data, member.skipped
        except StudioError as exc:
            yield name, None, str(exc)
    elif path.suffix.lower() not in MIDI_SUFFIXES:
        yield name, None, "not a .mid, .midi or .zip file"
    elif path.stat().st_size > cfg.max_file_mb * 1e6:
        yield name, None, f"{path.stat().st_size / 1e6:.1f} MB is over the {cfg.max_file_mb:.0f} MB limit for one file"
    else:
        yield name, path.read_bytes(), None


def describe(data: bytes, name: str, cfg: IngestConfig) -> dict:
    """The manifest entry of one file; raises StudioError with the reason it cannot be used."""
    from ..music.midi_reader import chord_marks, load_score, piece_from_score
    from .studio_codec import estimate_key

    score = load_score(data, name)
    piece, info = piece_from_score(score, drop_drums=cfg.drop_drums, marks=chord_marks(data))
    if not piece.notes:
        if info.drum_notes:
            raise StudioError("has only drum notes (drums are dropped)")
        raise StudioError("has no notes")
    n, d = piece.time_signature
    if f"{n}/{d}" not in TIME_SIGNATURES:
        raise StudioError(f"is in {n}/{d}, a meter the event language has no word for "
                          "(up to 8 quarter notes a bar over 2, 4 or 8)")
    start = min(note.start for note in piece.notes)
    span_beats = max(note.end for note in piece.notes) - start
    if span_beats < cfg.min_bars * piece.beats_per_bar - 1e-6:
        raise StudioError(f"is shorter than {cfg.min_bars:g} bar ({span_beats:.1f} beats of music)")
    duration_s = float(score.to("second").end()) if len(score.tracks) else 0.0
    if duration_s > cfg.max_duration_min * 60:
        raise StudioError(f"lasts {duration_s / 60:.1f} min, over the {cfg.max_duration_min:g} min limit")
    return {
        "file": name, "hash": hashlib.sha256(data).hexdigest()[:32], "size_bytes": len(data),
        "style": cfg.style, "labels": list(cfg.labels), "duration_s": round(duration_s, 3),
        "notes": len(piece.notes), "tempo_bpm": piece.tempo_bpm, "time_signature": f"{n}/{d}",
        "key": estimate_key(piece.notes), "bars": piece.bars,
        "tracks": [t for t in info.tracks if t["notes"]], "drum_notes": info.drum_notes,
        "tempo_changes": info.tempo_changes, "merge_tracks": cfg.merge_tracks,
        "drop_drums": cfg.drop_drums, "chart": bool(piece.chords), "added": round(time.time(), 3),
    }


def ingest(paths: Sequence[str | Path], cfg: IngestConfig, progress: Progress | None = None) -> dict:
    """Check every input and add the good files to ``cfg.dataset``; returns the report.

    Raises StudioError when nothing was given or no input is a valid MIDI file (then no dataset
    folder is left behind); the message lists why each file was skipped. Valid files that are
    already in the dataset are reported as skipped duplicates.
    """
    if not paths:
        raise StudioError("no files were given; upload .mid/.midi files or a .zip of them")
    folder = dataset_dir(cfg.dataset)
    report: list[dict] = []
    candidates: list[tuple[dict, bytes, dict]] = []
    for index, name, data, skipped in _inputs(paths, cfg):
        if progress:
            progress(min(0.95, index / len(paths)), f"checking {name}")
        row = {"file": name, "status": "skipped", "reason": skipped or "", "hash": "", "notes": 0,
               "duration_s": 0.0}
        report.append(row)
        if skipped is None and data is not None:
            try:
                entry = describe(data, name, cfg)
            except StudioError as exc:
                row["reason"] = str(exc).replace(f"{name} ", "", 1) if str(exc).startswith(name) else str(exc)
                continue
            row.update(status="kept", hash=entry["hash"], notes=entry["notes"], duration_s=entry["duration_s"])
            candidates.append((entry, data, row))
    if not candidates:
        reasons = "; ".join(f"{r['file']}: {r['reason']}" for r in report[:10])
        raise StudioError(f"no valid MIDI file in this upload, nothing was added to {cfg.dataset!r} ({reasons})")
    unique = _first_of_each_hash(candidates)
    added, duplicates = add_entries(folder, [(entry, data) for entry, data, _ in unique])
    added_hashes = {e["hash"] for e in added}
    for entry, _, row in unique:
        if entry["hash"] not in added_hashes:
            row.update(status="skipped", reason=f"already in the dataset as {duplicates.get(entry['hash'], '?')}")
    kept = sum(r["status"] == "kept" for r in report)
    if progress:
        progress(1.0, "done")
    log.info("ingested %d of %d files into %s", kept, len(report), cfg.dataset)
    from .dataset import read_manifest

    return {"dataset": cfg.dataset, "kept": kept, "skipped": len(report) - kept,
            "files_in_dataset": len(read_manifest(folder)), "report": report}


def _first_of_each_hash(candidates: list[tuple[dict, bytes, dict]]) -> list[tuple[dict, bytes, dict]]:
    """One candidate per content hash; later copies in the same upload are reported as duplicates."""
    first: dict[str, str] = {}
    out = []
    for entry, data, row in candidates:
        if entry["hash"] in first:
            row.update(status="skipped", reason=f"a duplicate of {first[entry['hash']]} in this upload")
            continue
        first[entry["hash"]] = entry["file"]
        out.append((entry, data, row))
    return out
