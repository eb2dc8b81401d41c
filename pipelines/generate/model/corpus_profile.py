"""What a model's training corpus looks like: its mean metrics and an index of its bars for novelty.

The profile is computed once from the dataset's ``tokens/train.jsonl`` (the sequences the model
saw) and cached as JSON: inside the checkpoint folder when it ships one (``corpus_profile.json``,
so a shipped model needs no dataset), else under ``<workspace>/.cache/generate/`` keyed by the
dataset file's size and time. Novelty: every bar with notes is hashed from its exact tokens; a
generated piece is compared bar by bar with the training sequences: the longest run of
consecutive bars found verbatim, and the share of its 4-bar windows found verbatim. The index is
built once per profile and kept as arrays (``<workspace>/.cache/generate/novelty/``), so a cold take
reads it back in a millisecond instead of parsing every bar and sorting every window again.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Sequence

from ...common.files import atomic_write_bytes, atomic_write_json
from ...common.paths import workspace_dir

log = logging.getLogger(__name__)
PROFILE_FILE = "corpus_profile.json"
WINDOW_BARS = 4
MAX_PROFILE_SEQUENCES = 400   # metrics are averaged over at most this many training sequences


def bar_hashes(words: Sequence[str]) -> list[int]:
    """One 63-bit hash per bar (BAR_START to the next); 0 for a bar without notes (never 'copied')."""
    out, current = [], []
    for word in words:
        if word == "BAR_START":
            if current:
                out.append(_hash(current))
            current = [word]
        elif current and word != "SONG_END":
            current.append(word)
    if current:
        out.append(_hash(current))
    return out


def _hash(bar: list[str]) -> int:
    if not any(w.startswith("NOTE_") for w in bar):
        return 0
    return int.from_bytes(hashlib.blake2b(" ".join(bar).encode(), digest_size=8).digest(), "big") >> 1


def dataset_train_file(dataset: str) -> Path | None:
    path = workspace_dir() / "datasets" / dataset / "tokens" / "train.jsonl" if dataset else None
    return path if path is not None and path.is_file() else None


def build_profile(train_file: Path, decode, also_from: Sequence[Path] = ()) -> dict[str, Any]:
    """Mean music-core metrics and the bar index of a tokens/train.jsonl (``decode``: words -> Piece).
    ``also_from``: more train files the model learned from (its base's corpora, an earlier pass):
    their bars join the novelty index; the metrics and styles stay the first file's."""
    from ...music.metrics import all_metrics

    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    sequences: list[list[int]] = []
    styles: dict[str, int] = {}
    lines = [ln for ln in train_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for number, line in enumerate(lines):
        row = json.loads(line)
        words = row["text"].split()
        sequences.append(bar_hashes(words))
        if row.get("style"):
            styles[row["style"]] = styles.get(row["style"], 0) + 1
        if number >= MAX_PROFILE_SEQUENCES:
            continue
        for key, value in all_metrics(decode(words)).items():
            if isinstance(value, (int, float)) and value is not None:
                sums[key] = sums.get(key, 0.0) + float(value)
                counts[key] = counts.get(key, 0) + 1
    means = {k: round(sums[k] / counts[k], 4) for k in sums}
    for other in also_from:
        sequences += [bar_hashes(json.loads(line)["text"].split())
                      for line in other.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {"source": str(train_file), "sequences": len(lines), "styles": styles, "metrics": means,
            "bar_sequences": sequences}


def load_profile(checkpoint: Path, dataset: str, decode) -> dict[str, Any] | None:
    """The checkpoint's shipped profile, else the cached (or freshly built) one of its dataset; None if neither."""
    shipped = Path(checkpoint) / PROFILE_FILE
    if shipped.is_file():
        return json.loads(shipped.read_text(encoding="utf-8"))
    train_file = dataset_train_file(dataset)
    if train_file is None:
        return None
    stat = train_file.stat()
    cache = workspace_dir() / ".cache" / "generate" / f"{dataset}-{stat.st_size}-{int(stat.st_mtime)}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    profile = build_profile(train_file, decode)
    atomic_write_json(cache, profile)
    return profile


def load_evidence(checkpoint: Path, dataset: str, decode) -> tuple[dict[str, Any] | None, "NoveltyIndex | None"]:
    """(the profile without its bars, the novelty index) of a checkpoint's training corpus; (None, None)
    when neither the checkpoint ships a profile nor its dataset is on this machine."""
    import io

    import numpy as np

    source = Path(checkpoint) / PROFILE_FILE
    if not source.is_file():
        source = dataset_train_file(dataset)
        if source is None:
            return None, None
    stat = source.stat()
    folder = workspace_dir() / ".cache" / "generate" / "novelty"
    which = hashlib.blake2b(str(source.resolve()).encode(), digest_size=8).hexdigest()
    cache = folder / f"{which}-{stat.st_size}-{stat.st_mtime_ns}.npz"
    try:
        with np.load(cache) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
            return meta, NoveltyIndex.from_arrays(arrays["flat"], arrays["window_keys"])
    except Exception as exc:  # none yet (FileNotFoundError), or damaged: built again below
        if not isinstance(exc, FileNotFoundError):
            log.warning("rebuilding the novelty index %s: %s", cache.name, exc)
    profile = load_profile(checkpoint, dataset, decode)
    if profile is None:
        return None, None
    index = NoveltyIndex(profile["bar_sequences"])
    meta = {k: v for k, v in profile.items() if k != "bar_sequences"}
    buffer = io.BytesIO()
    np.savez(buffer, flat=index.flat, window_keys=index.window_keys,
             meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    try:
        atomic_write_bytes(cache, buffer.getvalue())
        for older in folder.glob(f"{which}-*.npz"):   # the same corpus file before it changed
            if older != cache:
                older.unlink(missing_ok=True)
    except OSError as exc:  # a read-only workspace: the next take builds it again
        log.warning("could not keep the novelty index: %s", exc)
    return meta, index


class NoveltyIndex:
    """The training corpus's bars, for finding verbatim copies.

    The bar hashes of every sequence lie end to end in one array, each sequence closed by a 0 (a bar
    without notes, which never counts as copied), so no run crosses from one sequence into the next;
    every 4-bar window of notes is folded into one 64-bit key, kept sorted. Built with numpy in a few
    hundredths of a second for a quarter of a million bars: a cold take builds it once."""

    def __init__(self, bar_sequences: Sequence[Sequence[int]]) -> None:
        import itertools

        import numpy as np

        self.flat = np.fromiter(itertools.chain.from_iterable(itertools.chain(s, (0,)) for s in bar_sequences),
                                dtype=np.int64)
        self.window_keys = np.unique(_window_keys(self.flat))

    @classmethod
    def from_arrays(cls, flat, window_keys) -> "NoveltyIndex":
        """An index from its two arrays, as ``load_evidence`` keeps them."""
        index = cls.__new__(cls)
        index.flat, index.window_keys = flat, window_keys
        return index

    def novelty(self, words: Sequence[str]) -> dict[str, Any]:
        """Longest run of bars found verbatim, and the share of 4-bar windows found verbatim."""
        import numpy as np

        bars = bar_hashes(words)
        longest = 0
        for i, h in enumerate(bars):
            if not h or len(bars) - i <= longest:
                continue
            places, k = np.flatnonzero(self.flat == h), 1
            if not places.size:
                continue
            while i + k < len(bars) and bars[i + k]:
                # each place matched k bars of notes, so place + k is inside the array (it ends in a 0)
                matching = places[self.flat[places + k] == bars[i + k]]
                if not matching.size:
                    break
                places, k = matching, k + 1
            longest = max(longest, k)
        windows = max(0, len(bars) - WINDOW_BARS + 1)
        keys = _window_keys(np.asarray(bars, dtype=np.int64))
        copied = 0
        if keys.size and self.window_keys.size:   # window_keys is sorted and unique: a binary search each
            at = np.minimum(np.searchsorted(self.window_keys, keys), self.window_keys.size - 1)
            copied = int((self.window_keys[at] == keys).sum())
        return {"longest_copied_bars": longest,
                "copied_4bar_share": round(copied / windows, 4) if windows else None,
                "windows_4bar": windows}


# odd 64-bit multipliers that fold a window's 4 bar hashes into one key (products wrap around)
_FOLD = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)


def _window_keys(flat):
    """One key per 4-bar window of ``flat`` whose bars all have notes."""
    import numpy as np

    n = len(flat) - WINDOW_BARS + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    bars = flat.astype(np.uint64)
    with np.errstate(over="ignore"):
        keys = bars[:n].copy()
        for offset, factor in enumerate(_FOLD, start=1):
            keys ^= bars[offset:offset + n] * np.uint64(factor)
    notes = np.ones(n, dtype=bool)
    for offset in range(WINDOW_BARS):
        notes &= flat[offset:offset + n] != 0
    return keys[notes]
