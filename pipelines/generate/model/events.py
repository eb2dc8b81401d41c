"""The event language as a model sees it: vocabulary ids <-> model ids, and the chart as forced tokens.

A checkpoint's tokenizer knows the studio's event words as single tokens (a scratch model: its
word-level vocabulary; an LLM: added tokens). ``EventSpace`` maps every word of the
:class:`~pipelines.data.vocab.Vocabulary` to the model's id for it (or -1 where the model lacks it),
keeps id arrays per token kind sorted by value (so "every POS after tick 12" is a slice), and
``plan_chart`` turns a chord chart into what the decoder must force: per bar, the chord tokens at
their grid ticks (DESIGN.md "Style and chords are in the sequence").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ...common.errors import StudioError

if TYPE_CHECKING:
    from ...data.vocab import Vocabulary
    from ...music.chords import Chart

REQUIRED_WORDS = ("BAR_START", "SONG_START", "SONG_END", "POS_0", "NOTE_60", "DUR_12", "VEL_MF")


@dataclass
class EventSpace:
    """One vocabulary bound to one model's ids (built once per loaded model)."""

    vocab: "Vocabulary"
    model_ids: np.ndarray                    # (len(vocab),) model id of each vocab token, -1 if absent
    model_size: int                          # rows of the model's output layer
    by_kind: dict[str, np.ndarray] = field(init=False)    # kind -> model ids sorted by value
    values_by_kind: dict[str, np.ndarray] = field(init=False)
    vocab_of_model: dict[int, int] = field(init=False)    # model id -> vocab id

    def __post_init__(self) -> None:
        self.by_kind, self.values_by_kind, self.vocab_of_model = {}, {}, {}
        for vid, mid in enumerate(self.model_ids.tolist()):
            if mid >= 0:
                self.vocab_of_model[mid] = vid
        for kind in ("pos", "note", "dur", "vel", "pedal"):
            vids = [v for v in self.vocab.ids_of_kind(kind) if self.model_ids[v] >= 0]
            values = [self.vocab.values[v] for v in vids]
            if kind in ("pos", "note", "dur", "vel"):
                order = np.argsort(np.array(values, dtype=np.int64), kind="stable")
                vids = [vids[i] for i in order]
                values = [values[i] for i in order]
            self.by_kind[kind] = self.model_ids[np.array(vids, dtype=np.int64)] if vids else np.zeros(0, np.int64)
            self.values_by_kind[kind] = np.array(values if kind != "pedal" else [0] * len(values), dtype=np.int64)
        self.pedal_values = [self.vocab.values[self.vocab_of_model[int(m)]] for m in self.by_kind["pedal"]]

    def id(self, word: str) -> int:
        """The model id of an event word; a StudioError when the model does not know it."""
        vid = self.vocab.token_to_id.get(word)
        mid = -1 if vid is None else int(self.model_ids[vid])
        if mid < 0:
            raise StudioError(f"this model has no token {word} (it was trained without it)")
        return mid

    def has(self, word: str) -> bool:
        vid = self.vocab.token_to_id.get(word)
        return vid is not None and self.model_ids[vid] >= 0

    def word(self, model_id: int) -> str:
        return self.vocab.tokens[self.vocab_of_model[model_id]]

    def words(self, model_ids: Sequence[int]) -> list[str]:
        return [self.word(int(i)) for i in model_ids]


def event_space(vocab: "Vocabulary", token_to_model_id: dict[str, int], model_size: int,
                source: str = "this checkpoint") -> EventSpace:
    """Bind ``vocab`` to a model's word->id map; refuse a model that does not speak the studio tokens."""
    missing = [w for w in REQUIRED_WORDS if w not in token_to_model_id]
    if missing:
        sample = ", ".join(list(token_to_model_id)[:6])
        raise StudioError(f"{source} was trained on another tokenizer (it lacks {', '.join(missing)}; its words "
                          f"look like {sample}); constrained generation needs a model trained on the studio "
                          "event language (tokenize the dataset with --tokenizer studio)")
    ids = np.array([token_to_model_id.get(t, -1) for t in vocab.tokens], dtype=np.int64)
    ids[ids >= model_size] = -1
    return EventSpace(vocab, ids, model_size)


@dataclass(frozen=True)
class BarPlan:
    """The chords forced into one bar: (tick, chord word) with the first at tick 0."""

    chords: tuple[tuple[int, str], ...]


@dataclass
class ChartPlan:
    """A chart as forced tokens, plus what was changed to fit the vocabulary."""

    bars: list[BarPlan]
    bar_ticks: int
    substitutions: list[str]       # "bar 2: C7b9#11 -> C7b9" for chords mapped to their nearest word


def plan_chart(chart: "Chart", space: EventSpace, time_signature: tuple[int, int]) -> ChartPlan:
    """Chord words at their ticks for every bar of ``chart`` (nearest known chord where needed)."""
    from ...data.studio_codec import bar_ticks_of, quantize_onsets

    bar_ticks = bar_ticks_of(time_signature)
    beats_per_bar = time_signature[0] * 4.0 / time_signature[1]
    events = chart.events(beats_per_bar)
    ticks = quantize_onsets(np.array([e.start for e in events]), bar_ticks)
    bars: list[list[tuple[int, str]]] = [[] for _ in range(len(chart))]
    substitutions: list[str] = []
    for event, tick in zip(events, ticks.tolist()):
        bar, offset = divmod(int(tick), bar_ticks)
        bar = min(bar, len(chart) - 1)
        word, exact = nearest_known_chord(space, event.chord)
        if not exact:
            substitutions.append(f"bar {bar + 1}: {event.chord.symbol} -> {word[len('CHORD_'):]}")
        if bars[bar] and bars[bar][-1][0] >= offset:   # two chords on one grid tick: keep the later
            dropped = bars[bar].pop()[1][len("CHORD_"):]
            substitutions.append(f"bar {bar + 1}: {dropped} has no grid position of its own; {word[6:]} takes it")
        bars[bar].append((offset, word))
    for index, bar in enumerate(bars):
        if not bar or bar[0][0] != 0:  # every bar restates the sounding chord at POS_0
            previous = bars[index - 1][-1][1] if index else "CHORD_NC"
            bar.insert(0, (0, previous))
    return ChartPlan([BarPlan(tuple(b)) for b in bars], bar_ticks, list(dict.fromkeys(substitutions)))


def nearest_known_chord(space: EventSpace, chord) -> tuple[str, bool]:
    """(chord word, exact) among the chords this model knows (the vocabulary's nearest, then its family)."""
    word, exact = space.vocab.nearest_chord(chord)
    if space.has(word):
        return word, exact
    from ...data.chord_vocab import ChordMapper

    known = [t for t in space.vocab.tokens if t.startswith("CHORD_") and space.has(t)]
    if not known:
        raise StudioError("this model knows no chord tokens; it cannot follow a chart")
    mapped, _ = ChordMapper(known).nearest(chord)
    if not space.has(mapped):
        mapped = "CHORD_NC" if space.has("CHORD_NC") else known[0]
    return mapped, False


def chart_key(chart: "Chart") -> str:
    """A key for the header from the chart's chord tones (Krumhansl-Schmuckler on the chords)."""
    from ...data.studio_codec import estimate_key
    from ...music.piece import Note

    notes = []
    for event in chart.events(4.0):
        for pc in sorted(event.chord.pitch_classes):
            notes.append(Note(event.start, 60 + pc, event.duration))
        if event.chord.root is not None:  # the root weighs twice
            notes.append(Note(event.start, 48 + event.chord.root, event.duration))
    return estimate_key(notes)
