"""Chord symbols with a jazz vocabulary, and chord charts.

``parse_chord("Bb13#11")`` reads a symbol into a :class:`Chord`: root pitch class, the intervals it
spells, its chord tones, the tensions written in it and the tensions a player may add (chord-scale
practice, after Levine, *The Jazz Theory Book*, ch. 2-4), and a canonical name used by the event
language (``CHORD_Bb13#11``). ``parse_chart("| Cmaj7 | Am7 D7 |")`` reads a chart into bars. The
words after the root are read by :mod:`.chord_quality`.

Spellings read (New Real Book, iReal Pro, music21, pychord, Berklee): ``m mi MI min -`` minor;
``maj M MA Ma Δ △ ^`` major (``MA7``, ``M9``, ``Δ13``; a bare ``Δ`` or ``^`` is maj7; ``m(maj)``,
``-^``, ``o(maj7)`` take a major 7th); ``dim o °`` diminished, ``ø Ø h`` half-diminished, ``aug +``
augmented (``C+7`` = ``C7+`` = ``C7#5``, ``C+Δ7`` = ``Cmaj7#5``); ``b`` ``-`` ``♭`` flat and
``#`` ``+`` ``♯`` sharp inside the quality (``C7-9``, ``C7+11``, ``B♭7(♯11)``); ``sus sus4 sus2``;
``add9 add2 add11 add4 add13 addb9 add#11 add3``; ``no3 no5 omit3 omit5``; ``6/9 69``; ``alt``;
``dom7``; brackets, commas and a slash between bracketed tensions are ignored (``C7(b9,#11)``,
``C7(b9/#11)``), but brackets must pair up.

Conventions (written out because chord books differ):

- ``C11`` = 1 3 5 b7 9 11; ``C13`` = 1 3 5 b7 9 13 and ``Cmaj13`` = 1 3 5 7 9 13, with no 11th
  (it clashes with the major 3rd; music21 includes it); ``Cm13`` = 1 b3 5 b7 9 11 13.
- An altered 9th replaces the natural one (``C13b9`` has no D); writing both (``C9b9``) is refused.
- ``C7alt`` = 1 3 b7 b9 #9 #11 b13, no 5th; ``alt`` takes no other alteration or extension.
- A 9, 11 or 13 implies the 7th (``C9`` has Bb), except after a 6th: ``C6(9)`` is ``C69``.
- Diminished chords with an extension or tension have the diminished 7th: ``Co9`` = 1 b3 b5 bb7 9,
  ``Fob9`` = ``Fdim7b9`` (as music21); ``Cm9b5`` / ``Cø9`` keep the minor 7th.
- ``C2`` = ``Cadd9`` (1 3 5 9), iReal Pro's reading; ``Csus2sus4`` = ``Csus4add9``; ``Cmsus4``
  keeps its minor 3rd (``Cmadd11``), as does ``Cm7sus4`` (``Cm7add11``); ``C7susadd3`` =
  1 3 4 5 b7; ``C-b6`` = 1 b3 5 b6; ``Domit5`` = D without its 5th (``o`` is read as diminished
  only when it is not the start of ``omit``).
- On a triad or 6th chord a tension is an added tone: ``C(#11)`` = ``Cadd#11``; a 6th beside a 7th
  is a 13th: ``Cm6(maj7)`` = ``CmMaj7add13``.
- ``C6/9`` is a chord and not a slash chord; any other ``/`` must be followed by a bass note.

Refused, with one sentence that names the part that makes no sense: a word written twice
(``C7#9#9``, ``C77``), two words that contradict each other (``C13b13``, ``C11#11``), a tension that
is a chord tone already (``Cm7#9``: the #9 is the minor 3rd; ``C7#5b13``; ``Cdim13``), a power chord
with anything else (``C5add9``), a quality word after the numbers (``C7m``), anything that is no
word at all, and music21's classical names (``It+6``, ``Fr+6``, ``Gr+6``/``Ger``, ``N6``,
``Tristan``, ``pedal``, ``power``, ``dom7dim5``, ``m#7``), which no lead sheet writes.

The canonical name (``Chord.name``, the event language's ``CHORD_`` token) always reads back as the
same pitch classes, bass and family, and is its own canonical name; where the quality would start
with a flat or sharp after the root, its altered 5th is bracketed (``C(b5)``, since ``Cb5`` is a
C-flat power chord).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..common.errors import StudioError
from .chord_quality import FAMILIES as FAMILIES, QualityError, read_quality

NOTE_PCS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
ACCIDENTALS = {"#": 1, "♯": 1, "b": -1, "♭": -1}
TOKEN_ROOTS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
NO_CHORD_SYMBOLS = {"N.C.", "N.C", "NC", "N/C", "n.c.", "nc"}
# Tensions a player may add without clashing, by family (semitones above the root).
ALLOWED_TENSIONS = {
    "maj": frozenset({2, 6, 9}),            # 9, #11, 13 (Lydian / Ionian without the 11)
    "dom": frozenset({1, 2, 3, 6, 8, 9}),   # 9, 13 and the altered b9 #9 #11 b13
    "min": frozenset({2, 5, 9}),            # 9, 11, 13 (Dorian)
    "hdim": frozenset({2, 5, 8}),           # 9 (Locrian #2), 11, b13
    "dim": frozenset({2, 5, 8, 11}),        # a whole step above each chord tone
    "aug": frozenset({2, 6}),               # 9, #11 (whole tone)
    "sus": frozenset({1, 2, 9}),            # b9, 9, 13
    "power": frozenset({2, 5, 9}),
    "nc": frozenset(),
}


@dataclass(frozen=True)
class Chord:
    """A parsed chord symbol. Pitch classes are 0-11 with C = 0; intervals are above the root."""

    symbol: str
    root: int | None                 # None for N.C.
    quality: str                     # canonical quality: "", "m7", "13#11", "7alt", "nc" ...
    family: str                      # one of FAMILIES
    intervals: frozenset[int]        # every interval the symbol spells
    core: frozenset[int]             # root, 3rd (or sus), 5th, 7th/6th: the chord tones proper
    bass: int | None = None          # slash bass pitch class, None when the bass is the root

    @property
    def is_no_chord(self) -> bool:
        return self.root is None

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Every pitch class the symbol spells, slash bass included."""
        if self.root is None:
            return frozenset()
        pcs = {(self.root + i) % 12 for i in self.intervals}
        if self.bass is not None:
            pcs.add(self.bass)
        return frozenset(pcs)

    @property
    def chord_tones(self) -> frozenset[int]:
        """Root, third (or sus tone), fifth and seventh/sixth as pitch classes."""
        if self.root is None:
            return frozenset()
        return frozenset((self.root + i) % 12 for i in self.core)

    @property
    def tensions(self) -> frozenset[int]:
        """Pitch classes written in the symbol beyond the chord tones (9ths, 11ths, 13ths, alterations)."""
        return self.pitch_classes - self.chord_tones

    @property
    def allowed_tensions(self) -> frozenset[int]:
        """Pitch classes a player may add over this chord: its family's tensions plus its own."""
        if self.root is None:
            return frozenset()
        extra = {(self.root + i) % 12 for i in ALLOWED_TENSIONS[self.family]}
        return frozenset(extra | self.tensions)

    @property
    def tension_aware_set(self) -> frozenset[int]:
        return self.pitch_classes | self.allowed_tensions

    @property
    def name(self) -> str:
        """Canonical spelling: fixed root names, canonical quality, ``/bass`` when there is one."""
        if self.root is None:
            return "NC"
        slash = f"/{TOKEN_ROOTS[self.bass]}" if self.bass is not None else ""
        return f"{TOKEN_ROOTS[self.root]}{self.quality}{slash}"

    @property
    def bass_pc(self) -> int | None:
        """The pitch class that belongs in the bass: the slash bass or the root."""
        return self.bass if self.bass is not None else self.root


