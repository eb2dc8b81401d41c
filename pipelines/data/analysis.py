"""Dataset statistics and plots: what the files hold, in numbers a musician and a trainer can read.

``dataset_stats(name)`` reads every original once and returns counts, durations, pitch and velocity
histograms, notes per second, tempo/meter/key distributions and the chord vocabulary found by the
music core's recogniser (on 2-beat spans of the 16th/triplet grid). It also writes
``stats.json`` into the dataset folder and ``stats.png`` into ``plots_dir(name)``; ``plot_lengths``
draws the token-length histogram against ``max_seq_len`` after tokenization there too. The plots sit
in the workspace's served ``cache/`` (the browser may fetch them wherever ``STUDIO_HOME`` is), never
beside the dataset's originals, which are not served.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ..common.files import atomic_write_json, read_json
from .dataset import existing_dataset, read_manifest

TOP_CHORDS = 40


def _file_stats(data: bytes, entry: dict, vocab) -> dict:
    from ..music.midi_reader import read_piece
    from .studio_codec import bar_ticks_of, detect_chords, grid_notes

    piece, _ = read_piece(data, entry["file"], drop_drums=entry.get("drop_drums", True))
    pitches = np.array([n.pitch for n in piece.notes])
    velocities = np.array([n.velocity for n in piece.notes])
    bar_ticks = bar_ticks_of(piece.time_signature)
    grid = grid_notes(piece.notes, bar_ticks)
    total = int((grid[:, 1] + grid[:, 2]).max()) if len(grid) else 0
    chords = detect_chords(grid, ((total // bar_ticks) + 1) * bar_ticks, 24, bar_ticks, vocab.recogniser())
    return {"pitch_hist": np.bincount(pitches, minlength=128)[:128],
            "velocity_hist": np.bincount(velocities // 8, minlength=16)[:16],
            "chords": Counter(name or "NC" for _, name in chords)}


def dataset_stats(name: str, write_plots: bool = True) -> dict:
    """Statistics of dataset ``name`` (JSON-ready); writes stats.json and plots/stats.png."""
    from .vocab import Vocabulary

    folder = existing_dataset(name)
    entries = read_manifest(folder)
    vocab = Vocabulary()
    pitch = np.zeros(128, dtype=np.int64)
    velocity = np.zeros(16, dtype=np.int64)
    chords: Counter = Counter()
    for entry in entries:
        one = _file_stats((folder / "originals" / f"{entry['hash']}.mid").read_bytes(), entry, vocab)
        pitch += one["pitch_hist"]
        velocity += one["velocity_hist"]
        chords += one["chords"]
    durations = np.array([e["duration_s"] for e in entries], dtype=float)
    notes = np.array([e["notes"] for e in entries], dtype=float)
    nps = notes / np.maximum(durations, 1e-6)
    stats = {
        "dataset": name, "files": len(entries), "notes": int(notes.sum()),
        "duration_s": {"total": round(float(durations.sum()), 2),
                       "min": _r(durations.min()) if len(durations) else 0.0,
                       "median": _r(np.median(durations)) if len(durations) else 0.0,
                       "max": _r(durations.max()) if len(durations) else 0.0},
        "notes_per_s": {"mean": _r(nps.mean()) if len(nps) else 0.0,
                        "median": _r(np.median(nps)) if len(nps) else 0.0, "per_file": [_r(x) for x in nps]},
        "pitch": {"histogram": pitch.tolist(), "lowest": int(np.nonzero(pitch)[0].min()) if pitch.any() else None,
                  "highest": int(np.nonzero(pitch)[0].max()) if pitch.any() else None},
        "velocity": {"histogram_8": velocity.tolist()},
        "tempo_bpm": {"per_file": [e["tempo_bpm"] for e in entries],
                      "buckets_20": dict(sorted(Counter(f"{int(e['tempo_bpm'] // 20 * 20)}-"
                                                        f"{int(e['tempo_bpm'] // 20 * 20 + 19)}"
                                                        for e in entries).items()))},
        "time_signatures": dict(Counter(e["time_signature"] for e in entries).most_common()),
        "keys": dict(Counter(e["key"] for e in entries).most_common()),
        "styles": dict(Counter(e["style"] for e in entries).most_common()),
        "labels": dict(Counter(lab for e in entries for lab in e.get("labels", [])).most_common()),
        "chords": {"distinct": len(chords), "top": dict(chords.most_common(TOP_CHORDS))},
    }
    atomic_write_json(folder / "stats.json", stats)
    if write_plots and entries:
        stats["plot"] = str(plot_stats(stats, plots_dir(name) / "stats.png"))
    return stats


def plots_dir(name: str) -> Path:
    """Where a dataset's plots go: ``<workspace>/cache/plots/<name>/`` (served to the browser)."""
    from ..common.paths import workspace_dir

    return workspace_dir() / "cache" / "plots" / name


