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
# Seeds step through the registers by these fractions, so any few seeds of a chart land far apart.
GOLDEN_STEP = 0.6180339887498949   # 1 / the golden ratio
PLASTIC_STEP = 0.7548776662466927  # 1 / the plastic number: seeds close in one register are far in the other


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
    pedal = [(down, min(up, end)) for down, up in performance.pedal]
    return Piece(notes=notes, tempo_bpm=tempo_bpm, time_signature=time_signature, chords=events,
                 pedal=pedal, bars_hint=len(chart))


def seed_placement(style: str, seed: int, chart: Chart) -> Placement:
    """Where a seed plays the chart in the upper and the bass register: from the chart's own start,
    seeds step by the golden and the plastic fractions, so any few seeds of one chart spread out."""
    start = random.Random(f"register:{style}:{chart.text()}")
    upper, bass = start.random(), start.random()
    return Placement((upper + seed * GOLDEN_STEP) % 1.0, (bass + seed * PLASTIC_STEP) % 1.0)


def default_tempo(style: str, seed: int) -> float:
    """The tempo a seed draws for ``style`` when none is given."""
    low, high = DEFAULT_TEMPO_RANGES.get(style, GENERAL_TEMPO_RANGE)
    return float(random.Random(f"tempo:{style}:{seed}").randint(low, high))
