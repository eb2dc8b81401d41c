"""Constrained decoding: the grammar, the chart and the pianist's rules decide which ids may come next.

One ``RowConstraint`` follows one sequence being generated. What may follow is the Vocabulary's
grammar (``Vocabulary.allowed_mask``, the one statement of it) narrowed by:

- the chart: at every bar ``BAR_START POS_0 CHORD_x`` is forced, a later chord of the bar is forced
  right after the model reaches its ``POS`` (positions past a pending chord are masked, so the model
  cannot skip it), the bar may only end once its chords are placed, and after the last bar
  ``SONG_END`` (or, inside a regenerated stretch, the end of the segment) closes the row: exactly
  the requested bars, every sequence valid. No note rings past the end of the song. A soft token
  budget per bar keeps the piece inside the model's context: once spent, only tokens that finish
  the current event and move on are allowed (and the notes a rule below still requires);
- the pianist's rules (``Rules``, from the generation config): the lowest note struck at each
  chord change is the chord's root or written slash bass, struck with the chord's 3rd and 7th;
  every bar sounds; notes stay in the style's register; at most so many notes at one onset, two
  hands' reach, no dense clusters low down; and a harmony strength that biases (or, at 1, masks)
  notes outside the chord's tones and allowed tensions.

Every rule is checked for feasibility before it narrows the choice (a guide tone must still fit
above the bass in the hands' reach), so a row never reaches a step with nothing allowed; if a
combination of settings still does, the error names the rules, the bar and the beat.
``GrammarLogitsProcessor`` wraps the same rows for ``transformers``' ``generate``.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ...common.errors import StudioError
from ...music.chords import TOKEN_ROOTS
from ...data.vocab import KIND_CODES, MAX_DUR, PITCH_HIGH, PITCH_LOW, TICKS_PER_QUARTER, GrammarState, grammar_key

if TYPE_CHECKING:
    from .events import BarPlan, EventSpace

CLOSING_TOKENS = 4   # the most tokens needed to finish an event once a bar's budget is spent
NOTE_TOKENS = 3      # NOTE DUR VEL
BASS_CEILING = 60    # the bass of a chord change is struck at or below C4 (or within the register's lowest octave)
HAND_NOTES = 5
ANTICIPATION_TICKS = TICKS_PER_QUARTER // 2   # music.metrics.ANTICIPATION_BEATS on the grid
POS, NOTE, DUR, BAR, END, PEDAL, CHORD = (KIND_CODES[k] for k in ("pos", "note", "dur", "bar", "song_end", "pedal",
                                                                  "chord"))


@dataclass(frozen=True)
class Rules:
    """What a pianist takes for granted, as decoding constraints (``GenerateConfig`` fills them per style).

    Args:
        pitch_range: lowest and highest MIDI note (the style's register, always on the piano).
        bass_on_change: the lowest note struck at each chord change is its root or slash bass.
        guide_tones: the chord's 3rd and 7th (where it has them) are struck with that bass.
        harmony_strength: 0 = the raw model; 1 = notes outside the chord's tones and allowed
            tensions masked; between: their probability times (1 - strength).
        max_notes_per_onset: notes struck together at most (two hands: 10).
        hand_span: semitones one hand reaches (16 = a major 10th).
        low_cluster_below: below this note, notes struck together are at least a minor 3rd apart
            (a 5th below ``low_fifths_below``).
    """

    pitch_range: tuple[int, int] = (PITCH_LOW, PITCH_HIGH)
    bass_on_change: bool = False
    guide_tones: bool = False
    harmony_strength: float = 0.0
    max_notes_per_onset: int = 2 * HAND_NOTES
    hand_span: int = 16
    low_cluster_below: int = 48
    low_fifths_below: int = 40


@dataclass(frozen=True)
class ChordRules:
    """One chord word's part in the rules: its bass, the tones it needs, what fits over it."""

    name: str
    bass_pc: int | None
    guides: frozenset[int]
    fits: np.ndarray            # (12,) bool: chord tones and allowed tensions


def chord_rules(word: str) -> ChordRules:
    from ...data.chord_vocab import chord_of_token
    from ...music.playing import chord_guides

    chord = chord_of_token(word)
    fits = np.zeros(12, dtype=bool)
    if chord.root is None:
        return ChordRules(word[6:], None, frozenset(), ~fits)
    fits[list(chord.tension_aware_set)] = True
    return ChordRules(chord.name, chord.bass_pc, chord_guides(chord), fits)


class RowConstraint:
    """The grammar + chart + rules state of one generated row.

    Args:
        state: the grammar state after the prompt (it must end at a bar boundary).
        bars: the chords to force, one BarPlan per bar to generate.
        ends_song: close the last bar with SONG_END; False: stop where the next bar would begin.
        bar_budget: soft limit on tokens per bar (see module docstring).
        pitch_range: shorthand for ``Rules(pitch_range=...)`` when no rules are given.
        cache: a dict shared by the rows of one call (allowed ids by state, chord rules by word).
        rules: the pianist's rules; None: only the grammar, the chart and ``pitch_range``.
    """

    def __init__(self, space: "EventSpace", state: GrammarState, bars: Sequence["BarPlan"], ends_song: bool,
                 bar_budget: int, pitch_range: tuple[int, int] = (PITCH_LOW, PITCH_HIGH), cache: dict | None = None,
                 rules: Rules | None = None) -> None:
        self.space, self.vocab, self.state = space, space.vocab, state
        self.bars, self.ends_song, self.bar_budget = list(bars), ends_song, bar_budget
        self.rules = rules or Rules(pitch_range=pitch_range)
        self.cache = {} if cache is None else cache
        self.bar, self.chord_index, self.bar_tokens, self.note_ticks = -1, 0, 0, 0
        self.pending: deque[int] = deque([space.id("BAR_START")])
        self.out: list[int] = []
        self.done = False
        self.chord: ChordRules | None = None
        self.change = False              # the current position carries a chord token
        self.onset: list[int] = []       # pitches struck at the current position, rising
        self.bar_notes = 0
        self._bar_id, self._end_id = space.id("BAR_START"), space.id("SONG_END")
        self._present = space.model_ids >= 0
        self._log_outside = math.log1p(-self.rules.harmony_strength) if self.rules.harmony_strength < 1 else None

    # ---- what may come next ----------------------------------------------------------------
    def forced(self) -> int | None:
        """The model id that must come next, or None when the model chooses."""
        return self.pending[0] if self.pending else None

    def allowed(self) -> np.ndarray:
        """Model ids the model may choose from now (never empty while the row is not done)."""
        return self.choices()[0]

    def choices(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(model ids allowed now, an additive log-probability bias for each or None)."""
        s = self.state
        plan = self.bars[self.bar].chords
        chord_tick = plan[self.chord_index][0] if self.chord_index < len(plan) else None
        closing = self.bar_tokens >= self.bar_budget
        bars_left = len(self.bars) - self.bar  # nothing rings past the end of the song
        remaining = bars_left * s.bar_ticks - max(s.pos, 0) - self.note_ticks if self.ends_song else 1 << 30
        room = min(remaining, MAX_DUR + 1)   # beyond a whole note, the room left changes nothing
        following = self._next_change() if s.last == "note" else None
        key = (s, chord_tick, self.bar == len(self.bars) - 1, closing, room, self.chord and self.chord.name,
               self.change, tuple(self.onset), self.bar_notes > 0, following)
        found = self.cache.get(key)
        if found is None:
            found = self._compute(s, chord_tick, key[2], closing, remaining, following)
            self.cache[key] = found
        return found

    def _compute(self, s: GrammarState, chord_tick: int | None, last_bar: bool, closing: bool,
                 remaining: int, following: tuple[int, str] | None) -> tuple[np.ndarray, np.ndarray | None]:
        vids = self._candidates(s)      # what the grammar allows the model, chords aside (a few dozen ids)
        kinds, numbers = self.vocab.kind_codes[vids], self.vocab.numbers[vids]
        ok = np.ones(len(vids), dtype=bool)
        missing = self._missing()
        # positions: not past a pending chord; once the budget is spent, straight to the next chord
        hi = chord_tick if chord_tick is not None else s.bar_ticks - 1
        lo = hi if closing else s.pos + 1
        is_pos = kinds == POS
        ok[is_pos] = (numbers[is_pos] >= lo) & (numbers[is_pos] <= hi) & (not (closing and chord_tick is None)) \
            & (not missing)
        # the bar or the song ends once its chords are placed, it has sounded, and no note is owed
        leave = not missing and self.bar_notes > 0 and chord_tick is None
        ok[kinds == BAR] = leave and (not last_bar or not self.ends_song)
        ok[kinds == END] = leave and last_bar
        if closing and s.last != "pos":
            ok[kinds == PEDAL] = False
        is_note = kinds == NOTE
        if is_note.any():
            notes = self._notes(s, missing, numbers[is_note])
            if closing:  # after the budget: a note only where one is owed, or to fill a bare position
                owed = bool(missing) or self.bar_notes == 0
                bare = s.last == "pos" and not (ok & (kinds == PEDAL)).any()
                notes &= owed or bare
            ok[is_note] = notes
        if s.last == "note":
            ok &= numbers <= min(remaining, MAX_DUR, self._anticipation_cap(s, following))
        elif s.last == "dur":
            ok &= (kinds != DUR) | ((numbers <= min(remaining, MAX_DUR)) & (not closing))
        vids, pitches = vids[ok], np.where(is_note, numbers, -1)[ok]
        if not len(vids):
            self._stuck(s, missing)
        bias = None
        if self._log_outside is not None and self._log_outside < 0 and self.chord is not None:
            outside = (pitches >= 0) & ~self.chord.fits[pitches % 12]
            if outside.any():
                bias = np.where(outside, self._log_outside, 0.0)
        return self.space.model_ids[vids], bias

    def _candidates(self, s: GrammarState) -> np.ndarray:
        """Vocabulary ids the grammar allows after ``s`` that this model has, chord tokens left out."""
        key = ("grammar", grammar_key(s))
        found = self.cache.get(key)
        if found is None:
            allowed = self.vocab.allowed_mask(s) & self._present & (self.vocab.kind_codes != CHORD)
            found = self.cache[key] = np.flatnonzero(allowed)
        return found

    def _next_change(self) -> tuple[int, str] | None:
        """(ticks from the bar's start, chord word) of the next chord change, or None after the last."""
        plan = self.bars[self.bar].chords
        if self.chord_index < len(plan):
            return plan[self.chord_index]
        if self.bar + 1 < len(self.bars):
            return self.state.bar_ticks, self.bars[self.bar + 1].chords[0][1]
        return None

    def _anticipation_cap(self, s: GrammarState, following: tuple[int, str] | None) -> int:
        """The longest a note just written may last: a note struck at most an eighth before a change
        that rings mostly past it is heard against the next chord, and struck with it
        (``music.playing``), so it stops in time when it does not fit that chord (harmony masked) or
        could sound below the next chord's bass without being it (the bass rule)."""
        if following is None or not 0 < following[0] - s.pos <= ANTICIPATION_TICKS:
            return MAX_DUR
        nxt, rules = self._chord_rules(following[1]), self.rules
        clashes = rules.harmony_strength >= 1 and not nxt.fits[s.pitch % 12]
        under_bass = rules.bass_on_change and nxt.bass_pc is not None and s.pitch % 12 != nxt.bass_pc \
            and s.pitch <= max(BASS_CEILING, rules.pitch_range[0] + 11)
        if not (clashes or under_bass):
            return MAX_DUR
        return max(2 * (following[0] - s.pos) - 1, 3)   # under half past it; a 16th at least

    def _missing(self) -> frozenset[int]:
        """Pitch classes still owed at this position (the bass first, then the guide tones)."""
        chord, rules = self.chord, self.rules
        if not self.change or chord is None or chord.bass_pc is None:
            return frozenset()
        if rules.bass_on_change and not self.onset:
            return frozenset({chord.bass_pc}) | (chord.guides if rules.guide_tones else frozenset())
        if not rules.guide_tones:
            return frozenset()
        return chord.guides - {p % 12 for p in self.onset}

    def _notes(self, s: GrammarState, missing: frozenset[int], p: np.ndarray) -> np.ndarray:
        """Which of the pitches ``p`` the rules allow now."""
        rules, onset = self.rules, self.onset
        low, high = rules.pitch_range
        ok = (p >= max(low, s.pitch + 1)) & (p <= high)
        if len(onset) >= rules.max_notes_per_onset:
            return ok & False
        chord = self.chord
        if chord is not None and rules.harmony_strength >= 1:
            ok &= chord.fits[p % 12]
        if self.change and chord is not None and chord.bass_pc is not None and rules.bass_on_change and not onset:
            return ok & (p % 12 == chord.bass_pc) & (p <= max(BASS_CEILING, low + 11)) & self._room(p, missing)
        if onset:  # no dense clusters low down; two hands' reach
            gap = p - onset[-1]
            ok &= ~((p < rules.low_cluster_below) & (gap < 3)) & ~((p < rules.low_fifths_below) & (gap < 7))
            ok &= p <= self._reach(p)
        if missing:
            ok &= self._room(p, missing)
        return ok

    def _hands(self) -> tuple[list[int], list[int]]:
        """The notes at this onset as (left hand, right hand): the left takes all it reaches, five at most."""
        span, onset = self.rules.hand_span, self.onset
        left = [q for q in onset if q <= onset[0] + span][:HAND_NOTES]
        return left, onset[len(left):]

    def _reach(self, p: np.ndarray) -> np.ndarray:
        """Where each candidate ``p`` may be struck: the right hand's reach once it has begun."""
        left, right = self._hands()
        if right:
            return np.full_like(p, right[0] + self.rules.hand_span if len(right) < HAND_NOTES else -1)
        return np.full_like(p, PITCH_HIGH)

    def _limit_after(self, p: np.ndarray) -> np.ndarray:
        """The highest note two hands can still add at this onset once ``p`` is struck."""
        if not self.onset:
            return np.full_like(p, PITCH_HIGH)
        span = self.rules.hand_span
        left, right = self._hands()
        if right:
            return np.full_like(p, right[0] + span if len(right) + 1 < HAND_NOTES else -1)
        starts_right = (p > self.onset[0] + span) | (len(left) >= HAND_NOTES)
        return np.where(starts_right, p + span, PITCH_HIGH)

    def _fingers_after(self, p: np.ndarray) -> np.ndarray:
        """How many more notes the hands can strike at this onset once ``p`` is struck (five a hand)."""
        if not self.onset:
            return np.full_like(p, 2 * HAND_NOTES - 1)
        left, right = self._hands()
        if right:
            return np.full_like(p, HAND_NOTES - len(right) - 1)
        starts_right = (p > self.onset[0] + self.rules.hand_span) | (len(left) >= HAND_NOTES)
        return np.where(starts_right, HAND_NOTES - 1, HAND_NOTES - len(left) - 1 + HAND_NOTES)

    def _room(self, p: np.ndarray, missing: frozenset[int]) -> np.ndarray:
        """After striking ``p``, every owed pitch class still fits above it, in reach and under the cap."""
        rules = self.rules
        limit = np.minimum(self._limit_after(p), rules.pitch_range[1])
        slots = np.minimum(rules.max_notes_per_onset - len(self.onset) - 1, self._fingers_after(p))
        ok = np.ones_like(p, dtype=bool)
        still = np.zeros_like(p)
        for pc in missing:
            here = p % 12 == pc
            nearest = p + 1 + (pc - p - 1) % 12
            nearest = np.where(nearest < rules.low_cluster_below, nearest + 12, nearest)
            ok &= here | (nearest <= limit)
            still += ~here
        return ok & (still <= slots)

    def _stuck(self, s: GrammarState, missing: frozenset[int]) -> None:
        beat = max(s.pos, 0) / TICKS_PER_QUARTER + 1
        chord = self.chord.name if self.chord else "no chord"
        owed = ", ".join(TOKEN_ROOTS[pc] for pc in sorted(missing)) or "none"
        raise StudioError(f"the constraints leave no token at bar {self.bar + 1} beat {beat:g} over {chord} "
                          f"(register {self.rules.pitch_range[0]}-{self.rules.pitch_range[1]}, at most "
                          f"{self.rules.max_notes_per_onset} notes an onset, pitch classes owed: {owed}, "
                          f"{len(self.onset)} notes struck); widen the register, allow more notes an onset "
                          "or turn off the bass or guide-tone rule")

    # ---- taking a token --------------------------------------------------------------------
    def push(self, model_id: int) -> None:
        """Take the chosen (or forced) token and update the grammar, chart and rules state."""
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
            self.bar, self.chord_index, self.bar_tokens, self.bar_notes = self.bar + 1, 0, 0, 0
            self.onset, self.change = [], False
            self.pending.append(self.space.id("POS_0"))
        elif kind == "pos":
            self.onset, self.change = [], False
            plan = self.bars[self.bar].chords
            if self.chord_index < len(plan) and plan[self.chord_index][0] == value:
                self.pending.append(self.space.id(plan[self.chord_index][1]))
                self.chord_index += 1
        elif kind == "chord":
            self.chord, self.change = self._chord_rules(str(value)), True
        elif kind == "note":
            self.note_ticks = 0
            self.onset.append(int(value))
            self.bar_notes += 1
        elif kind == "dur":
            self.note_ticks += int(value)
        elif kind == "song_end":
            self.done = True

    def _chord_rules(self, word: str) -> ChordRules:
        found = self.cache.get(("chord", word))
        if found is None:
            found = self.cache[("chord", word)] = chord_rules(word)
        return found

    def words(self) -> list[str]:
        return self.space.words(self.out)

    @property
    def reached(self) -> tuple[int, int]:
        """(bar, tick) of the current position: notes starting before it can no longer change."""
        return self.bar, max(self.state.pos, 0)


def check_rules(rules: Rules, bars: Sequence["BarPlan"], first_bar: int = 1) -> None:
    """Refuse, before any model runs, settings under which some chord of ``bars`` cannot be played."""
    low, high = rules.pitch_range
    if not PITCH_LOW <= low < high <= PITCH_HIGH:
        raise StudioError(f"the register must be two notes within {PITCH_LOW}-{PITCH_HIGH}, low below high "
                          f"(got {low}-{high})")
    for index, bar in enumerate(bars):
        for tick, word in bar.chords:
            chord = chord_rules(word)
            where = f"{chord.name} at bar {first_bar + index} beat {tick / TICKS_PER_QUARTER + 1:g}"
            if chord.bass_pc is None or not rules.bass_on_change:
                continue
            bass = next((q for q in range(low, min(high, max(BASS_CEILING, low + 11)) + 1) if q % 12 == chord.bass_pc),
                        None)
            if bass is None:
                raise StudioError(f"the register {low}-{high} has no key for the bass of {where}; widen it to "
                                  "at least an octave below C4 (say 28-100)")
            owed = chord.guides if rules.guide_tones else frozenset()
            if rules.max_notes_per_onset < 1 + len(owed):
                raise StudioError(f"at most {rules.max_notes_per_onset} notes an onset leaves no room for the bass "
                                  f"and guide tones of {where}; allow at least {1 + len(owed)} or turn guide tones off")
            if any(bass + 1 + (pc - bass - 1) % 12 > high for pc in owed):
                raise StudioError(f"the register {low}-{high} has no room above the bass for the 3rd and 7th of "
                                  f"{where}; raise its top note")


def bar_budget(context_tokens: int, used_tokens: int, bars: Sequence["BarPlan"], cap: int,
               rules: Rules | None = None) -> int:
    """Tokens each bar may use so that ``bars`` more bars fit after ``used_tokens`` (``cap`` at most)."""
    owed = (1 + 2 * rules.guide_tones) * NOTE_TOKENS if rules is not None and rules.bass_on_change else 0
    overhead = max(CLOSING_TOKENS + (2 + owed) * len(b.chords) + 2 for b in bars)
    return min(cap, (context_tokens - used_tokens - 1) // max(1, len(bars)) - overhead)


class GrammarLogitsProcessor:
    """The rows as a ``transformers`` LogitsProcessor: -inf on every id the rows forbid, plus their bias.

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
                ids, bias = row.choices()
                mask[index, torch.from_numpy(ids)] = 0.0 if bias is None else torch.from_numpy(bias).to(mask.dtype)
        return scores + mask
