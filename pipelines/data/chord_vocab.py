"""The chord words of the event language: a fixed jazz vocabulary and the nearest word for any chord.

A chord token is ``CHORD_<root><quality>[/<bass>]`` spelled exactly as ``Chord.name`` spells it
(fixed roots C Db D Eb E F F# G Ab A Bb B, canonical qualities from ``pipelines.music.chords``),
plus ``CHORD_NC``. Every quality below is written on all 12 roots; slash basses are written for the
qualities that carry them in lead sheets (triads, 7ths, sus). A symbol outside the vocabulary
(``C7b9#11/E``) maps to the nearest word by pitch-class overlap (``nearest_chord``).

The token strings, their order and their notes are fixed by the shipped checkpoints
(tests/test_chords_vocab.py): every token is its chord's canonical name and reads back as the notes
it had when those models were trained, so a change to the chord reader never moves or renames one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..music.chords import TOKEN_ROOTS, parse_chord

if TYPE_CHECKING:
    from ..music.chords import Chord

CHORD_PREFIX = "CHORD_"
NO_CHORD_TOKEN = "CHORD_NC"

# Canonical qualities (Chord.quality) written on every root. Order matters: it fixes the token ids.
QUALITIES: tuple[str, ...] = (
    "", "m", "dim", "aug", "sus2", "sus4", "5",                        # triads and power chord
    "6", "69", "m6", "m69", "add9", "madd9",                           # sixths and added tones
    "7", "maj7", "m7", "mMaj7", "m7b5", "dim7", "7sus4",               # sevenths
    "9", "maj9", "m9", "mMaj9", "m9b5", "9sus4",                       # ninths
    "11", "m11", "13", "maj13", "m13", "13sus4",                       # elevenths, thirteenths
    "7alt", "7b9", "7#9", "7#11", "7b13", "7b5", "7#5", "7b9b13",      # altered dominants
    "7#9b13", "7#5#9", "7b9#11", "9#11", "9b5", "13#11", "13b9", "7sus4b9",
    "maj7#11", "maj9#11", "maj7#5", "m7b9",                            # coloured majors/minors
)
# Qualities that get every slash bass (the other 11 pitch classes): CHORD_Ebmaj7/G, CHORD_C/E ...
SLASH_QUALITIES: tuple[str, ...] = ("", "m", "7", "maj7", "m7", "9", "sus4", "7sus4", "add9", "6")


def chord_tokens() -> list[str]:
    """Every chord token in id order: NC, then root x quality, then root x slash quality x bass."""
    tokens = [NO_CHORD_TOKEN]
    tokens += [f"{CHORD_PREFIX}{root}{quality}" for root in TOKEN_ROOTS for quality in QUALITIES]
    for root_pc, root in enumerate(TOKEN_ROOTS):
        for quality in SLASH_QUALITIES:
            for bass_pc, bass in enumerate(TOKEN_ROOTS):
                if bass_pc != root_pc:
                    tokens.append(f"{CHORD_PREFIX}{root}{quality}/{bass}")
    return tokens


def chord_of_token(token: str) -> "Chord":
    """The Chord a chord token names (``CHORD_Bb13#11`` -> Chord)."""
    return parse_chord(token[len(CHORD_PREFIX):])


class ChordMapper:
    """Maps any Chord to a token of the vocabulary; built once per Vocabulary."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = list(tokens)
        self._known = set(tokens)
        self._index: dict[tuple[int, int | None], list[tuple[str, frozenset[int], str]]] | None = None

    @property
    def _by_root(self) -> dict[tuple[int, int | None], list[tuple[str, frozenset[int], str]]]:
        """(root, bass or None) -> [(token, pitch classes, family)]: parsed on the first chord that has
        no token of its own (a chart of known chords never pays for it)."""
        if self._index is None:
            index: dict[tuple[int, int | None], list[tuple[str, frozenset[int], str]]] = {}
            for token in self._tokens:
                if token != NO_CHORD_TOKEN:
                    chord = chord_of_token(token)
                    index.setdefault((chord.root, chord.bass), []).append((token, chord.pitch_classes, chord.family))
            self._index = index
        return self._index

    def nearest(self, chord: "Chord") -> tuple[str, bool]:
        """(token, exact): the chord's own token when the vocabulary has it, else the nearest one.

        Nearest = the same root (and the same slash bass when that root/quality pair takes one),
        most shared pitch classes (Jaccard), same family preferred, earlier token on ties.
        """
        if chord.is_no_chord:
            return NO_CHORD_TOKEN, True
        own = CHORD_PREFIX + chord.name
        if own in self._known:
            return own, True
        pcs = chord.pitch_classes
        candidates = list(self._by_root.get((chord.root, chord.bass), []))
        if not candidates:
            candidates = list(self._by_root.get((chord.root, None), []))
        best, best_score = NO_CHORD_TOKEN, -1.0
        for token, other, family in candidates:
            score = len(pcs & other) / max(1, len(pcs | other)) + (0.05 if family == chord.family else 0.0)
            if score > best_score + 1e-12:
                best, best_score = token, score
        return best, False
