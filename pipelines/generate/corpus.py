"""Bootstrap corpus: style-typical chord charts (MUSIC.md) played by the rule-based engines.

    python -m pipelines.generate corpus --style gospel --n 500 --out DIR

Charts mix the style's progressions, transposed to every key, 4-32 bars, with a share of slash
chords, altered dominants and N.C. bars so that the parser, the tokenizer and the constrained
decoder see them in training. Each performance is a MIDI file with its chords as text events,
listed with its chart, key, tempo and seed in ``DIR/corpus.jsonl``.

Two varieties: ``classic`` (what the first shipped models learned from: the style's ten
progressions, 4/4 but a quarter of Mehldau charts in 3/4, 5/4 or 7/4; the CLI) and ``wide`` (the stage-1
corpus of ``scripts/build_models.py``: the jazz standards' common moves of MUSIC.md added to both
styles, every meter for both, wider tempos, more slash chords and N.C. bars) and ``plain`` (charts
drawn as ``wide`` draws them from their own stream, played in the engines' plain idiom: the
neutral stage-1 corpus, so that each style's adapter, trained on ``wide``, learns the full idiom
on top of it). ``corpus_plan``
replays the charts of a corpus without playing them (the bench checks its held-out charts
against them).
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

from ..common.errors import StudioError
from ..common.progress import Progress
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
# Jazz standards' common moves (MUSIC.md "Progressions"), shared by both styles in the wide corpus.
STANDARDS = [
    [[(2, "m7")], [(7, "7")], [(0, "maj7")], [(0, "6")]],                          # ii-V-I major
    [[(2, "m7b5")], [(7, "7b9")], [(0, "m6")], [(0, "m7")]],                       # ii-V-i minor
    [[(0, "maj7"), (9, "m7")], [(2, "m7"), (7, "7")], [(4, "m7"), (9, "7")],
     [(2, "m7"), (7, "13")]],                                                      # I-vi-ii-V
    [[(0, "6"), (9, "7")], [(2, "m7"), (7, "7")], [(5, "7"), (10, "7")], [(4, "m7"), (9, "7b9")]],  # rhythm A
    [[(0, "m7")], [(5, "m7")], [(0, "m7")], [(0, "m7")], [(5, "m9")], [(5, "m9")],
     [(0, "m7")], [(0, "m7")], [(8, "7")], [(7, "7#9")], [(0, "m7")], [(7, "7alt")]],  # minor blues
    [[(0, "7")], [(5, "7")], [(0, "7")], [(0, "7")], [(5, "9")], [(6, "dim7")],
     [(0, "7", 7)], [(9, "7")], [(2, "m7")], [(7, "7")], [(0, "7"), (9, "7")],
     [(2, "m7"), (7, "7")]],                                                       # blues
    [[(0, "maj7"), (3, "7")], [(8, "maj7"), (11, "7")], [(4, "maj7")],
     [(10, "m7"), (3, "7")]],                                                      # Coltrane, thirds down
    [[(4, "m7b5")], [(9, "7#9")], [(2, "m9")], [(7, "7b13")], [(0, "maj9")], [(1, "7#11")]],  # altered chain
    [[(0, "maj7", 0)], [(0, "7", 10)], [(5, "maj7", 9)], [(5, "m6", 8)]],          # descending bass line
    [[(0, "")], [(0, "", 4)], [(5, "")], [(7, "sus4"), (7, "")]],                  # plain triads with a slash
]
PROGRESSIONS = {"gospel": GOSPEL, "mehldau": MEHLDAU}
TEMPO_RANGES = {"gospel": (60, 140), "mehldau": (60, 130)}
VARIETIES = ("classic", "wide", "plain")
WIDE_TEMPO_RANGES = {"gospel": (56, 150), "mehldau": (48, 150)}
WIDE_METERS = ((4, 4), (3, 4), (5, 4), (7, 4))
WIDE_METER_WEIGHTS = {"gospel": (0.7, 0.2, 0.07, 0.03), "mehldau": (0.55, 0.25, 0.12, 0.08)}


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


def wide_chart(style: str, rng: random.Random) -> tuple[str, str]:
    """A chart of the wide corpus: the style's progressions and the standards' moves (a third of
    phrases), any key, 4-32 bars, modulations by any interval, a quarter of the phrases with one
    chord over a pedal or passing bass, ~12% with an N.C. bar."""
    bars = rng.choice((4, 6, 8, 8, 12, 12, 16, 16, 24, 32))
    key = rng.randrange(12)
    out: list[str] = []
    while len(out) < bars:
        pool = STANDARDS if rng.random() < 0.35 else PROGRESSIONS[style]
        progression = [list(bar) for bar in rng.choice(pool)]
        if rng.random() < 0.25:  # one chord of the phrase over a pedal (the key) or its 5th
            bar = rng.randrange(len(progression))
            degree, quality, *_ = progression[bar][0]
            if quality in ("", "m", "7", "maj7", "m7", "9", "sus4", "7sus4", "add9", "6"):
                progression[bar][0] = (degree, quality, rng.choice((0, 7)))
        out += [" ".join(_symbol(key, *chord) for chord in bar) for bar in progression]
        if rng.random() < 0.4:
            key = (key + rng.randrange(1, 12)) % 12
    out = out[:bars]
    if bars >= 6 and rng.random() < 0.12:
        out[rng.randrange(1, bars - 1)] = "N.C."
    return "| " + " | ".join(out) + " |", TOKEN_ROOTS[key]


def corpus_plan(style: str, n: int, seed: int = 0, variety: str = "classic") -> list[dict]:
    """The charts, keys, tempos, meters and take seeds ``write_corpus`` plays, without playing them."""
    if style not in PROGRESSIONS:
        raise StudioError(f"style must be one of {', '.join(PROGRESSIONS)} (got {style!r})")
    if variety not in VARIETIES:
        raise StudioError(f"variety must be one of {', '.join(VARIETIES)} (got {variety!r})")
    # the classic stream keeps the seed string and draws of the first shipped corpus
    stream = f"corpus:{style}:{seed}" if variety == "classic" else f"corpus-{variety}:{style}:{seed}"
    rng = random.Random(stream)
    plan = []
    for _ in range(n):
        if variety == "classic":
            chart_text, key = random_chart(style, rng)
            tempo = float(rng.randint(*TEMPO_RANGES[style]))
            meter = (4, 4)
            if style == "mehldau" and rng.random() < 0.25:
                meter = rng.choice(((3, 4), (5, 4), (7, 4)))
        else:
            chart_text, key = wide_chart(style, rng)
            tempo = float(rng.randint(*WIDE_TEMPO_RANGES[style]))
            meter = rng.choices(WIDE_METERS, WIDE_METER_WEIGHTS[style])[0]
        plan.append({"chart": chart_text, "key": key, "tempo_bpm": tempo, "meter": meter,
                     "seed": rng.randrange(1_000_000)})
    return plan


def write_corpus(style: str, n: int, out_dir: str | Path, seed: int = 0,
                 progress: Callable[[float, str], None] | None = None, variety: str = "classic") -> dict:
    """Write ``n`` performances of random charts in ``style`` to ``out_dir``; return a summary."""
    from .rules import perform_chart

    if not 1 <= n <= 100_000:
        raise StudioError(f"n must be 1-100000 (got {n})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for index, planned in enumerate(corpus_plan(style, n, seed, variety)):
        chart_text, key, tempo, meter = (planned[k] for k in ("chart", "key", "tempo_bpm", "meter"))
        take_seed = planned["seed"]
        idiom = "plain" if variety == "plain" else "full"
        piece = perform_chart(parse_chart(chart_text), style, tempo, take_seed, meter, idiom)
        name = f"{style}_{'' if variety == 'classic' else variety}{seed}_{index:05d}.mid"
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


def bootstrap_dataset(name: str, style: str = "gospel", n: int = 20, seed: int = 0,
                      progress: Progress | None = None) -> dict:
    """Generate ``n`` rule-based performances in ``style`` and ingest them into dataset ``name``
    (label ``source:rules``); returns the ingest report."""
    import tempfile

    from ..data.dataset import check_name
    from ..data.ingest import IngestConfig, ingest

    check_name(name)
    if style not in PROGRESSIONS:
        raise StudioError(f"the corpus generator knows the styles {', '.join(sorted(PROGRESSIONS))} (got {style!r})")
    if not 1 <= n <= 5000:
        raise StudioError(f"n must be 1-5000 performances (got {n})")
    with tempfile.TemporaryDirectory(prefix="bootstrap-") as tmp:
        def generated(fraction: float, message: str = "") -> None:
            if progress:
                progress(0.8 * fraction, message)

        write_corpus(style, n, tmp, seed=seed, progress=generated)
        paths = sorted(Path(tmp).glob("*.mid"))
        report = ingest(paths, IngestConfig(dataset=name, style=style, labels=["source:rules"]))
    if progress:
        progress(1.0, "done")
    return report
