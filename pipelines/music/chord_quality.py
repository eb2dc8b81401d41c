"""The quality of a chord symbol (what follows the root): its words, their notes, its canonical name.

``read_quality("m7(b5)")`` cuts the text into words (``m``, ``7``, ``b5``), checks that they make
sense together and returns a :class:`Quality`: the intervals above the root, the chord tones, the
family and a canonical name that reads back as the same notes (those last steps are
:mod:`.chord_spelling`). Text that is not a chord raises :class:`QualityError` with the part that
makes no sense; ``chords.parse_chord`` turns it into one sentence that names the whole symbol.
Conventions are in the docstring of ``pipelines.music.chords``.
"""
from __future__ import annotations

import re

from .chord_spelling import ADD_INTERVALS, ADD_NAMES, FAMILIES, Quality, QualityError, Spec, spell

__all__ = ["FAMILIES", "Quality", "QualityError", "read_quality"]

# music21 figures that no lead sheet writes: refused on purpose, with the reason.
REFUSED_NAMES = ("it+6", "it", "fr+6", "fr", "gr+6", "ger", "n6", "tristan", "pedal", "power", "dom7dim5",
                 "m#7")
KNOWN_WORDS = ("m, -, dim, o, ø, h, aug, +, maj, M, MA, Δ, ^, 5, 6, 69, 6/9, 7, 9, 11, 13, 2, sus2, "
               "sus4, alt, b5, #5, b9, #9, #11, b13, b6, add9, add11, add13, no3, no5")

_MAJ = r"major|Major|maj|Maj|MAJ|MA|Ma|ma|M|Δ|△|\^"
_PREFIX_WORDS = [  # tried only right after the root, in this order
    (r"(omit|no)(3|5)(rd|th)?", "omit"),
    (r"half-?dim(inished)?|ø|Ø|h", "halfdim"),
    (r"dim(inished)?|°|º|o", "dim"),
    (r"aug(mented)?|\+(?!5)", "aug"),
    (r"minor|min|MIN|MI|Mi|mi|m(?!a(?!dd))|-", "minor"),
]
_WORDS = [  # tried everywhere, in this order
    (r"(omit|no)(3|5)(rd|th)?", "omit"),
    (r"add(b9|#9|9|2|3|#11|\+11|11|4|b13|13|6)", "add"),
    (r"sus2", "sus2"),
    (r"sus4|sus", "sus4"),
    (r"alt(ered)?", "alt"),
    (r"dom(?=7|9|11|13)", "dom"),
    (r"6/9|69", "sixnine"),
    (rf"({_MAJ})(7|9|11|13)", "majseventh"),
    (rf"major|Major|maj|Maj|MAJ|MA|Ma(?!dd)|ma(?!dd)|M(?![Ii])|Δ|△|\^", "majword"),
    (r"b6", "flatsix"),
    (r"(b|-)(5|9|13)|(#|\+)(5|9|11)", "alteration"),
    (r"aug|\+", "raisedfifth"),
    (r"13|11|9|7|6|5|2", "number"),
]


def _one_pattern(table: list[tuple[str, str]]) -> re.Pattern:
    """All words of a table as one alternation, tried in order; the group name is the row index."""
    return re.compile("|".join(f"(?P<w{index}>{pattern})" for index, (pattern, _) in enumerate(table)))


_FIRST, _LATER = _one_pattern(_PREFIX_WORDS + _WORDS), _one_pattern(_WORDS)   # at 0, after 0
_FIRST_ROWS = [(re.compile(pattern), kind) for pattern, kind in _PREFIX_WORDS + _WORDS]
_LATER_ROWS = _FIRST_ROWS[len(_PREFIX_WORDS):]
_PREFIX_KINDS = {"halfdim", "dim", "aug", "minor"}
_TONE_KINDS = {"flatsix", "alteration", "raisedfifth", "add", "dom", "number"}
_BRACKETED = re.compile(r"\([^)]*\)")
_PUNCTUATION = re.compile(r"[()\[\],\s]")
_NORMALISE = str.maketrans({"♭": "b", "♯": "#", "−": "-", "–": "-"})


def _words(text: str) -> list[tuple[str, re.Match]]:
    """Cut quality text (already cleaned) into (kind, match) words; QualityError on a stray part."""
    out: list[tuple[str, re.Match]] = []
    pos = 0
    while pos < len(text):
        rows, pattern = (_FIRST_ROWS, _FIRST) if pos == 0 else (_LATER_ROWS, _LATER)
        found = pattern.match(text, pos)
        if found is None:
            _refuse_stray(text, pos)
        row, kind = rows[int(found.lastgroup[1:])]
        out.append((kind, row.match(text, pos)))      # the row's own groups (add9 -> 9)
        pos = found.end()
    return out


