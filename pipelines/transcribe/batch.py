"""Batch A/B: a folder or zip of multi-track MIDI -> one A/B per song -> CSV and JSON report.

Pooling: micro (counts summed over songs) and macro (mean of per-song F1, N/A skipped), and
win/tie/loss of each stems side against the mix (tie when |ΔF1| ≤ 0.005).
"""
from __future__ import annotations

import csv
import io
import logging
import time
import zipfile
from pathlib import Path
from typing import Callable

from ..common.errors import StudioError
from ..common.files import atomic_write_json, atomic_write_text
from .compare import run_ab
from .audio import MIDI_SUFFIXES
from .config import ABConfig
from .report import pool, song_summary

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
MAX_SONGS = 500
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_ZIP_BYTES = 500 * 1024 * 1024
TIE_MARGIN = 0.005


def extract_midis(archive: Path, dest: Path) -> list[Path]:
    """The .mid members of a zip, written flat into ``dest`` (no paths from the archive are used)."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise StudioError(f"{archive.name} is not a readable zip file") from None
    out: list[Path] = []
    total = 0
    with zf:
        members = [m for m in zf.infolist()
                   if not m.is_dir() and Path(m.filename).suffix.lower() in MIDI_SUFFIXES]
        if len(members) > MAX_SONGS:
            raise StudioError(f"{archive.name} holds {len(members)} MIDI files; at most {MAX_SONGS}")
        for i, member in enumerate(members):
            total += member.file_size
            if member.file_size > MAX_MEMBER_BYTES or total > MAX_ZIP_BYTES:
                raise StudioError(f"{archive.name} unpacks to more than allowed ({member.filename}: "
                                  f"{member.file_size} bytes; at most {MAX_MEMBER_BYTES} a file)")
            name = f"{i:04d}_{Path(member.filename).name}"
            target = dest / name
            target.write_bytes(zf.read(member))
            out.append(target)
    return out


def collect_inputs(inputs: list[str | Path], work_dir: Path) -> list[Path]:
    """MIDI files from files, folders (not recursive) and zips, in name order."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found += sorted(p for p in item.iterdir() if p.suffix.lower() in MIDI_SUFFIXES)
        elif item.suffix.lower() == ".zip":
            unpack = work_dir / "unpacked" / item.stem
            unpack.mkdir(parents=True, exist_ok=True)
            found += extract_midis(item, unpack)
        elif item.suffix.lower() in MIDI_SUFFIXES and item.is_file():
            found.append(item)
        else:
            raise StudioError(f"{item} is not a MIDI file, a folder or a .zip of MIDI files")
    if not found:
        raise StudioError("no .mid files found in the batch input")
    if len(found) > MAX_SONGS:
        raise StudioError(f"the batch holds {len(found)} MIDI files; at most {MAX_SONGS}")
    return found


def run_batch(inputs: list[str | Path], cfg: ABConfig, out_dir: str | Path,
              progress: Progress | None = None) -> dict:
    """One A/B per song, then pooled scores; writes batch.csv, pooled.csv and batch.json."""
    say = progress or (lambda fraction, desc: None)
    out_dir = Path(out_dir)
    songs = collect_inputs(inputs, out_dir)
    rows: list[dict] = []
    failed: list[dict] = []
    start = time.perf_counter()
    for i, song in enumerate(songs):
        say(i / len(songs), f"song {i + 1}/{len(songs)}: {song.name}")
        try:
            result = run_ab(song, cfg, out_dir / "songs" / f"{i:04d}_{song.stem}")
        except StudioError as exc:
            log.warning("skipped %s: %s", song.name, exc)
            failed.append({"song": song.name, "error": str(exc)})
            continue
        rows += song_summary(song.name, result.scores, cfg)
    if not rows:
        raise StudioError("no song of the batch could be scored: " +
                          "; ".join(f"{f['song']}: {f['error']}" for f in failed[:3]))
    pooled = pool(rows, TIE_MARGIN)
    csv_path = atomic_write_text(out_dir / "batch.csv", _csv(rows))
    pooled_path = atomic_write_text(out_dir / "pooled.csv", _csv(pooled))
    summary = {"songs": len(songs), "scored": len(songs) - len(failed), "failed": failed,
               "pooled": pooled, "rows": rows, "seconds": round(time.perf_counter() - start, 2),
               "tie_margin": TIE_MARGIN, "csv": str(csv_path), "pooled_csv": str(pooled_path)}
    json_path = atomic_write_json(out_dir / "batch.json", summary)
    say(1.0, "done")
    return {**summary, "json": str(json_path)}


def _csv(rows: list[dict]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows({k: ("N/A" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()
