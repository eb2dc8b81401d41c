"""The words of the studio's event language that need no grammar: the time grid, durations, dynamics,
tempo, meter, key and style words, free labels, and the header a sequence opens with.

``vocab.py`` builds the Vocabulary and its grammar on them, ``studio_codec.py`` encodes and decodes
with them; neither imports the other's module for these.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..common.errors import StudioError

TICKS_PER_QUARTER = 12
GRID_OFFSETS = (0, 3, 4, 6, 8, 9)          # 16ths and eighth-note triplets inside one quarter
MAX_BAR_TICKS = 8 * TICKS_PER_QUARTER      # meters up to 8 quarter notes a bar (7/4, 12/8, 4/2)
DUR_VALUES = tuple(v for v in range(3, 49) if v % 3 == 0 or v % 4 == 0)
MAX_DUR = DUR_VALUES[-1]                   # 48 ticks = a whole note
MAX_TIES = 7                               # a note lasts at most 8 whole notes
PITCH_LOW, PITCH_HIGH = 21, 108            # the piano
VELOCITY_LEVELS = ("PPP", "PP", "P", "MP", "MF", "F", "FF", "FFF")  # 16 MIDI velocities each
TEMPO_BUCKETS = tuple(range(40, 241, 4))   # bpm
TIME_SIGNATURES = tuple(f"{n}/{d}" for d in (2, 4, 8) for n in range(1, 17) if n * 4 / d <= 8)
KEY_MODES = ("maj", "min")
DEFAULT_STYLES = ("general", "gospel", "mehldau", "jazz", "classical", "pop")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,31}$")


def label_token(label: str) -> str:
    """``"mood:calm"`` -> ``MOOD_calm``; ``"live"`` -> ``LABEL_live``."""
    group, _, value = label.partition(":") if ":" in label else ("label", "", label)
    group, value = group.strip(), value.strip()
    if not NAME_RE.match(group) or not NAME_RE.match(value):
        raise StudioError(f"label {label!r} must be a word or group:word of letters, digits, - or _ "
                          "(at most 32 characters each)")
    return f"{group.upper()}_{value}"


def check_style(style: str) -> str:
    """A style name as it goes into ``STYLE_<name>``; raises with what is allowed."""
    if not isinstance(style, str) or not NAME_RE.match(style.strip()):
        raise StudioError(f"style must be 1-32 letters, digits, - or _ (got {style!r})")
    return style.strip().lower()


@dataclass(frozen=True)
class Header:
    """What a sequence says before its first bar. ``None`` fields are taken from the piece."""

    style: str = "general"
    labels: tuple[str, ...] = ()
    tempo_bpm: float | None = None
    time_signature: tuple[int, int] | None = None
    key: str | None = None          # "Ebmaj", "F#min"