def _r(x: float) -> float:
    return round(float(x), 3)


def plot_stats(stats: dict, path: Path) -> Path:
    """Six panels: pitch, velocity, notes per second, tempo, keys, chords (a ``Figure``, not pyplot's
    global state, so it is safe in the UI's worker threads)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 7.5))
    axes = fig.subplots(2, 3)
    ax = axes[0, 0]
    ax.bar(range(128), stats["pitch"]["histogram"], width=1.0, color="#4a6fa5")
    ax.set(title="Pitch (MIDI note)", xlim=(20, 109), xlabel="pitch", ylabel="notes")
    ax = axes[0, 1]
    ax.bar([i * 8 + 4 for i in range(16)], stats["velocity"]["histogram_8"], width=7.5, color="#6b8e23")
    ax.set(title="Velocity", xlabel="MIDI velocity", ylabel="notes")
    ax = axes[0, 2]
    ax.hist(stats["notes_per_s"]["per_file"], bins=20, color="#b5651d")
    ax.set(title="Notes per second (per file)", xlabel="notes/s", ylabel="files")
    ax = axes[1, 0]
    ax.hist(stats["tempo_bpm"]["per_file"], bins=20, color="#8b4513")
    ax.set(title="Tempo (per file)", xlabel="bpm", ylabel="files")
    ax = axes[1, 1]
    keys = stats["keys"]
    ax.bar(list(keys), list(keys.values()), color="#708090")
    ax.set(title="Key (Krumhansl-Schmuckler)", ylabel="files")
    ax.tick_params(axis="x", rotation=90)
    ax = axes[1, 2]
    top = dict(list(stats["chords"]["top"].items())[:20])
    ax.barh(list(top)[::-1], list(top.values())[::-1], color="#9370db")
    ax.set(title=f"Chords found ({stats['chords']['distinct']} distinct; top 20)", xlabel="changes")
    fig.suptitle(f"{stats['dataset']}: {stats['files']} files, {stats['notes']} notes, "
                 f"{stats['duration_s']['total'] / 60:.1f} min")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return path


def plot_lengths(folder: Path) -> Path | None:
    """Histogram of whole-song and sequence token lengths against max_seq_len (from meta.json)."""
    meta = read_json(folder / "meta.json")
    if not meta:
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.8))
    ax = fig.subplots()
    songs, sequences = meta.get("song_lengths", []), meta.get("sequence_lengths", [])
    top = max(songs + sequences + [meta["max_seq_len"]])
    bins = np.linspace(0, top * 1.02, 40)
    ax.hist(songs, bins=bins, alpha=0.6, label="whole songs", color="#4a6fa5")
    ax.hist(sequences, bins=bins, alpha=0.6, label="training sequences", color="#b5651d")
    ax.axvline(meta["max_seq_len"], color="crimson", linestyle="--", label=f"max_seq_len {meta['max_seq_len']}")
    ax.set(xlabel="tokens", ylabel="count", title=f"Token lengths ({meta['tokenizer']['kind']})")
    ax.legend()
    fig.tight_layout()
    path = plots_dir(folder.name) / "lengths.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return path
