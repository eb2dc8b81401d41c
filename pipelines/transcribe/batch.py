"""Batch A/B: a folder or zip of multi-track MIDI -> one A/B per song -> CSV and JSON report.

Pooling: micro (counts summed over songs) and macro (mean of per-song F1, N/A skipped), and
win/tie/loss of each stems side against the mix (tie when |ΔF1| ≤ 0.005).
"""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Callable

from ..common.errors import StudioError
from ..common.files import atomic_write_json, atomic_write_text
from ..data.archive import ArchiveLimits, iter_zip
from .compare import run_ab
from .audio import MIDI_SUFFIXES
from .config import ABConfig
from .report import dict_rows_csv, pool, song_summary

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
MAX_SONGS = 500
TIE_MARGIN = 0.005


def extract_midis(archive: Path, dest: Path, limits: ArchiveLimits | None = None) -> list[Path]:
    """The MIDI members of a zip, written flat into ``dest`` (no paths from the archive are used).

    The archive goes through the studio's one archive reader (``pipelines.data.archive``): traversal,
    member count, total size, compression ratio and nesting are refused before anything is written.
    """
    out: list[Path] = []
    for member in iter_zip(archive, archive.name, limits or ArchiveLimits()):
        if member.data is None or not member.data.startswith(b"MThd"):
            log.info("skipped %s in %s: %s", member.name, archive.name, member.skipped or "not a MIDI file")
            continue
        if len(out) >= MAX_SONGS:
            raise StudioError(f"{archive.name} holds more than {MAX_SONGS} MIDI files; at most {MAX_SONGS}")
        target = dest / f"{len(out):04d}_{Path(member.name).name}"
        target.write_bytes(member.data)
        out.append(target)
    return out


def collect_inputs(inputs: list[str | Path], unpack_dir: Path) -> list[Path]:
    """MIDI files from files, folders (not recursive) and zips (unpacked into ``unpack_dir``), in name order."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found += sorted(p for p in item.iterdir() if p.suffix.lower() in MIDI_SUFFIXES)
        elif item.suffix.lower() == ".zip":
            unpack = unpack_dir / f"{len(found):04d}_{item.stem}"
            unpack.mkdir(parents=True, exist_ok=True)
            found += extract_midis(item, unpack)
        elif item.suffix.lower() in MIDI_SUFFIXES and item.is_file():
            found.append(item)
        else:
            raise StudioError(f"{item.name} is not a MIDI file, a folder or a .zip of MIDI files")
        if len(found) > MAX_SONGS:
            raise StudioError(f"the batch holds more than {MAX_SONGS} MIDI files; at most {MAX_SONGS}")
    if not found:
        raise StudioError("no .mid files found in the batch input")
    return found


def run_batch(inputs: list[str | Path], cfg: ABConfig, out_dir: str | Path,
              progress: Progress | None = None, keep_songs: bool = True, max_songs: int = MAX_SONGS) -> dict:
    """One A/B per song, then pooled scores; writes batch.csv, pooled.csv and batch.json.

    Zips are unpacked into a temporary folder that is removed whatever happens. With ``keep_songs``
    each song's stems, MIDI and report stay in ``out_dir/songs``; without it (the studio's public
    batch) they are made in the temporary folder too, so only the three reports are kept.
    """
    say = progress or (lambda fraction, desc: None)
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="studio-batch-") as scratch:
        songs = collect_inputs(inputs, Path(scratch) / "unpacked")
        if len(songs) > max_songs:
            raise StudioError(f"the batch holds {len(songs)} MIDI files; at most {max_songs} here")
        songs_dir = out_dir / "songs" if keep_songs else Path(scratch) / "songs"
        rows, failed, start = _score_songs(songs, cfg, songs_dir, say)
    if not rows:
        raise StudioError("no song of the batch could be scored: " +
                          "; ".join(f"{f['song']}: {f['error']}" for f in failed[:3]))
    pooled = pool(rows, TIE_MARGIN)
    csv_path = atomic_write_text(out_dir / "batch.csv", dict_rows_csv(rows))
    pooled_path = atomic_write_text(out_dir / "pooled.csv", dict_rows_csv(pooled))
    summary = {"songs": len(songs), "scored": len(songs) - len(failed), "failed": failed,
               "pooled": pooled, "rows": rows, "seconds": round(time.perf_counter() - start, 2),
               "tie_margin": TIE_MARGIN, "csv": str(csv_path), "pooled_csv": str(pooled_path)}
    json_path = atomic_write_json(out_dir / "batch.json", summary)
    say(1.0, "done")
    return {**summary, "json": str(json_path)}


def _score_songs(songs: list[Path], cfg: ABConfig, songs_dir: Path, say: Progress) -> tuple:
    """One A/B per song into ``songs_dir``: (summary rows, failed songs, start time)."""
    rows: list[dict] = []
    failed: list[dict] = []
    start = time.perf_counter()
    for i, song in enumerate(songs):
        say(i / len(songs), f"song {i + 1}/{len(songs)}: {song.name}")
        try:
            result = run_ab(song, cfg, songs_dir / f"{i:04d}_{song.stem}", rolls=False)
        except StudioError as exc:
            log.warning("skipped %s: %s", song.name, exc)
            failed.append({"song": song.name, "error": str(exc)})
            continue
        rows += song_summary(song.name, result.scores, cfg)
    return rows, failed, start
