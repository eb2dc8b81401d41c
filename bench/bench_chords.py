"""Chord symbols: the studio's reader against music21's ChordSymbol and pychord on the test table.

    .venv/bin/python bench/bench_chords.py

Reads every spelling of tests/chord_table.py on C (those starting with '-' left out, since music21
reads a leading '-' as a flat) with each reader that is installed, and prints JSON: symbols, how
many each reader refuses, how many music21 and pychord read alike and the share of those the studio
reads the same way, and the best-of-15 parse time per accepted symbol in microseconds.
"""
from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from chord_table import rows  # noqa: E402
from pipelines.common.errors import StudioError  # noqa: E402
from pipelines.music.chords import parse_chord  # noqa: E402

Reader = Callable[[str], "frozenset[int] | None"]


def studio(symbol: str) -> frozenset[int] | None:
    try:
        return parse_chord(symbol).pitch_classes
    except StudioError:
        return None


def music21_reader() -> Reader | None:
    try:
        from music21 import harmony
    except ImportError:
        return None

    def read(symbol: str) -> frozenset[int] | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pitches = harmony.ChordSymbol(symbol.replace("♭", "b").replace("♯", "#")).pitches
            except Exception:  # music21 raises several kinds of errors on unknown symbols
                return None
        return frozenset(p.pitchClass for p in pitches) or None
    return read


def pychord_reader() -> Reader | None:
    try:
        from pychord import Chord
    except ImportError:
        return None

    def read(symbol: str) -> frozenset[int] | None:
        try:
            return frozenset(n % 12 for n in Chord(symbol).components(visible=False))
        except Exception:  # pychord raises ValueError and others on unknown symbols
            return None
    return read


def microseconds_per_symbol(read: Reader, symbols: list[str], repeats: int) -> float:
    """Best-of-``repeats`` time to read each symbol the reader accepts, in microseconds."""
    accepted = [s for s in symbols if read(s) is not None]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for symbol in accepted:
            read(symbol)
        best = min(best, (time.perf_counter() - start) / max(1, len(accepted)))
    return round(best * 1e6, 1)


def main() -> dict:
    symbols = ["C" + quality for quality, *_ in rows() if not quality.startswith("-")]
    readers = {"studio": studio, "music21": music21_reader(), "pychord": pychord_reader()}
    readers = {name: read for name, read in readers.items() if read is not None}
    readings = {name: [read(s) for s in symbols] for name, read in readers.items()}
    out: dict = {"symbols": len(symbols),
                 "refused": {name: sum(r is None for r in got) for name, got in readings.items()}}
    if "music21" in readings and "pychord" in readings:
        peers_agree = [i for i, (a, b) in enumerate(zip(readings["music21"], readings["pychord"]))
                       if a is not None and a == b]
        same = [i for i in peers_agree if readings["studio"][i] == readings["music21"][i]]
        out["peers_agree"] = len(peers_agree)
        out["studio_agrees_where_peers_agree"] = round(len(same) / max(1, len(peers_agree)), 3)
        out["studio_differs_on"] = [symbols[i] for i in peers_agree if i not in same]
    out["parse_us_per_symbol"] = {name: microseconds_per_symbol(read, symbols, 3 if name == "music21" else 15)
                                  for name, read in readers.items()}
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, ensure_ascii=False))
