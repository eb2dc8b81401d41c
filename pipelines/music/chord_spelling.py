"""From the words of a chord quality to its notes and its canonical name.

:mod:`.chord_quality` reads the words into a :class:`Spec`; ``spell(spec)`` refuses words that
contradict each other, fills in what they imply (``Co9`` has the diminished 7th), and returns the
intervals above the root, the chord tones, the family and the canonical name, which reads back as
the same notes. Conventions are in the docstring of ``pipelines.music.chords``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FAMILIES = ("maj", "min", "dom", "hdim", "dim", "aug", "sus", "power", "nc")
TENSION_ALTERATIONS = {"b9": 1, "#9": 3, "#11": 6, "b13": 8}   # name -> semitones above the root
ADD_INTERVALS = {"b9": 1, "9": 2, "2": 2, "#9": 3, "3": 4, "11": 5, "4": 5, "#11": 6, "b13": 8,
                 "13": 9, "6": 9}
ADD_NAMES = {1: "addb9", 2: "add9", 3: "add#9", 4: "add3", 5: "add11", 6: "add#11", 8: "addb13",
             9: "add13"}
CHORD_TONE_NAMES = {2: "sus2", 3: "minor 3rd", 4: "major 3rd", 5: "sus4", 6: "b5", 7: "5th", 8: "#5",
                    9: "6th or diminished 7th", 10: "b7", 11: "major 7th"}


class QualityError(ValueError):
    """The quality text makes no sense; the message names the part (the caller names the symbol)."""


@dataclass(frozen=True)
class Quality:
    """What a quality spells: intervals above the root, chord tones, family, canonical name."""

    name: str
    family: str
    intervals: frozenset[int]
    core: frozenset[int]


@dataclass
class Spec:
    """The words read so far, before they become intervals."""

    third: str = "maj"            # maj | min | sus2 | sus4
    fifth: str = "perfect"        # perfect | dim | aug | both (b5 and #5 written)
    fifth_by_prefix: bool = False  # dim / ø / aug fixed the fifth
    seventh: str | None = None    # dom | maj | dim
    seventh_implied: bool = False  # ø implies the b7; a written 7 may confirm it
    seventh_by_number: bool = False  # a bare 9, 11 or 13 chose the 7th; (maj7) may still change it
    major_word: bool = False      # maj / M written on a major chord (its 7ths are major)
    sixth: int | None = None      # 9 (the 6th) or 8 (the b6 of a minor chord)
    extension: int | None = None  # 9 | 11 | 13
    alterations: set[str] = field(default_factory=set)
    adds: set[int] = field(default_factory=set)
    natural_nine: bool = False    # a 9 written as such (69, add9, 9, 2)
    omit3: bool = False
    omit5: bool = False
    alt: bool = False
    power: bool = False


def spell(spec: Spec) -> Quality:
    """The notes, family and canonical name of what the words said; QualityError on a contradiction."""
    _check(spec)
    _normalise(spec)
    intervals, core = _intervals(spec)
    return Quality(name=_name(spec), family=_family(spec), intervals=intervals, core=core)


def _check(spec: Spec) -> None:
    """Refuse words that contradict each other (the parser never drops a word without a word)."""
    if spec.omit3 and spec.third != "maj":
        named = "m names a minor 3rd" if spec.third == "min" else f"{spec.third} replaces the 3rd"
        raise QualityError(f"no3 removes a 3rd, but {named}")
    if spec.omit5 and spec.fifth != "perfect":
        raise QualityError("no5 removes a 5th that another word of the symbol alters")
    if spec.alt and (spec.alterations or spec.extension or spec.third != "maj" or spec.seventh != "dom"
                     or spec.fifth != "perfect" or spec.sixth or spec.adds):
        raise QualityError("alt already holds b9 #9 #11 b13 over a dominant 7th and takes no other "
                           "alteration, extension or quality")
    if spec.natural_nine and (spec.alterations & {"b9", "#9"} or spec.adds & {1, 3}):
        raise QualityError("it writes both the natural 9 and an altered one")
    if (spec.extension == 11 or 5 in spec.adds) and "#11" in spec.alterations:
        raise QualityError("it writes both 11 and #11")
    if (spec.extension == 13 or 9 in spec.adds or spec.sixth == 9) and "b13" in spec.alterations:
        raise QualityError("it writes both 13 (or 6) and b13")
    if spec.sixth == 9 and 9 in spec.adds:
        raise QualityError("it writes the 6th twice (6 and 13)")


def _normalise(spec: Spec) -> None:
    """One spelling for one chord: fill in implied 7ths, move written tones to where they belong."""
    dim_triad = spec.third == "min" and spec.fifth == "dim" and spec.seventh is None and not spec.sixth
    if dim_triad and (spec.alterations or spec.extension):
        spec.seventh = "dim"            # Fob9 = Fdim7(b9), music21 and the Real Book agree
    if spec.seventh is not None and spec.sixth:      # a 6th beside a 7th is a 13th
        if spec.sixth == 9:
            spec.adds.add(9)
        else:
            spec.alterations.add("b13")
        spec.sixth = None
    if spec.seventh is None:            # on a triad or 6th chord a tension is an added tone
        spec.adds |= {TENSION_ALTERATIONS[a] for a in spec.alterations}
        spec.alterations = set()
    if spec.seventh is not None and 2 in spec.adds and not spec.extension:
        spec.adds.discard(2)            # C7add9 is C9
        spec.extension = 9


def _intervals(spec: Spec) -> tuple[frozenset[int], frozenset[int]]:
    """(every interval, the chord-tone intervals); QualityError where a tension doubles a chord tone."""
    third = None if spec.omit3 else {"maj": 4, "min": 3, "sus2": 2, "sus4": 5}[spec.third]
    fifths = {"perfect": {7}, "dim": {6}, "aug": {8}, "both": {6, 8}}[spec.fifth]
    if spec.omit5 or spec.alt or spec.power:
        fifths = set() if not spec.power else {7}
    if spec.power:
        third = None
    seventh = {"dom": 10, "maj": 11, "dim": 9, None: None}[spec.seventh]
    core = {0} | fifths | {i for i in (third, seventh, spec.sixth) if i is not None}
    written: dict[int, str] = {}     # tensions the words name, to check against the chord tones
    for interval in spec.adds:
        written[interval] = ADD_NAMES[interval]
    for name in spec.alterations:
        written[TENSION_ALTERATIONS[name]] = name
    implied: set[int] = set()
    if spec.extension:
        implied.add(2)
        if spec.extension >= 11 and (spec.extension == 11 or spec.third == "min"):
            implied.add(5)
        top = {9: 2, 11: 5, 13: 9}[spec.extension]
        if (implied | {top}) & set(written):
            raise QualityError(f"{written[min((implied | {top}) & set(written))]} repeats a tone that "
                               f"{spec.extension} already has")
        written[top] = str(spec.extension)
    if spec.alt:
        implied |= {1, 3, 6, 8}
    for interval, name in written.items():
        if interval in core:
            raise QualityError(f"{name} is the {CHORD_TONE_NAMES[interval]} the chord already has")
    extra = (implied | set(written)) - core
    if extra & {1, 3} and not spec.natural_nine:
        extra.discard(2)                # an altered 9th replaces the natural one
    if "b13" in spec.alterations:
        extra.discard(9)
    if "#11" in spec.alterations:
        extra.discard(5)
    return frozenset(core | extra), frozenset(core)


def _family(spec: Spec) -> str:
    if spec.power:
        return "power"
    if spec.third in ("sus2", "sus4"):
        return "sus"
    if spec.third == "min":
        if spec.fifth == "dim":
            return "hdim" if spec.seventh == "dom" else "dim"
        return "min"
    if spec.fifth == "aug" and spec.seventh is None and not spec.sixth:
        return "aug"
    return "dom" if spec.seventh == "dom" else "maj"


def _head(spec: Spec) -> tuple[str, bool]:
    """(the name's first part: m7, maj9, dim7, 7alt, 69 ..., whether it already says the 5th)."""
    number = str(spec.extension or 7)
    if spec.third == "min" and spec.fifth == "dim" and not spec.sixth:
        return {"dom": f"m{number}b5", "dim": f"dim{number}", "maj": f"dimMaj{number}",
                None: "dim"}[spec.seventh], True
    if spec.third == "maj" and spec.fifth == "aug" and spec.seventh is None and not spec.sixth:
        return "aug", True
    head = "m" if spec.third == "min" else ""
    if spec.seventh == "dom":
        head += "7alt" if spec.alt else number
    elif spec.seventh == "maj":
        head += ("Maj" if spec.third == "min" else "maj") + number
    elif spec.seventh == "dim":
        head += "dim" + number
    elif spec.sixth == 9:
        head += "69" if 2 in spec.adds else "6"
    elif spec.sixth == 8:
        head += "b6"
    return head, False


def _name(spec: Spec) -> str:
    """The canonical quality: head, sus, altered 5th, tensions, added tones, omissions."""
    if spec.power:
        return "5"
    head, said_fifth = _head(spec)
    if spec.third in ("sus2", "sus4"):
        head += spec.third
    fifth = "" if said_fifth else {"perfect": "", "dim": "b5", "aug": "#5", "both": "b5#5"}[spec.fifth]
    if fifth and not head:
        fifth = f"({fifth})"            # Cb5 would read as a C-flat power chord
    tensions = "".join(a for a in TENSION_ALTERATIONS if a in spec.alterations)
    said_nine = spec.seventh is None and spec.sixth == 9 and 2 in spec.adds      # the 9 of 69
    adds = sorted(spec.adds - ({2} if said_nine else set()))
    return (head + fifth + tensions + "".join(ADD_NAMES[a] for a in adds)
            + ("no3" if spec.omit3 else "") + ("no5" if spec.omit5 else ""))
