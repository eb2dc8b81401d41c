"""Piano-roll figures: notes as bars coloured by velocity, bar lines, chord symbols above."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .piece import Piece

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def piano_roll_figure(piece: Piece, title: str = "", width_in: float = 12.0,
                      height_in: float = 4.2) -> "Figure":
    """A matplotlib Figure of ``piece``: x in bars, y in MIDI pitch, chord labels over the grid.

    Built on ``matplotlib.figure.Figure`` (not pyplot), so it is safe in the UI's worker threads.
    """
    import matplotlib
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    beats_per_bar = piece.beats_per_bar
    bars = piece.bars
    rects, colours = [], []
    colour_map = matplotlib.colormaps["viridis"]
    for note in piece.notes:
        rects.append(Rectangle((note.start / beats_per_bar, note.pitch - 0.4),
                               note.duration / beats_per_bar, 0.8))
        colours.append(colour_map(0.15 + 0.8 * note.velocity / 127))
    if rects:
        ax.add_collection(PatchCollection(rects, facecolor=colours, edgecolor="black", linewidth=0.3))
    pitches = [n.pitch for n in piece.notes] or [60]
    low, high = min(pitches) - 3, max(pitches) + 5
    ax.set_xlim(0, bars)
    ax.set_ylim(low, high)
    for bar in range(bars + 1):
        ax.axvline(bar, color="0.6", linewidth=0.8 if bar % 4 == 0 else 0.4, zorder=0)
    for octave_c in range((low // 12 + 1) * 12, high, 12):
        ax.axhline(octave_c, color="0.85", linewidth=0.5, zorder=0)
    ax.set_yticks(list(range((low // 12 + 1) * 12, high, 12)))
    ax.set_yticklabels([f"C{p // 12 - 1}" for p in range((low // 12 + 1) * 12, high, 12)])
    ax.set_xticks(range(bars + 1))
    ax.set_xticklabels([str(b + 1) for b in range(bars + 1)], fontsize=8)
    ax.set_xlabel("bar")
    for event in piece.chords:
        ax.text(event.start / beats_per_bar + 0.02, high - 0.5, event.chord.symbol, fontsize=8,
                va="top", ha="left", fontweight="bold", color="#a02020",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1})
    if title:
        ax.set_title(title, fontsize=10)
    return fig
