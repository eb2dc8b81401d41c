"""The rule-based style engines: the `rules` model, the listening-test baseline and the corpus maker."""
from __future__ import annotations

import random
from typing import Callable

from ...music.chords import Chart
from ...music.piece import Piece
from . import gospel, mehldau

# style -> perform(events, beats_per_bar, tempo_bpm, rng, register) -> Performance
ENGINES: dict[str, Callable] = {
    "gospel": gospel.perform,
    "mehldau": mehldau.perform,
}
# Tempo ranges a seed draws from when none is given (MUSIC.md); other styles (a trained model's
# "general", "pop" ...) use GENERAL_TEMPO_RANGE.
DEFAULT_TEMPO_RANGES = {"gospel": (66, 128), "mehldau": (56, 118)}
GENERAL_TEMPO_RANGE = (70, 130)
GOLDEN_RATIO = 0.6180339887498949  # consecutive seeds land far apart in the register


def perform_chart(chart: Chart, style: str, tempo_bpm: float, seed: int,
                  time_signature: tuple[int, int] = (4, 4)) -> Piece:
    """Play ``chart`` in ``style``: one seeded take, as a Piece whose chords are the chart's. The
    take's choices are drawn from the seed and the chart, so seeds 1 and 2 differ anew on each chart."""
    rng = random.Random(f"{style}:{seed}:{chart.text()}")
    beats_per_bar = time_signature[0] * 4.0 / time_signature[1]
    events = chart.events(beats_per_bar)
    performance = ENGINES[style](events, beats_per_bar, tempo_bpm, rng, seed_register(style, seed, chart))
    notes = sorted(n for n in performance.notes if n.start < len(chart) * beats_per_bar)
    end = len(chart) * beats_per_bar
    for note in notes:  # nothing rings past the last bar
        note.duration = round(min(note.duration, end - note.start), 4)
    pedal = [(down, min(up, end)) for down, up in performance.pedal]
    return Piece(notes=notes, tempo_bpm=tempo_bpm, time_signature=time_signature, chords=events,
                 pedal=pedal, bars_hint=len(chart))


def seed_register(style: str, seed: int, chart: Chart) -> float:
    """Where in its register (0 low - 1 high) a seed voices the chart: seeds step by the golden
    ratio from a chart's own start, so any few seeds of one chart spread over the register."""
    start = random.Random(f"register:{style}:{chart.text()}").random()
    return (start + seed * GOLDEN_RATIO) % 1.0


def default_tempo(style: str, seed: int) -> float:
    """The tempo a seed draws for ``style`` when none is given."""
    low, high = DEFAULT_TEMPO_RANGES.get(style, GENERAL_TEMPO_RANGE)
    return float(random.Random(f"tempo:{style}:{seed}").randint(low, high))
