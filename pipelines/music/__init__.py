"""The music core: pieces in beats, chord symbols and charts, the one MIDI reader, metrics, piano
rolls, chord recognition and the renderer. The names below are its public surface (imported on
first use, so the package itself loads nothing heavy)."""
from __future__ import annotations

from ..common.lazy_exports import lazy_exports

_EXPORTS = {
    "Note": ".piece", "Piece": ".piece", "PIANO_HIGH": ".piece", "PIANO_LOW": ".piece",
    "Chart": ".chords", "Chord": ".chords", "ChordEvent": ".chords", "TOKEN_ROOTS": ".chords",
    "parse_chart": ".chords", "parse_chord": ".chords",
    "MidiInfo": ".midi_reader", "load_pretty_midi": ".midi_reader", "load_score": ".midi_reader",
    "read_midi": ".midi_reader", "read_piece": ".midi_reader", "read_score": ".midi_reader",
    "METRIC_LABELS": ".metrics", "all_metrics": ".metrics",
    "piano_roll_figure": ".pianoroll",
    "default_recogniser": ".recognise",
    "render_wav": ".render", "synthesize": ".render",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
