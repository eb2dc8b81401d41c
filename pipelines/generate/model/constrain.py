"""Grammar-constrained decoding: which model ids may come next, and which are forced.

One ``RowConstraint`` follows one sequence being generated. It walks the Vocabulary's grammar
(``GrammarState`` / ``advance``) and adds the chart: at every bar ``BAR_START POS_0 CHORD_x`` is
forced, a later chord of the bar is forced right after the model reaches its ``POS`` (positions
past a pending chord are masked, so the model cannot skip it), the bar may only end once its chords
are placed, and after the last bar ``SONG_END`` (or, inside a regenerated stretch, the end of the
segment) closes the row: exactly the requested bars, every sequence valid, so every sequence decodes.
Notes stay in ``pitch_range`` and none rings past the end of the song. A soft token budget per
bar keeps the whole piece inside the model's context: once spent, only tokens that finish the
current event and move to the next chord or bar are allowed.

``GrammarLogitsProcessor`` wraps the same rows for ``transformers``' ``generate``.
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ...data.vocab import MAX_DUR, MAX_TIES, NEXT_KINDS, GrammarState

if TYPE_CHECKING:
    from .events import BarPlan, EventSpace

CLOSING_TOKENS = 4   # the most tokens needed to finish an event once a bar's budget is spent


class RowConstraint:
    """The grammar + chart state of one generated row.

    Args:
        state: the grammar state after the prompt (it must end at a bar boundary).
        bars: the chords to force, one BarPlan per bar to generate.
        ends_song: close the last bar with SONG_END; False: stop where the next bar would begin.
        bar_budget: soft limit on tokens per bar (see module docstring).
        cache: a dict shared by the rows of one call (allowed-id arrays by state).
    """

    def __init__(self, space: "EventSpace", state: GrammarState, bars: Sequence["BarPlan"], ends_song: bool,
                 bar_budget: int, pitch_range: tuple[int, int] = (21, 108), cache: dict | None = None) -> None:
        self.space, self.vocab, self.state = space, space.vocab, state
        self.bars, self.ends_song, self.bar_budget = list(bars), ends_song, bar_budget
        self.pitch_low, self.pitch_high = pitch_range
        self.cache = {} if cache is None else cache
        self.bar, self.chord_index, self.bar_tokens, self.note_ticks = -1, 0, 0, 0
        self.pending: deque[int] = deque([space.id("BAR_START")])
        self.out: list[int] = []
        self.done = False
        self._bar_id, self._end_id = space.id("BAR_START"), space.id("SONG_END")

    # ---- what may come next ----------------------------------------------------------------
    def forced(self) -> int | None:
        """The model id that must come next, or None when the model chooses."""
        return self.pending[0] if self.pending else None

    def allowed(self) -> np.ndarray:
        """Model ids the model may choose from now (never empty while the row is not done)."""
        s = self.state
        plan = self.bars[self.bar].chords
        chord_tick = plan[self.chord_index][0] if self.chord_index < len(plan) else None
        last_bar = self.bar == len(self.bars) - 1
        closing = self.bar_tokens >= self.bar_budget
        bars_left = len(self.bars) - self.bar  # nothing rings past the end of the song
        remaining = bars_left * s.bar_ticks - max(s.pos, 0) - self.note_ticks if self.ends_song else 1 << 30
        room = min(remaining, MAX_DUR + 1)   # beyond a whole note, the room left changes nothing
        if s.last == "note":      # only a duration may follow: the key holds just what limits it
            key: tuple = (s.last, room)
        elif s.last == "dur":
            key = (s.last, s.ties, s.last_dur, closing, room)
        else:
            key = (s.last, s.bar_ticks, s.pos, s.pitch, s.pedal, chord_tick, last_bar, closing)
        found = self.cache.get(key)
        if found is None:
            found = self._compute(s, chord_tick, last_bar, closing, remaining)
            if not len(found):
                raise RuntimeError(f"no token may follow {s} in bar {self.bar + 1}")  # a bug, not bad input
            self.cache[key] = found
        return found

    def _compute(self, s: GrammarState, chord_tick: int | None, last_bar: bool, closing: bool,
                 remaining: int) -> np.ndarray:
        space, nxt, parts = self.space, NEXT_KINDS[s.last], []
        if "pos" in nxt:
            hi = chord_tick if chord_tick is not None else s.bar_ticks - 1
            lo = hi if closing else s.pos + 1
            if not (closing and chord_tick is None):
                parts.append(_between(space, "pos", lo, hi))
        pedals = _pedals(space, s) if "pedal" in nxt and not (closing and s.last != "pos") else []
        parts.append(np.array(pedals, dtype=np.int64))
        if "note" in nxt and not (closing and (s.last != "pos" or pedals)):
            parts.append(_between(space, "note", max(s.pitch + 1, self.pitch_low), self.pitch_high))
        if "dur" in nxt:
            if s.last == "note":
                parts.append(_between(space, "dur", 0, remaining if remaining <= MAX_DUR else MAX_DUR))
            elif s.last_dur == MAX_DUR and s.ties < MAX_TIES and not closing:
                parts.append(_between(space, "dur", 0, min(remaining, MAX_DUR)))
        if "vel" in nxt:
            parts.append(space.by_kind["vel"])
        if ("bar" in nxt or "song_end" in nxt) and chord_tick is None:
            ends = [self._end_id] if self.ends_song else [self._bar_id, self._end_id]  # either stops a segment
            parts.append(np.array(ends if last_bar else [self._bar_id], dtype=np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)   # kinds never overlap

    # ---- taking a token --------------------------------------------------------------------
    def push(self, model_id: int) -> None:
        """Take the chosen (or forced) token and update the grammar and chart state."""
        if self.pending and self.pending[0] == model_id:
            self.pending.popleft()
        vid = self.space.vocab_of_model[int(model_id)]
        kind, value = self.vocab.kinds[vid], self.vocab.values[vid]
        if kind in ("bar", "song_end") and self.bar == len(self.bars) - 1:
            if not self.ends_song:  # a regenerated stretch ends where the kept bars begin
                self.done = True
                return
            model_id, vid, kind = self._end_id, self.vocab.token_to_id["SONG_END"], "song_end"
        self.state = self.vocab.advance(self.state, vid)
        self.out.append(int(model_id))
        self.bar_tokens += 1
        if kind == "bar":
            self.bar, self.chord_index, self.bar_tokens = self.bar + 1, 0, 0
            self.pending.append(self.space.id("POS_0"))
        elif kind == "pos":
            plan = self.bars[self.bar].chords
            if self.chord_index < len(plan) and plan[self.chord_index][0] == value:
                self.pending.append(self.space.id(plan[self.chord_index][1]))
                self.chord_index += 1
        elif kind == "note":
            self.note_ticks = 0
        elif kind == "dur":
            self.note_ticks += int(value)
        elif kind == "song_end":
            self.done = True

    def words(self) -> list[str]:
        return self.space.words(self.out)

    @property
    def reached(self) -> tuple[int, int]:
        """(bar, tick) of the current position: notes starting before it can no longer change."""
        return self.bar, max(self.state.pos, 0)


def _between(space: "EventSpace", kind: str, low: int, high: int) -> np.ndarray:
    """Model ids of ``kind`` whose value is in [low, high] (ids are sorted by value)."""
    values = space.values_by_kind[kind]
    lo, hi = np.searchsorted(values, low, side="left"), np.searchsorted(values, high, side="right")
    return space.by_kind[kind][lo:hi]


def _pedals(space: "EventSpace", s: GrammarState) -> list[int]:
    ok = {("", "ON"), ("", "OFF"), ("OFF", "ON")}
    return [int(m) for m, v in zip(space.by_kind["pedal"], space.pedal_values) if (s.pedal, v) in ok]


def bar_budget(context_tokens: int, used_tokens: int, bars: Sequence["BarPlan"], cap: int) -> int:
    """Tokens each bar may use so that ``bars`` more bars fit after ``used_tokens`` (``cap`` at most)."""
    overhead = max(CLOSING_TOKENS + 2 * len(b.chords) + 2 for b in bars)
    return min(cap, (context_tokens - used_tokens - 1) // max(1, len(bars)) - overhead)


class GrammarLogitsProcessor:
    """The rows as a ``transformers`` LogitsProcessor: -inf on every id the grammar forbids.

    Rows that are done may only repeat SONG_END (use it as ``eos_token_id``).
    """

    def __init__(self, rows: list[RowConstraint], prompt_len: int) -> None:
        self.rows, self.seen = rows, prompt_len

    def __call__(self, input_ids, scores):
        import torch

        if input_ids.shape[1] > self.seen:
            for row, token in zip(self.rows, input_ids[:, -1].tolist()):
                if not row.done:
                    row.push(token)
            self.seen = input_ids.shape[1]
        mask = torch.full_like(scores, float("-inf"))
        for index, row in enumerate(self.rows):
            forced = row._end_id if row.done else row.forced()
            if forced is not None:
                mask[index, forced] = 0.0
            else:
                mask[index, torch.from_numpy(row.allowed())] = 0.0
        return scores + mask
