"""The rule-based style engines: the `rules` model, the listening-test baseline and the corpus maker."""
from __future__ import annotations

import random
from typing import Callable

from ...common.errors import StudioError
from ...music.chords import Chart
from ...music.piece import Piece
from . import gospel, mehldau
from .common import Placement

# style -> perform(events, beats_per_bar, tempo_bpm, rng, placement, idiom) -> Performance
ENGINES: dict[str, Callable] = {
    "gospel": gospel.perform,
    "mehldau": mehldau.perform,
}
IDIOMS = ("full", "plain")
# Tempo ranges a seed draws from when none is given (MUSIC.md); other styles (a trained model's
# "general", "pop" ...) use GENERAL_TEMPO_RANGE.
DEFAULT_TEMPO_RANGES = {"gospel": (66, 128), "mehldau": (56, 118)}
GENERAL_TEMPO_RANGE = (70, 130)
# Six seeds in a row of one chart play six levels (in an order drawn from the chart): level / 5 is
# where the take's upper part sits, even levels play the bass line in the low octave and odd ones
# an octave above, and level % 3 is the take's rhythm family. Two levels next to each other differ
# in bass octave and rhythm family; two of one family lie 0.6 apart in the upper register and an
# octave apart in the bass; two in one bass octave, in other families, 0.4 apart or more. Seeds six
# apart play one level (the same register, family and bass octave) and may share half their notes.
LEVELS = 6
GOLDEN_STEP = 0.6180339887498949  # 1 / the golden ratio: seeds of one level step by it inside the level
LEVEL_JITTER = 0.04               # how far (0-1) a seed moves about its level in the upper register
LAST_LIFT_BEATS = 0.25            # the last pedal is lifted at least a 16th before the end


def perform_chart(chart: Chart, style: str, tempo_bpm: float, seed: int,
                  time_signature: tuple[int, int] = (4, 4), idiom: str = "full") -> Piece:
    """Play ``chart`` in ``style``: one seeded take, as a Piece whose chords are the chart's. The
    take's choices are drawn from the seed and the chart, so seeds 1 and 2 differ anew on each chart.
    ``idiom`` "full" is the style as MUSIC.md describes it (the rules model); "plain" the same take as a
    plain accompanist plays it (the stage-1 corpus of the shipped models, whose adapters learn the
    full idiom)."""
    if idiom not in IDIOMS:
        raise StudioError(f"idiom must be one of {', '.join(IDIOMS)} (got {idiom!r})")
    rng = random.Random(f"{style}:{seed}:{chart.text()}")
    beats_per_bar = time_signature[0] * 4.0 / time_signature[1]
    events = chart.events(beats_per_bar)
    performance = ENGINES[style](events, beats_per_bar, tempo_bpm, rng, seed_placement(style, seed, chart),
                                      idiom)
    notes = sorted(n for n in performance.notes if n.start < len(chart) * beats_per_bar)
    end = len(chart) * beats_per_bar
    for note in notes:  # nothing rings past the last bar
        note.duration = round(min(note.duration, end - note.start), 4)
    # the pedal is lifted inside the last bar: a lift in its last 16th would land on the next bar's grid
    pedal = [(down, min(up, end - LAST_LIFT_BEATS)) for down, up in performance.pedal]
    return Piece(notes=notes, tempo_bpm=tempo_bpm, time_signature=time_signature, chords=events,
                 pedal=pedal, bars_hint=len(chart))


def seed_placement(style: str, seed: int, chart: Chart) -> Placement:
    """Where a seed plays the chart in the upper and the bass register, and its rhythm family: six
    seeds in a row take the six levels (LEVELS) in an order drawn from the chart, so any two of
    them play a fifth of the upper register apart or more, in other rhythm families or in bass
    lines an octave apart, and on another chart in another order."""
    start = random.Random(f"register:{style}:{chart.text()}")
    offset = start.random()
    level = start.sample(range(LEVELS), LEVELS)[seed % LEVELS]
    jitter = LEVEL_JITTER * (((offset + seed * GOLDEN_STEP) % 1.0) * 2 - 1)
    upper = min(1.0, max(0.0, level / (LEVELS - 1) + jitter))
    return Placement(upper=upper, bass=float(level % 2), family=level % 3)


def default_tempo(style: str, seed: int) -> float:
    """The tempo a seed draws for ``style`` when none is given."""
    low, high = DEFAULT_TEMPO_RANGES.get(style, GENERAL_TEMPO_RANGE)
    return float(random.Random(f"tempo:{style}:{seed}").randint(low, high))