def _parse_note_name(text: str) -> tuple[int, int] | None:
    """('Bb13' -> (10, 2)): pitch class and characters used, or None when no note name starts it."""
    if not text or text[0].upper() not in NOTE_PCS or text[0] != text[0].upper():
        return None
    pc, used = NOTE_PCS[text[0]], 1
    while used < len(text) and used < 3 and text[used] in ACCIDENTALS:
        pc += ACCIDENTALS[text[used]]
        used += 1
    return pc % 12, used


def parse_chord(symbol: str) -> Chord:
    """Parse one chord symbol; raises StudioError with one sentence naming the symbol and the bad part."""
    text = symbol.strip()
    if text in NO_CHORD_SYMBOLS or text.upper() in {"N.C.", "NC", "N.C"}:
        return Chord(symbol=text, root=None, quality="nc", family="nc",
                     intervals=frozenset(), core=frozenset())
    root = _parse_note_name(text)
    if root is None:
        raise StudioError(f"unknown chord symbol {symbol!r}: it must start with a note name A-G")
    root_pc, used = root
    rest, bass = text[used:], None
    if "/" in rest:
        head, tail = rest.rsplit("/", 1)
        bass_note = _parse_note_name(tail)
        if bass_note is not None and bass_note[1] == len(tail):
            rest, bass = head, bass_note[0]
    try:
        quality = read_quality(rest)
    except QualityError as exc:
        raise StudioError(f"unknown chord symbol {symbol!r}: {exc}") from None
    if bass == root_pc:
        bass = None
    return Chord(symbol=text, root=root_pc, quality=quality.name, family=quality.family,
                 intervals=quality.intervals, core=quality.core, bass=bass)


