"""The studio's event language: one Vocabulary with its grammar (DESIGN.md "The event language").

A sequence reads, for example::

    STYLE_gospel MOOD_calm TEMPO_88 TIMESIG_4/4 KEY_Ebmaj SONG_START
    BAR_START POS_0 CHORD_Ebmaj7 PEDAL_ON NOTE_39 DUR_24 VEL_MF NOTE_67 DUR_12 VEL_F
              POS_24 CHORD_Ab9 NOTE_44 DUR_48 DUR_12 VEL_MP ...
    BAR_START ... SONG_END

Time is on a grid of 12 ticks per quarter note (``TICKS_PER_QUARTER``), so a bar position
``POS_<tick>`` is a 16th (multiples of 3) or an eighth-note triplet (multiples of 4). ``DUR_<ticks>``
is 3-48 ticks (a 16th to a whole note); a longer note is tied: ``DUR_48`` repeated, then the rest.
Velocity has eight dynamics levels, chords are the jazz words of :mod:`.chord_vocab`, every bar
restates the sounding chord at ``POS_0``. A training sequence starts with its header (style, free
labels, tempo, meter, key); only the first piece of a song carries ``SONG_START``, only the last
``SONG_END``.

Token ids: ``PAD`` is 0; the core words and the default styles come first in a fixed order, so
their ids are the same in every dataset; a dataset's own styles and free labels are appended last.

The grammar is a small state machine over token kinds (``NEXT_KINDS``) plus a few counters
(position increasing inside the bar and inside the meter, pitches rising within one position,
ties only after ``DUR_48``), so ``allowed_next`` can drive a logits processor and ``check``
validates datasets. Encoding and decoding live in :mod:`.studio_codec`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Sequence

from ..common.errors import StudioError
from ..music.chords import TOKEN_ROOTS
from .chord_vocab import ChordMapper, chord_tokens
from .event_words import (DEFAULT_STYLES, DUR_VALUES, GRID_OFFSETS, KEY_MODES, MAX_BAR_TICKS, MAX_DUR,  # noqa: F401
                          MAX_TIES, NAME_RE, PITCH_HIGH, PITCH_LOW, TEMPO_BUCKETS, TICKS_PER_QUARTER,
                          TIME_SIGNATURES, VELOCITY_LEVELS, Header, check_style, label_token)

if TYPE_CHECKING:
    from ..music.chords import Chord
    from ..music.piece import Piece

# Which kind may follow which ("start" is before the first token; "end" means nothing may follow).
NEXT_KINDS: dict[str, frozenset[str]] = {
    "start": frozenset({"style"}),
    "style": frozenset({"label", "tempo"}),
    "label": frozenset({"label", "tempo"}),
    "tempo": frozenset({"timesig"}),
    "timesig": frozenset({"key"}),
    "key": frozenset({"song_start", "bar"}),
    "song_start": frozenset({"bar"}),
    "bar": frozenset({"pos", "bar", "song_end"}),
    "pos": frozenset({"chord", "pedal", "note"}),
    "chord": frozenset({"pedal", "note", "pos", "bar", "song_end"}),
    "pedal": frozenset({"pedal", "note", "pos", "bar", "song_end"}),
    "note": frozenset({"dur"}),
    "dur": frozenset({"dur", "vel"}),
    "vel": frozenset({"note", "pos", "bar", "song_end"}),
    "song_end": frozenset(),
    "pad": frozenset(),
}
KIND_CODES = {kind: code for code, kind in enumerate(NEXT_KINDS)}
PEDAL_CODES = {"OFF": 0, "ON": 1}
# pedal words at one position: at most one OFF then one ON (lift and press again)
PEDAL_STEPS = (("", "ON"), ("", "OFF"), ("OFF", "ON"))


def grammar_key(state: GrammarState) -> tuple:
    """The parts of ``state`` that decide what may follow it (the cache key of ``allowed_mask``)."""
    nxt = NEXT_KINDS[state.last]
    return (state.last, state.bar_ticks, state.pos if "pos" in nxt else 0,
            state.pitch if "note" in nxt else 0, (state.ties, state.last_dur) if state.last == "dur" else 0,
            state.pedal if "pedal" in nxt else "")




@dataclass(frozen=True)
class GrammarState:
    """Where a sequence stands: the last kind, the meter, the position and the note being written."""

    last: str = "start"
    bar_ticks: int = 48
    pos: int = -1                   # tick of the current position in the bar (-1 before the first)
    pitch: int = -1                 # last pitch written at this position
    ties: int = 0                   # DUR tokens written for the current note
    last_dur: int = 0
    pedal: str = ""                 # pedal tokens written at this position: "", "OFF", "ON"


@dataclass
class Vocabulary:
    """The token list, its kinds and values, the grammar, and encode/decode for the studio tokens."""

    styles: tuple[str, ...] = DEFAULT_STYLES
    labels: tuple[str, ...] = ()
    tokens: list[str] = field(init=False, repr=False)
    token_to_id: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.styles = tuple(dict.fromkeys(check_style(s) for s in (*DEFAULT_STYLES, *self.styles)))
        self.labels = tuple(dict.fromkeys(label_token(lab) for lab in self.labels))
        # The core words (and the default styles) come first, so their ids are the same in every
        # dataset; a dataset's own styles and labels are appended at the end.
        specs: list[tuple[str, str, int | str | None]] = [("PAD", "pad", None)]
        specs += [(f"STYLE_{s}", "style", s) for s in DEFAULT_STYLES]
        specs += [(f"TEMPO_{b}", "tempo", b) for b in TEMPO_BUCKETS]
        specs += [(f"TIMESIG_{t}", "timesig", t) for t in TIME_SIGNATURES]
        specs += [(f"KEY_{r}{m}", "key", f"{r}{m}") for m in KEY_MODES for r in TOKEN_ROOTS]
        specs += [("SONG_START", "song_start", None), ("SONG_END", "song_end", None),
                  ("BAR_START", "bar", None)]
        specs += [(f"POS_{t}", "pos", t) for t in range(MAX_BAR_TICKS) if t % 12 in GRID_OFFSETS]
        specs += [(t, "chord", t) for t in chord_tokens()]
        specs += [("PEDAL_ON", "pedal", "ON"), ("PEDAL_OFF", "pedal", "OFF")]
        specs += [(f"NOTE_{p}", "note", p) for p in range(PITCH_LOW, PITCH_HIGH + 1)]
        specs += [(f"DUR_{d}", "dur", d) for d in DUR_VALUES]
        specs += [(f"VEL_{v}", "vel", i) for i, v in enumerate(VELOCITY_LEVELS)]
        specs += [(f"STYLE_{s}", "style", s) for s in self.styles if s not in DEFAULT_STYLES]
        specs += [(lab, "label", lab) for lab in self.labels]
        self.tokens = [s[0] for s in specs]
        self.token_to_id = {t: i for i, t in enumerate(self.tokens)}
        self._kinds = [s[1] for s in specs]
        self._values = [s[2] for s in specs]
        self._ids_by_kind: dict[str, list[int]] = {}
        for index, kind in enumerate(self._kinds):
            self._ids_by_kind.setdefault(kind, []).append(index)
        self._chords: ChordMapper | None = None
        self._recogniser = None
        self._build_grammar_arrays()

    def _build_grammar_arrays(self) -> None:
        import numpy as np

        self._kind_codes = np.array([KIND_CODES[k] for k in self._kinds], dtype=np.int64)
        numbers = [v if isinstance(v, int) and k in ("pos", "note", "dur", "vel") else
                   PEDAL_CODES.get(v, -1) if k == "pedal" else -1 for k, v in zip(self._kinds, self._values)]
        self._numbers = np.array(numbers, dtype=np.int64)
        self._masks: dict[tuple, object] = {}
        self._kind_ids = {k: np.flatnonzero(self._kind_codes == code) for k, code in KIND_CODES.items()}
        self._kind_values = {k: self._numbers[i] for k, i in self._kind_ids.items()}
        self._follows = {}
        for last, kinds in NEXT_KINDS.items():
            self._follows[last] = np.isin(self._kind_codes, [KIND_CODES[k] for k in kinds])

    # ---- lookups ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def kinds(self) -> list[str]:
        """The kind of every token, in id order (read-only use)."""
        return self._kinds

    @property
    def values(self) -> list:
        """The value of every token, in id order (read-only use)."""
        return self._values

    @property
    def kind_codes(self):
        """Each token's kind as a number (``KIND_CODES``), a numpy vector in id order (read-only use)."""
        return self._kind_codes

    @property
    def numbers(self):
        """Each token's value as a number: the pitch, tick or level; the pedal's ``PEDAL_CODES``; else -1."""
        return self._numbers

    def kind_of(self, token: str | int) -> str:
        """The kind of a token (string or id): style, label, tempo, ..., note, dur, vel."""
        return self._kinds[self._id(token)]

    def value_of(self, token: str | int) -> int | str | None:
        """The token's value: a pitch, a tick count, a velocity level index, a style name ..."""
        return self._values[self._id(token)]

    def ids_of_kind(self, kind: str) -> list[int]:
        return list(self._ids_by_kind.get(kind, []))

    def _id(self, token: str | int) -> int:
        if isinstance(token, int):
            if not 0 <= token < len(self.tokens):
                raise StudioError(f"token id {token} is outside the vocabulary (0-{len(self.tokens) - 1})")
            return token
        try:
            return self.token_to_id[token]
        except KeyError:
            raise StudioError(f"{token!r} is not a token of the studio vocabulary") from None

    def nearest_chord(self, chord: "Chord") -> tuple[str, bool]:
        """(token, exact) for any chord; see ChordMapper.nearest."""
        if self._chords is None:
            self._chords = ChordMapper([t for t, k in zip(self.tokens, self._kinds) if k == "chord"])
        return self._chords.nearest(chord)

    def recogniser(self):
        """The vectorised chord recogniser (built on first use, kept with the vocabulary)."""
        from ..music.recognise import default_recogniser

        return default_recogniser()

    # ---- grammar ---------------------------------------------------------------------------
    @staticmethod
    def valid_next_kinds(kind: str) -> frozenset[str]:
        """The kinds that may follow a token of ``kind`` ("start" for an empty sequence)."""
        if kind not in NEXT_KINDS:
            raise StudioError(f"unknown token kind {kind!r}; known: {', '.join(NEXT_KINDS)}")
        return NEXT_KINDS[kind]

    def start_state(self) -> GrammarState:
        return GrammarState()

    def allowed_mask(self, state: GrammarState):
        """Which tokens may follow a sequence in ``state``: a boolean numpy vector over the vocabulary.

        The grammar's one statement: ``advance``, ``check``, ``allowed_next`` and the constrained
        decoder (which narrows it with the chart, :mod:`pipelines.generate.model.constrain`) all read it.
        """
        key = grammar_key(state)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._grammar_mask(state)
            mask.flags.writeable = False
            if len(self._masks) > 20000:
                self._masks.clear()
            self._masks[key] = mask
        return mask

    def _grammar_mask(self, state: GrammarState):
        mask = self._follows[state.last].copy()      # the kinds that may follow, then each kind's rule
        ids, value = self._kind_ids, self._kind_values
        mask[ids["pos"]] &= (value["pos"] > state.pos) & (value["pos"] < state.bar_ticks)
        mask[ids["note"]] &= value["note"] > state.pitch                    # pitches rise at one position
        if state.last == "dur":   # another DUR only ties a whole note, at most MAX_TIES times
            mask[ids["dur"]] &= state.last_dur == MAX_DUR and state.ties < MAX_TIES
        pedals_ok = [PEDAL_CODES[after] for before, after in PEDAL_STEPS if before == state.pedal]
        mask[ids["pedal"]] &= [v in pedals_ok for v in value["pedal"]]
        return mask

    def allowed_next(self, state: GrammarState) -> list[int]:
        """Ids of every token that may follow a sequence in ``state`` (empty after SONG_END)."""
        import numpy as np

        return np.flatnonzero(self.allowed_mask(state)).tolist()

    def advance(self, state: GrammarState, token: str | int) -> GrammarState:
        """The state after ``token``; raises StudioError when the grammar does not allow it."""
        index = self._id(token)
        kind, value = self._kinds[index], self._values[index]
        if not self.allowed_mask(state)[index]:
            raise StudioError(f"{self.tokens[index]} cannot follow {state.last} here")
        if kind == "timesig":
            n, d = (int(x) for x in str(value).split("/"))
            return replace(state, last=kind, bar_ticks=n * 4 * TICKS_PER_QUARTER // d)
        if kind == "bar":
            return replace(state, last=kind, pos=-1, pitch=-1, pedal="")
        if kind == "pos":
            return replace(state, last=kind, pos=value, pitch=-1, pedal="")
        if kind == "pedal":
            return replace(state, last=kind, pedal=value)
        if kind == "note":
            return replace(state, last=kind, pitch=value, ties=0)
        if kind == "dur":
            return replace(state, last=kind, ties=state.ties + (state.last == "dur"), last_dur=value)
        return replace(state, last=kind)

    def state_after(self, tokens: Iterable[str | int]) -> GrammarState:
        """The state after a valid prefix (raises at the first token the grammar refuses)."""
        state = self.start_state()
        for token in tokens:
            state = self.advance(state, token)
        return state

    def check(self, tokens: Sequence[str | int], complete: bool = True) -> list[str]:
        """Grammar errors of a sequence, each naming the token's index; [] when it is valid.

        Args:
            complete: also require that the sequence ends where a sequence may end (after a bar's
                last event or SONG_END), not in the middle of a note or the header.
        """
        errors: list[str] = []
        state = self.start_state()
        for index, token in enumerate(tokens):
            try:
                state = self.advance(state, token)
            except StudioError as exc:
                errors.append(f"token {index}: {exc}")
                if len(errors) >= 20:
                    errors.append("... (stopped after 20 errors)")
                    return errors
        if complete and state.last not in {"bar", "chord", "pedal", "vel", "song_end"}:
            errors.append(f"the sequence ends after a {state.last} token, in the middle of an event")
        return errors

    # ---- codec -----------------------------------------------------------------------------
    def encode(self, piece: "Piece", header: Header | None = None) -> list[str]:
        """The whole piece as one sequence of token strings (header, SONG_START ... SONG_END)."""
        from .studio_codec import encode_piece

        return encode_piece(self, piece, header or Header())

    def header_tokens(self, header: Header) -> list[str]:
        """A sequence's opening words for generation: style, labels, tempo, meter, key (a None tempo,
        meter or key becomes 120 bpm, 4/4, C major). Append ``SONG_START`` to start a song."""
        from ..music.piece import Piece
        from .studio_codec import header_tokens

        return header_tokens(self, Piece(), header)

    def decode(self, tokens: Sequence[str | int]) -> "Piece":
        """Tokens (strings or ids) back to a Piece; tolerant of grammar errors (see ``check``)."""
        from .studio_codec import decode_tokens

        return decode_tokens(self, tokens)

    def to_dict(self) -> dict:
        return {"styles": list(self.styles), "labels": list(self.labels), "size": len(self.tokens)}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        labels = [lab.split("_", 1)[0].lower() + ":" + lab.split("_", 1)[1] for lab in data.get("labels", [])]
        vocab = cls(styles=tuple(data.get("styles", ())), labels=tuple(labels))
        if "size" in data and data["size"] != len(vocab):
            raise StudioError(f"the saved vocabulary had {data['size']} tokens but this version builds "
                              f"{len(vocab)}; re-tokenize the dataset")
        return vocab