def _refuse_stray(text: str, pos: int) -> None:
    """Raise the sentence for text no word matches: a prefix word out of place, or no word at all."""
    for pattern, kind in _FIRST_ROWS[:len(_PREFIX_WORDS)]:
        match = pattern.match(text, pos)
        if kind in _PREFIX_KINDS and match:
            raise QualityError(f"{match.group(0)!r} belongs right after the root, not after {text[:pos]!r}")
    raise QualityError(f"{text[pos:]!r} is not a chord word (words: {KNOWN_WORDS})")


def _set_seventh(spec: Spec, kind: str, written: str) -> None:
    """Record a written 7th (dom, maj or dim); a second one is an error."""
    if spec.seventh_by_number and kind == "maj":     # Cm9(maj7) is CmMaj9
        spec.seventh, spec.seventh_by_number = "maj", False
        return
    if spec.seventh_implied and kind != "dom":
        raise QualityError(f"{written!r} contradicts the b7 of a half-diminished chord")
    if spec.seventh is not None and not spec.seventh_implied:
        raise QualityError(f"{written!r} writes a second 7th")
    spec.seventh, spec.seventh_implied = kind, False


def _seventh_for_number(spec: Spec) -> str:
    """Which 7th a bare 7, 9, 11 or 13 means on this chord: diminished, major or dominant."""
    if spec.seventh is not None:
        return spec.seventh
    if spec.fifth_by_prefix and spec.fifth == "dim" and spec.third == "min":
        return "dim"
    return "maj" if spec.major_word else "dom"


def _number(spec: Spec, number: int, written: str, only_word: bool) -> None:
    """Apply a bare number: 5 (power chord), 2 (add 9), 6, 7 or an extension 9, 11, 13."""
    if number == 5:
        if not only_word:
            raise QualityError("5 (a power chord) takes no other word")
        spec.power = True
    elif number == 2:
        _add(spec, 2)
    elif number == 6:
        if spec.sixth:
            raise QualityError("it writes the 6th twice")
        spec.sixth = 9
    elif number == 7:
        if spec.seventh is not None and not spec.seventh_implied:
            raise QualityError(f"{written!r} writes a second 7th")
        spec.seventh, spec.seventh_implied = _seventh_for_number(spec), False
    elif spec.sixth and spec.seventh is None:      # C6(9): a 6/9 chord, not a 9th chord
        _add(spec, {9: 2, 11: 5, 13: 9}[number])
    else:
        spec.seventh_by_number = spec.seventh is None
        spec.seventh, spec.seventh_implied = _seventh_for_number(spec), False
        spec.extension = max(spec.extension or 0, number)
        spec.natural_nine |= number == 9


def _add(spec: Spec, interval: int) -> None:
    """Add a tone (add9, the 2 of C2, the 11 of Cmsus4); the same tone added twice is an error."""
    if interval in spec.adds:
        raise QualityError(f"it adds the {ADD_NAMES[interval][3:]} twice")
    spec.adds.add(interval)
    spec.natural_nine |= interval == 2


def _fifth(spec: Spec, sign: str, written: str) -> None:
    """Apply b5 or #5: on a minor triad b5 makes it diminished; b5 with #5 keeps both."""
    wanted = "dim" if sign == "b" else "aug"
    if spec.fifth_by_prefix:
        raise QualityError(f"{written!r} alters a 5th that the chord's first word already fixed")
    if spec.fifth == "perfect":
        spec.fifth = wanted
    elif spec.fifth != wanted:
        spec.fifth = "both"


def _sus(spec: Spec, degree: int) -> None:
    """sus2 / sus4 replace the 3rd; on a minor chord, or beside the other sus, they add the tone."""
    interval = 2 if degree == 2 else 5
    spec.natural_nine |= degree == 2
    if spec.third == "min" or spec.third in ("sus2", "sus4"):
        _add(spec, interval)
        if spec.third == "sus2":     # sus2sus4 reads as sus4 with the 9th added
            spec.third, spec.adds = "sus4", (spec.adds - {5}) | {2}
    else:
        spec.third = f"sus{degree}"


def _apply(spec: Spec, kind: str, match: re.Match, only_word: bool) -> None:
    """Apply one word to the spec: a word that names the chord's kind, or one that names a tone."""
    if kind in _TONE_KINDS:
        _apply_tone(spec, kind, match, only_word)
    else:
        _apply_kind(spec, kind, match)


