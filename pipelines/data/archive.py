"""Reading uploaded .zip archives safely: no path tricks, no bombs, no nesting.

An archive is refused as a whole when a member name is absolute or climbs out with ``..`` (zip
slip), when it holds more members than allowed, when the sizes it declares add up to more than the
cap, or when a member's compression ratio is beyond what real MIDI reaches (a zip bomb). Members
are read in chunks and stopped at their declared size, so a lying header cannot blow up memory.
Nested archives and other non-MIDI members are skipped with a note.
"""
from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..common.errors import StudioError

MIDI_SUFFIXES = (".mid", ".midi")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on one archive."""

    max_members: int = 2000
    max_total_mb: float = 512.0      # uncompressed, all members together
    max_ratio: float = 100.0         # uncompressed / compressed, per member (MIDI reaches ~10)
    max_member_mb: float = 16.0      # one member, uncompressed


@dataclass(frozen=True)
class Member:
    """One entry of an archive: its name inside the archive, and its bytes or why it was skipped."""

    name: str
    data: bytes | None
    skipped: str | None = None


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in path.parts


def check_archive(zf: zipfile.ZipFile, label: str, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """The archive's file members; raises StudioError when the archive as a whole is unsafe."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise StudioError(f"{label} has {len(infos)} members; at most {limits.max_members} are allowed")
    total = 0
    for info in infos:
        if _unsafe(info.filename):
            raise StudioError(f"{label} was refused: member {info.filename!r} has an absolute path or '..' "
                              "(a zip-slip archive)")
        total += info.file_size
        if info.compress_size > 0 and info.file_size / info.compress_size > limits.max_ratio:
            raise StudioError(f"{label} was refused: member {info.filename!r} expands "
                              f"{info.file_size / info.compress_size:.0f}x (limit {limits.max_ratio:.0f}x; "
                              "a zip bomb)")
    if total > limits.max_total_mb * 1e6:
        raise StudioError(f"{label} was refused: it expands to {total / 1e6:.0f} MB (limit "
                          f"{limits.max_total_mb:.0f} MB; a zip bomb?)")
    return [i for i in infos if not i.is_dir()]


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap_bytes: int) -> bytes:
    """The member's bytes, stopping as soon as they pass its declared size or ``cap_bytes``."""
    limit = min(info.file_size, cap_bytes)
    parts, size = [], 0
    with zf.open(info) as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise StudioError(f"member {info.filename!r} is larger than it claims or than "
                                  f"{cap_bytes / 1e6:.0f} MB")
            parts.append(chunk)
    return b"".join(parts)


def iter_zip(path: Path, label: str, limits: ArchiveLimits) -> Iterator[Member]:
    """Every member of the archive at ``path``: MIDI bytes, or a skip note. Raises StudioError when
    the archive is not a zip or is unsafe (then nothing of it is used)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StudioError(f"{label} is not a readable .zip archive ({exc})") from None
    with zf:
        infos = check_archive(zf, label, limits)
        for info in infos:
            name = info.filename
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                yield Member(name, None, "a symbolic link inside the archive")
            elif name.lower().endswith(ARCHIVE_SUFFIXES):
                yield Member(name, None, "a nested archive (unpack it and upload its MIDI files)")
            elif not name.lower().endswith(MIDI_SUFFIXES):
                yield Member(name, None, "not a .mid/.midi file")
            elif PurePosixPath(name).name.startswith("._") or "__MACOSX/" in name:
                yield Member(name, None, "macOS metadata, not music")
            elif info.file_size > limits.max_member_mb * 1e6:
                yield Member(name, None, f"{info.file_size / 1e6:.1f} MB is over the "
                                         f"{limits.max_member_mb:.0f} MB limit for one file")
            else:
                try:
                    yield Member(name, _read_capped(zf, info, int(limits.max_member_mb * 1e6)))
                except Exception as exc:  # bad CRC, zlib error, unsupported method: untrusted bytes
                    yield Member(name, None, f"unreadable in the archive ({exc})")
