"""Bootstrap corpus: style-typical chord charts (MUSIC.md) played by the rule-based engines.

    python -m pipelines.generate corpus --style gospel --n 500 --out DIR

Charts mix the style's progressions, transposed to every key, 4-32 bars, with a share of slash
chords, altered dominants and N.C. bars so that the parser, the tokenizer and the constrained
decoder see them in training. Each performance is a MIDI file with its chords as text events,
listed with its chart, key, tempo and seed in ``DIR/corpus.jsonl``.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

from ..common.errors import StudioError
from ..music.chords import TOKEN_ROOTS, parse_chart

# A progression is a list of bars; a bar is a list of (semitones above the key, quality[, bass offset]).
GOSPEL = [
    [[(0, "add9")], [(5, "maj9", 0)], [(0, "69")], [(5, "maj7")]],                  # I - IV/I - I - IV
    [[(11, "m7b5"), (4, "7#9")], [(9, "m9"), (2, "m9")], [(7, "13"), (7, "7b9")], [(0, "69")]],  # 7-3-6-2-5-1
    [[(5, "maj9")], [(5, "m6")], [(0, "add9")], [(0, "69")]],                     # amen: IV - IVm6 - I
    [[(5, "6"), (6, "dim7")], [(0, "add9", 7)], [(9, "m9")], [(2, "m9"), (7, "13")]],  # IV #IVdim7 I/V
    [[(0, "add9")], [(0, "7", 4)], [(5, "maj7")], [(5, "m6")]],                   # I - I7/3 - IV - iv
    [[(5, "m9")], [(10, "13")], [(0, "maj9")], [(0, "69")]],                      # backdoor
    [[(2, "m9")], [(1, "7#11")], [(0, "69")], [(9, "7#9")]],                      # tritone substitute
    [[(2, "m11")], [(7, "7sus4"), (7, "13")], [(0, "maj9")], [(4, "7#9"), (9, "m9")]],  # 2-5-1 with sus
    [[(9, "m9")], [(2, "m11")], [(7, "9sus4"), (7, "7b9")], [(0, "add9")]],
    [[(0, "maj9")], [(4, "m7"), (9, "7b9")], [(2, "m9"), (7, "13")], [(0, "69")]],
]
MEHLDAU = [
    [[(9, "m")], [(9, "mMaj7", 8)], [(9, "m7", 7)], [(2, "", 6)], [(5, "maj7")], [(4, "7b9")]],  # lament / cliché
    [[(0, "m")], [(0, "mMaj7")], [(0, "m7")], [(0, "m6")]],                        # line cliché
    [[(0, "maj7#11")], [(2, "", 0)], [(0, "maj7#11")], [(11, "m7"), (4, "7alt")]],  # Lydian over a pedal
    [[(0, "")], [(7, "", 11)], [(9, "m7")], [(5, "maj7")], [(5, "m6")], [(0, "add9")]],  # pop reharm, iv
    [[(2, "m9")], [(7, "7b13")], [(8, "maj7")], [(10, "13")]],                     # deceptive to bVI
    [[(10, "", 0)], [(0, "7sus4")], [(8, "", 0)], [(0, "7sus4")]],                 # pedal point
    [[(2, "m7"), (7, "7")], [(0, "maj7")], [(9, "m7"), (2, "m7")], [(7, "7alt")]],  # ii-V-I, turnaround
    [[(11, "m7b5")], [(4, "7b9")], [(9, "m9")], [(9, "m6")]],                      # minor ii-V-i
    [[(0, "maj7")], [(3, "7"), (8, "maj7")], [(11, "7"), (4, "maj7")], [(7, "7"), (0, "maj7")]],  # Coltrane
    [[(9, "m9")], [(5, "maj7#11")], [(2, "m11")], [(4, "7sus4"), (4, "7")]],
]
PROGRESSIONS = {"gospel": GOSPEL, "mehldau": MEHLDAU}
TEMPO_RANGES = {"gospel": (60, 140), "mehldau": (60, 130)}


def _symbol(key: int, degree: int, quality: str, bass: int | None = None) -> str:
    root = (key + degree) % 12
    text = TOKEN_ROOTS[root] + quality
    if bass is not None and (key + bass) % 12 != root:
        text += "/" + TOKEN_ROOTS[(key + bass) % 12]
    return text


def random_chart(style: str, rng: random.Random, bars: int | None = None) -> tuple[str, str]:
    """A chart typical of ``style``: (chart text, key name). ~5% of charts end a phrase on N.C."""
    if style not in PROGRESSIONS:
        raise StudioError(f"style must be one of {', '.join(PROGRESSIONS)} (got {style!r})")
    bars = bars or rng.choice((4, 8, 8, 12, 16, 16, 24, 32))
    key = rng.randrange(12)
    out: list[str] = []
    while len(out) < bars:
        progression = rng.choice(PROGRESSIONS[style])
        for bar in progression:
            out.append(" ".join(_symbol(key, *chord) for chord in bar))
        if rng.random() < 0.3:
            key = (key + rng.choice((5, 7, 2, 10))) % 12  # modulate between phrases
    out = out[:bars]
    if bars >= 8 and rng.random() < 0.05:
        out[rng.randrange(1, bars - 1)] = "N.C."
    return "| " + " | ".join(out) + " |", TOKEN_ROOTS[key]


def write_corpus(style: str, n: int, out_dir: str | Path, seed: int = 0,
                 progress: Callable[[float, str], None] | None = None) -> dict:
    """Write ``n`` performances of random charts in ``style`` to ``out_dir``; return a summary."""
    from .rules import perform_chart

    if not 1 <= n <= 100_000:
        raise StudioError(f"n must be 1-100000 (got {n})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"corpus:{style}:{seed}")
    entries = []
    for index in range(n):
        chart_text, key = random_chart(style, rng)
        tempo = float(rng.randint(*TEMPO_RANGES[style]))
        meter = (4, 4)
        if style == "mehldau" and rng.random() < 0.25:
            meter = rng.choice(((3, 4), (5, 4), (7, 4)))
        take_seed = rng.randrange(1_000_000)
        piece = perform_chart(parse_chart(chart_text), style, tempo, take_seed, meter)
        name = f"{style}_{seed}_{index:05d}.mid"
        piece.write_midi(out / name)
        entries.append({"file": name, "style": style, "chart": chart_text, "key": key, "tempo_bpm": tempo,
                        "time_signature": f"{meter[0]}/{meter[1]}", "seed": take_seed,
                        "bars": piece.bars, "notes": len(piece.notes)})
        if progress:
            progress((index + 1) / n, f"{index + 1}/{n} {style} performances written")
    with open(out / "corpus.jsonl", "a", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")
    return {"style": style, "n": n, "out": str(out), "files": [e["file"] for e in entries][:5] + (
        ["..."] if n > 5 else []), "index": str(out / "corpus.jsonl")}