def _apply_kind(spec: Spec, kind: str, match: re.Match) -> None:
    """Apply a word that says what kind of chord it is: m, dim, ø, aug, sus, alt, 69, maj, no3 ..."""
    text = match.group(0)
    if kind == "omit":
        if match.group(2) == "3":
            spec.omit3 = True
        else:
            spec.omit5 = True
    elif kind == "halfdim":
        spec.third, spec.fifth, spec.fifth_by_prefix = "min", "dim", True
        spec.seventh, spec.seventh_implied = "dom", True
    elif kind == "dim":
        spec.third, spec.fifth, spec.fifth_by_prefix = "min", "dim", True
    elif kind == "aug":
        spec.fifth, spec.fifth_by_prefix = "aug", True
    elif kind == "minor":
        spec.third = "min"
    elif kind in ("sus2", "sus4"):
        _sus(spec, int(kind[-1]))
    elif kind == "alt":
        spec.alt = True
        if spec.seventh is None:
            spec.seventh = "dom"
    elif kind == "sixnine":
        if spec.sixth:
            raise QualityError("it writes the 6th twice")
        spec.sixth = 9
        _add(spec, 2)
    elif kind == "majseventh":
        _set_seventh(spec, "maj", text)
        number = int(match.group(2))
        spec.extension = max(spec.extension or 0, number) if number > 7 else spec.extension
        spec.natural_nine |= number == 9
    elif kind == "majword":
        if spec.seventh or spec.sixth or spec.extension or spec.adds or spec.alterations or spec.alt:
            raise QualityError(f"{text!r} comes after the 7th, 6th or tensions; it belongs before them")
        if spec.third == "min" or spec.fifth_by_prefix or text in ("Δ", "△", "^"):
            _set_seventh(spec, "maj", text)       # m(maj) is mMaj7; a bare triangle is maj7
        spec.major_word = True


def _apply_tone(spec: Spec, kind: str, match: re.Match, only_word: bool) -> None:
    """Apply a word that names tones: b6, b9, #5, +, add9, a number."""
    text = match.group(0)
    if kind == "flatsix":
        if spec.third == "min" and spec.seventh is None and spec.sixth is None:
            spec.sixth = 8
        else:
            spec.alterations.add("b13")
    elif kind == "alteration":
        sign, number = ("b" if text[0] in "b-" else "#"), text[1:]
        if number == "5":
            _fifth(spec, sign, text)
        else:
            spec.alterations.add(sign + number)
    elif kind == "raisedfifth":
        _fifth(spec, "#", text)
    elif kind == "add":
        _add(spec, ADD_INTERVALS[match.group(1).replace("+", "#")])
    elif kind == "dom":
        pass                            # music21's dom7 / dom9: the number says it all
    elif kind == "number":
        _number(spec, int(text), text, only_word)

def _word_key(kind: str, match: re.Match) -> str:
    """What a word says, so that the same thing written twice (``C7#9#9``, ``Cmaj7Δ``, ``C7b13(b6)``,
    ``C(b9)addb9``) is caught."""
    text = match.group(0)
    if kind in ("majseventh", "majword"):
        return "maj"
    if kind == "raisedfifth":
        return "#5"
    if kind == "flatsix":
        return "b13"
    if kind == "alteration":
        return ("b" if text[0] in "b-" else "#") + text[1:]
    if kind == "add":
        tone = match.group(1).replace("+", "#")
        return tone if tone[0] in "b#" else f"add{ADD_INTERVALS[tone]}"
    if kind == "omit":
        return f"no{match.group(2)}"
    return text if kind == "number" else kind


def read_quality(text: str) -> Quality:
    """Read the text after the root (``"m7(b5)"``); QualityError names the part that makes no sense."""
    if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
        raise QualityError(f"the brackets in {text!r} do not pair up")
    text = _BRACKETED.sub(lambda m: m.group(0).replace("/", ","), text)   # C7(b9/#11): stacked tensions
    cleaned = _PUNCTUATION.sub("", text.translate(_NORMALISE))
    if cleaned.lower() in REFUSED_NAMES:
        raise QualityError(f"{cleaned!r} is a music21 name, not a lead-sheet chord; write the chord "
                           "it sounds as (for example Ab7 for an Italian sixth on C)")
    words = _words(cleaned)
    spec, seen = Spec(), set()
    for kind, match in words:
        key = _word_key(kind, match)
        if key in seen:
            raise QualityError(f"it says {key} twice")
        seen.add(key)
        _apply(spec, kind, match, only_word=len(words) == 1)
    return spell(spec)