# ---- charts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChordEvent:
    """A chart chord sounding from ``start`` for ``duration`` quarter-note beats."""

    start: float
    duration: float
    chord: Chord

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Chart:
    """A chord chart: ``bars[i]`` holds the chords of bar i+1, which split the bar."""

    bars: tuple[tuple[Chord, ...], ...]

    def __len__(self) -> int:
        return len(self.bars)

    def fit(self, bars: int) -> "Chart":
        """The chart looped or cut to exactly ``bars`` bars."""
        if not 1 <= bars <= 64:
            raise StudioError(f"bars must be 1-64 (got {bars})")
        return Chart(tuple(self.bars[i % len(self.bars)] for i in range(bars)))

    def events(self, beats_per_bar: float = 4.0) -> list[ChordEvent]:
        """Chord events in beats; k chords share a bar in whole beats, earlier chords longer."""
        out: list[ChordEvent] = []
        for index, bar in enumerate(self.bars):
            start = index * beats_per_bar
            for chord, length in zip(bar, split_bar(beats_per_bar, len(bar))):
                out.append(ChordEvent(start, length, chord))
                start += length
        return out

    def text(self) -> str:
        return "| " + " | ".join(" ".join(c.symbol for c in bar) for bar in self.bars) + " |"


def split_bar(beats_per_bar: float, chords: int) -> list[float]:
    """How ``chords`` chords share a bar: whole beats where possible (4 beats, 3 chords -> 2 1 1)."""
    whole = int(round(beats_per_bar))
    if abs(whole - beats_per_bar) > 1e-9 or chords > whole:
        return [beats_per_bar / chords] * chords
    base, extra = divmod(whole, chords)
    return [float(base + (1 if i < extra else 0)) for i in range(chords)]


def parse_chart(text: str) -> Chart:
    """Parse ``| Cmaj7 | Am7 D7 | % |`` (bars by ``|``) or ``Cmaj7 Am7 Dm7 G7`` (a chord a bar).

    ``%`` repeats the previous bar. Errors name the symbol and its bar.
    """
    if text is None or not str(text).strip():
        raise StudioError("the chord chart is empty; type chords such as | Cmaj7 | Am7 D7 |")
    text = str(text).replace("\r", "\n")
    if "|" in text:
        raw_bars = []
        for line in text.split("\n"):  # each line is its own row of bars; "||" is a double bar line
            line = line.replace("|:", "|").replace(":|", "|").replace("||", "|")
            segments = [segment.split() for segment in line.split("|")]
            while segments and not segments[0]:
                segments.pop(0)
            while segments and not segments[-1]:
                segments.pop()
            raw_bars.extend(segments)
    else:
        # a comma separates chords, except inside a chord's brackets: C7(b9,#11)
        raw_bars = [[token] for token in re.split(r"\s+|,(?![^(]*\))", text.strip()) if token]
    bars: list[tuple[Chord, ...]] = []
    for number, tokens in enumerate(raw_bars, start=1):
        if not tokens:
            raise StudioError(f"bar {number} of the chart is empty; put a chord or % in it")
        if tokens == ["%"]:
            if not bars:
                raise StudioError("bar 1 cannot be % (there is no bar before it to repeat)")
            bars.append(bars[-1])
            continue
        chords = []
        for token in tokens:
            try:
                chords.append(parse_chord(token))
            except StudioError as exc:
                raise StudioError(f"bar {number}: {exc}") from None
        bars.append(tuple(chords))
    if not bars:
        raise StudioError("the chord chart is empty; type chords such as | Cmaj7 | Am7 D7 |")
    if len(bars) > 256:
        raise StudioError(f"the chart has {len(bars)} bars; at most 256 are supported")
    return Chart(tuple(bars))
