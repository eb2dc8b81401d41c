"""Charts the rule engines are checked on: jazz and gospel moves written out, and random charts.

``TRIAL_CHARTS`` covers what MUSIC.md asks the engines to play (rhythm changes, blues, Coltrane
cycles, altered turnarounds, gospel moves, slash chords, N.C. bars, 3/4, 5/4 and 7/4, 4-32 bars);
``random_charts`` adds charts nobody wrote: the corpus's progressions and chords drawn at random
from the whole jazz vocabulary, in every meter the engines play. Used by tests and bench/bench_rules.py.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ...music.chords import TOKEN_ROOTS
from ..corpus import random_chart


@dataclass(frozen=True)
class TrialChart:
    name: str
    chart: str
    time_signature: tuple[int, int] = (4, 4)


TRIAL_CHARTS = (
    TrialChart("rhythm changes A", "| Bbmaj7 G7 | Cm7 F7 | Dm7 G7 | Cm7 F7 | Fm7 Bb7 | Ebmaj7 Ab7 "
                                   "| Dm7 G7 | Cm7 F7 |"),
    TrialChart("jazz blues in F", "| F7 | Bb7 | F7 | Cm7 F7 | Bb7 | Bdim7 | F7 | D7b9 | Gm7 | C7 | F7 D7 "
                                  "| Gm7 C7 |"),
    TrialChart("minor blues in C", "| Cm9 | Cm9 | Cm9 | Cm9 | Fm9 | Fm9 | Cm9 | Cm9 | Ab13 | G7alt | Cm9 "
                                   "| Dm7b5 G7b9 |"),
    TrialChart("Coltrane cycle", "| Bmaj7 D7 | Gmaj7 Bb7 | Ebmaj7 | Am7 D7 | Gmaj7 Bb7 | Ebmaj7 F#7 "
                                 "| Bmaj7 | Fm7 Bb7 |"),
    TrialChart("altered turnaround", "| Cmaj9 A7alt | Dm9 G7b9 | Em7 A7#9 | Dm11 Db7#11 |"),
    TrialChart("gospel 7-3-6-2-5-1", "| Bm7b5 E7#9 | Am9 Dm9 | G13 G7b9 | C69 |"),
    TrialChart("gospel walk to IV", "| Cadd9 | C7/E | Fmaj9 | F#dim7 | C/G | A7#9 | Dm11 G7sus4 | C69 |"),
    TrialChart("amen ending", "| Abmaj9 | Dbmaj9 | Dbm6 | Abadd9 |"),
    TrialChart("slash pedal", "| Dmaj7#11 | E/D | C/D | D7sus4 | Bb/C | C7sus4 | Ab/Bb | Ebmaj7 |"),
    TrialChart("lament bass", "| Am | AmMaj7/G# | Am7/G | D/F# | Fmaj7 | E7b9 | Am | Am |"),
    TrialChart("N.C. break", "| Fm9 Bb13 | Ebmaj9 | N.C. | Eb69 | Cm7 F7 | N.C. | Bb7sus4 | Ebmaj9 |"),
    TrialChart("waltz", "| Dm9 | G13 | Cmaj7 | A7alt | Dm9 | G7b9 | Cmaj7 | Cmaj7 |", (3, 4)),
    TrialChart("five", "| Ebm9 | Ebm9 | Bbm7 | Bbm7 | Bmaj7 | Bb7alt |", (5, 4)),
    TrialChart("seven", "| Fmaj7#11 | Em11 | Dm9 | Cmaj9/E | Fmaj7 G7sus4 |", (7, 4)),
    TrialChart("one bar of four chords", "| C6 A7b9 Dm7 G7 | Cmaj7 |"),
    TrialChart("long form", "| " + " | ".join(["Fmaj7", "Gm7 C7", "Am7 D7b9", "Gm7 C13"] * 8) + " |"),
)
METERS = ((4, 4), (4, 4), (4, 4), (3, 4), (5, 4), (7, 4), (6, 8))
QUALITIES = ("", "m", "7", "maj7", "m7", "m7b5", "dim7", "6", "m6", "69", "add9", "9", "13", "7b9", "7#9",
             "7alt", "7#11", "7b13", "13b9", "maj9", "m9", "m11", "mMaj7", "7sus4", "sus2", "sus4", "aug",
             "maj7#11", "5", "11", "9sus4", "13#11", "7#5", "m69", "dim")


def random_charts(n: int, seed: int) -> list[TrialChart]:
    """``n`` charts of 4-32 bars: half the corpus's progressions in both styles, half random chords
    (slash basses, N.C. bars, one to three chords a bar), each in a random meter."""
    rng = random.Random(f"trial-charts:{seed}")
    out = []
    for index in range(n):
        meter = rng.choice(METERS)
        bars = rng.choice((4, 4, 8, 8, 12, 16, 24, 32))
        if index % 2:
            text = random_chart(("gospel", "mehldau")[index // 2 % 2], rng, bars=bars)[0]
        else:
            text = "| " + " | ".join(_random_bar(rng, meter) for _ in range(bars)) + " |"
        out.append(TrialChart(f"random {seed}-{index}", text, meter))
    return out


def _random_bar(rng: random.Random, meter: tuple[int, int]) -> str:
    if rng.random() < 0.05:
        return "N.C."
    chords = rng.choice((1, 1, 1, 2, 2, 3)) if meter[0] * 4 // meter[1] >= 3 else 1
    symbols = []
    for _ in range(chords):
        symbol = TOKEN_ROOTS[rng.randrange(12)] + rng.choice(QUALITIES)
        if rng.random() < 0.12:
            symbol += "/" + TOKEN_ROOTS[rng.randrange(12)]
        symbols.append(symbol)
    return " ".join(symbols)
