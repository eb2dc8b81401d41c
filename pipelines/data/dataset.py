"""The dataset folder contract (the Train tab reads it; keep it exactly):

    <workspace>/datasets/<name>/
        manifest.jsonl     one JSON object per kept file (file, hash, style, labels, duration_s,
                           notes, tempo_bpm, time_signature, key, tracks, ...)
        originals/         the uploaded bytes, named <hash>.mid
        meta.json          tokenizer, splits, augmentation, counts, round trip (written by tokenize)
        tokenizer.json     see pipelines.data.tokenizers.save_tokenizer
        tokens/{train,valid,test}.jsonl   {"text", "ids", "style", "source"} per sequence
        mlx/{train,valid}.jsonl           {"text"} per sequence (mlx-lm's format)

Writers of ``manifest.jsonl`` hold an exclusive ``fcntl`` lock on ``datasets/.<name>.lock`` while they read,
dedupe and rewrite it, so concurrent ingests into one dataset neither lose nor duplicate entries.
"""
from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path
from typing import Iterator

from ..common.errors import StudioError
from ..common.files import atomic_write_bytes, atomic_write_text, read_json
from ..common.paths import workspace_dir

DATASET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
MANIFEST = "manifest.jsonl"
META = "meta.json"


def datasets_root() -> Path:
    return workspace_dir() / "datasets"


def check_name(name: str) -> str:
    """A dataset name: 1-64 letters, digits, '.', '-' or '_' (it becomes a folder name)."""
    name = (name or "").strip()
    if not DATASET_NAME_RE.match(name) or ".." in name:
        raise StudioError(f"dataset name must be 1-64 letters, digits, '.', '-' or '_', starting with a "
                          f"letter or digit (got {name!r})")
    return name


def dataset_dir(name: str) -> Path:
    return datasets_root() / check_name(name)


def existing_dataset(name: str) -> Path:
    """The folder of a dataset that has a manifest; raises naming the datasets that exist."""
    folder = dataset_dir(name)
    if not (folder / MANIFEST).is_file():
        known = ", ".join(list_datasets()) or "none yet"
        raise StudioError(f"there is no dataset {name!r}; ingest files into it first",
                          local_detail=f"datasets: {known}")
    return folder


def list_datasets() -> list[str]:
    root = datasets_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def read_manifest(folder: Path) -> list[dict]:
    path = folder / MANIFEST
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def dataset_meta(name: str) -> dict:
    """What tokenizing wrote about dataset ``name`` (``meta.json``: tokenizer, splits, counts, the
    round trip per file); ``{}`` when it has not been tokenized."""
    return read_json(existing_dataset(name) / META, {}) or {}


@contextlib.contextmanager
def manifest_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock over the dataset's manifest (blocks until other writers are done)."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    # the lock sits beside the folder, so removing an empty new dataset cannot pull it from under
    # a second writer that waits on it
    with open(folder.parent / f".{folder.name}.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def add_entries(folder: Path, candidates: list[tuple[dict, bytes]]) -> tuple[list[dict], dict[str, str]]:
    """Store new files and their manifest entries under the lock.

    Returns (entries added, {hash: file already holding it} for the duplicates). When the folder had
    no manifest and nothing is added, the folder is removed again (no empty dataset is left).
    """
    added: list[dict] = []
    duplicates: dict[str, str] = {}
    with manifest_lock(folder):
        created = not (folder / MANIFEST).is_file()
        entries = read_manifest(folder)
        seen = {e["hash"]: e["file"] for e in entries}
        for entry, data in candidates:
            if entry["hash"] in seen:
                duplicates[entry["hash"]] = seen[entry["hash"]]
                continue
            atomic_write_bytes(folder / "originals" / f"{entry['hash']}.mid", data)
            seen[entry["hash"]] = entry["file"]
            added.append(entry)
        if added:
            lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in entries + added]
            atomic_write_text(folder / MANIFEST, "\n".join(lines) + "\n")
        elif created:
            shutil.rmtree(folder, ignore_errors=True)
    return added, duplicates


def original_path(folder: Path, file_hash: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{16,64}", file_hash or ""):
        raise StudioError(f"{file_hash!r} is not a file hash of this dataset")
    path = folder / "originals" / f"{file_hash}.mid"
    if not path.is_file():
        raise StudioError(f"the dataset has no original file with hash {file_hash}")
    return path
