"""Piece <-> studio tokens: quantize to the 12-ticks-a-quarter grid, find chords, write the bars.

``grid_notes`` is the single definition of "a note at the tokenizer's grid" (pitch, onset tick,
duration ticks, velocity level); the encoder writes exactly those notes and the round-trip check
compares against them. Chords come from the piece's chart (MIDI ``chord:`` text events) when it has
one, else from the music core's recogniser on spans of ``chord_span_beats``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..common.errors import StudioError
from ..music.chords import TOKEN_ROOTS, parse_chord
from ..music.piece import ChordEvent, Note, Piece
from .chord_vocab import NO_CHORD_TOKEN, SLASH_QUALITIES, chord_of_token
from .event_words import (DUR_VALUES, GRID_OFFSETS, MAX_DUR, MAX_TIES, PITCH_HIGH, PITCH_LOW,
                          TEMPO_BUCKETS, TICKS_PER_QUARTER, TIME_SIGNATURES, VELOCITY_LEVELS, Header,
                          label_token)

if TYPE_CHECKING:
    from ..music.recognise import ProfileRecogniser
    from .vocab import Vocabulary

_GRID = np.array((*GRID_OFFSETS, TICKS_PER_QUARTER), dtype=float)
_DURS = np.array(DUR_VALUES, dtype=float)
MAX_NOTE_TICKS = MAX_DUR * (MAX_TIES + 1)
MIN_CHORD_PITCH_CLASSES = 3   # fewer sounding pitch classes in a span name no new chord


def quantize_onsets(beats: np.ndarray, bar_ticks: int | None = None) -> np.ndarray:
    """Onsets in beats -> nearest 16th or eighth-triplet tick (12 ticks a quarter).

    The grid is laid from each bar's downbeat, so in a meter whose bar is not whole quarters (3/8,
    5/8, 9/8) every position inside a bar is still one the vocabulary has (``POS_0, 3, 4, 6, ...``).
    """
    ticks = np.asarray(beats, dtype=float) * TICKS_PER_QUARTER
    bar_start = (np.floor(ticks / bar_ticks) * bar_ticks) if bar_ticks else np.zeros_like(ticks)
    base = bar_start + np.floor((ticks - bar_start) / TICKS_PER_QUARTER) * TICKS_PER_QUARTER
    frac = ticks - base
    nearest = _GRID[np.abs(frac[:, None] - _GRID[None, :]).argmin(axis=1)]
    return (base + nearest).astype(np.int64)


def quantize_durations(beats: np.ndarray) -> np.ndarray:
    """Durations in beats -> ticks: the nearest DUR value up to a whole note, whole beats beyond."""
    ticks = np.asarray(beats, dtype=float) * TICKS_PER_QUARTER
    short = _DURS[np.abs(ticks[:, None] - _DURS[None, :]).argmin(axis=1)]
    long = np.round(ticks / TICKS_PER_QUARTER) * TICKS_PER_QUARTER
    out = np.where(ticks <= MAX_DUR + 6, short, long)
    return np.clip(out, DUR_VALUES[0], MAX_NOTE_TICKS).astype(np.int64)


def fold_pitches(pitches: np.ndarray) -> np.ndarray:
    """Pitches outside the piano moved by octaves into 21-108."""
    p = np.asarray(pitches, dtype=np.int64).copy()
    while (p < PITCH_LOW).any():
        p = np.where(p < PITCH_LOW, p + 12, p)
    while (p > PITCH_HIGH).any():
        p = np.where(p > PITCH_HIGH, p - 12, p)
    return p


def grid_notes(notes: Sequence[Note], bar_ticks: int | None = None) -> np.ndarray:
    """(N, 4) int array of (pitch, onset tick, duration ticks, velocity level), sorted by onset then
    pitch; a pitch struck twice at one tick is kept once (the longer)."""
    if not notes:
        return np.zeros((0, 4), dtype=np.int64)
    raw = np.array([(n.pitch, n.start, n.duration, n.velocity) for n in notes], dtype=float)
    out = np.stack([fold_pitches(raw[:, 0]), quantize_onsets(np.maximum(raw[:, 1], 0.0), bar_ticks),
                    quantize_durations(raw[:, 2]),
                    np.clip(raw[:, 3] // 16, 0, len(VELOCITY_LEVELS) - 1)], axis=1).astype(np.int64)
    order = np.lexsort((-out[:, 2], out[:, 0], out[:, 1]))  # onset, pitch, longest first
    out = out[order]
    keep = np.ones(len(out), dtype=bool)
    keep[1:] = (out[1:, 0] != out[:-1, 0]) | (out[1:, 1] != out[:-1, 1])
    return out[keep]


def bar_ticks_of(time_signature: tuple[int, int]) -> int:
    n, d = time_signature
    if f"{n}/{d}" not in TIME_SIGNATURES:
        raise StudioError(f"time signature {n}/{d} is not in the event language (allowed: up to 8 "
                          "quarter notes a bar over 2, 4 or 8)")
    return n * 4 * TICKS_PER_QUARTER // d


def estimate_key(notes: Sequence[Note]) -> str:
    """Krumhansl-Schmuckler key estimate on duration-weighted pitch classes: ``"Ebmaj"``, ``"F#min"``."""
    major = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
    minor = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
    profile = np.zeros(12)
    for note in notes:
        profile[note.pitch % 12] += min(note.duration, 4.0)
    if profile.sum() == 0:
        return "Cmaj"
    best = max(((np.corrcoef(profile, np.roll(tmpl, tonic))[0, 1], tonic, mode)
                for mode, tmpl in (("maj", major), ("min", minor)) for tonic in range(12)))
    return f"{TOKEN_ROOTS[best[1]]}{best[2]}"


def detect_chords(grid: np.ndarray, total_ticks: int, span_ticks: int, bar_ticks: int,
                  recogniser: "ProfileRecogniser | None" = None) -> list[tuple[int, str | None]]:
    """(tick, chord name or None for silence) at each change, recognised on spans of ``span_ticks``
    inside each bar, with the music core's recogniser. A span with one or two pitch classes keeps
    the chord before it (NC at the start of a song)."""
    from ..music.recognise import default_recogniser

    recogniser = recogniser or default_recogniser()
    out: list[tuple[int, object]] = []
    previous = "?"
    onsets, ends = grid[:, 1], grid[:, 1] + grid[:, 2]
    cache: dict[tuple, object] = {}
    for bar_start in range(0, total_ticks, bar_ticks):
        for start in range(bar_start, bar_start + bar_ticks, span_ticks):
            end = min(start + span_ticks, bar_start + bar_ticks)
            lo = np.searchsorted(onsets, start - MAX_NOTE_TICKS)
            hi = np.searchsorted(onsets, end)
            overlap = np.minimum(ends[lo:hi], end) - np.maximum(onsets[lo:hi], start)
            sounding = overlap > 0
            pitches, overlap = grid[lo:hi, 0][sounding], overlap[sounding]
            profile = np.bincount(pitches % 12, weights=overlap, minlength=12)
            if len(pitches):
                long_enough = overlap >= 0.25 * (end - start)
                bass = int((pitches[long_enough] if long_enough.any() else pitches).min() % 12)
            else:
                bass = None
            if 0 < np.count_nonzero(profile) < MIN_CHORD_PITCH_CLASSES and previous != "?":
                continue  # a line or a dyad names no chord: the chord before it goes on sounding
            key = (profile.tobytes(), bass)
            if key not in cache:
                found = recogniser.recognise(profile, bass)
                few = np.count_nonzero(profile) < MIN_CHORD_PITCH_CLASSES
                cache[key] = None if found.root is None or few else _with_bass(found, bass, profile)
            name = cache[key]
            if name != previous:
                out.append((start, name))
                previous = name
    return out


def _with_bass(found, bass: int | None, profile: np.ndarray) -> str:
    """The recognised chord's name, with a slash bass when the bass is another chord tone."""
    name = found.name
    if bass is None or bass == found.root or found.quality not in SLASH_QUALITIES:
        return name
    if bass in parse_chord(name).chord_tones:
        return f"{name}/{TOKEN_ROOTS[bass]}"
    return name


def _chord_marks(vocab: "Vocabulary", piece: Piece, grid: np.ndarray, total_ticks: int,
                 span_ticks: int, bar_ticks: int, source: str) -> list[tuple[int, str]]:
    """(tick, chord token) at each change, from the chart or the recogniser."""
    if source == "none":
        return []
    if piece.chords and source in ("auto", "text"):
        ticks = quantize_onsets(np.maximum(np.array([c.start for c in piece.chords]), 0.0), bar_ticks)
        return [(int(t), vocab.nearest_chord(c.chord)[0]) for t, c in zip(ticks, piece.chords)]
    if source == "text":
        return []
    marks = detect_chords(grid, total_ticks, span_ticks, bar_ticks, vocab.recogniser())
    return [(t, NO_CHORD_TOKEN if n is None else vocab.nearest_chord(parse_chord(n))[0]) for t, n in marks]


def header_tokens(vocab: "Vocabulary", piece: Piece, header: Header) -> list[str]:
    """STYLE, labels, TEMPO, TIMESIG, KEY: from ``header``, and from ``piece`` where it says None."""
    if f"STYLE_{header.style}" not in vocab.token_to_id:
        raise StudioError(f"style {header.style!r} is not in this vocabulary (known: {', '.join(vocab.styles)})")
    tempo = header.tempo_bpm or piece.tempo_bpm
    bucket = min(TEMPO_BUCKETS, key=lambda b: abs(b - tempo))
    n, d = header.time_signature or piece.time_signature
    bar_ticks_of((n, d))
    key = header.key or estimate_key(piece.notes)
    if f"KEY_{key}" not in vocab.token_to_id:
        raise StudioError(f"key must be a root from {', '.join(TOKEN_ROOTS)} followed by maj or min (got {key!r})")
    return [f"STYLE_{header.style}", *_label_tokens(vocab, header.labels), f"TEMPO_{bucket}",
            f"TIMESIG_{n}/{d}", f"KEY_{key}"]


def _label_tokens(vocab: "Vocabulary", labels: Sequence[str]) -> list[str]:
    out = []
    for label in labels:
        token = label_token(label)
        if token not in vocab.token_to_id:
            raise StudioError(f"label {label!r} is not in this vocabulary (known: {', '.join(vocab.labels)})")
        out.append(token)
    return out


def encode_piece(vocab: "Vocabulary", piece: Piece, header: Header, chord_span_beats: float = 2.0,
                 chord_source: str = "auto") -> list[str]:
    """The piece as one token sequence: header, SONG_START, every bar, SONG_END."""
    # 1. header; notes and pedal on the grid
    tokens = header_tokens(vocab, piece, header) + ["SONG_START"]
    bar_ticks = bar_ticks_of(header.time_signature or piece.time_signature)
    grid = grid_notes(piece.notes, bar_ticks)
    pedal_ticks = quantize_onsets(np.maximum(np.array(piece.pedal, dtype=float).reshape(-1, 2), 0.0).ravel(),
                                  bar_ticks)
    pedals = [(int(a), int(b)) for a, b in pedal_ticks.reshape(-1, 2).tolist() if b > a]
    # 2. bars: the song lasts until its last sound ends (a tied note or the pedal can reach further)
    last_tick = int((grid[:, 1] + grid[:, 2]).max()) - 1 if len(grid) else 0
    last_tick = max([last_tick] + [b for _, b in pedals])
    bars = max(last_tick // bar_ticks + 1, piece.bars_hint or 0)
    # 3. chords (chart or recognised), then every event gathered by tick
    span_ticks = max(3, int(round(chord_span_beats * TICKS_PER_QUARTER)))
    chords = _chord_marks(vocab, piece, grid, bars * bar_ticks, span_ticks, bar_ticks, chord_source)
    events: dict[int, dict] = {}

    def at(tick: int) -> dict:
        return events.setdefault(tick, {"chord": None, "pedal": [], "notes": []})

    for tick, token in chords:
        at(tick)["chord"] = token
    for down, up in pedals:
        at(down)["pedal"].append("PEDAL_ON")
        at(up)["pedal"].insert(0, "PEDAL_OFF")
    for pitch, onset, dur, vel in grid.tolist():
        at(onset)["notes"].append((pitch, dur, vel))
    chords.sort(key=lambda c: c[0])
    chord_ticks = [t for t, _ in chords]
    for bar in range(bars):  # every bar restates the sounding chord at POS_0
        sounding = int(np.searchsorted(chord_ticks, bar * bar_ticks, side="right")) - 1
        if sounding >= 0 and at(bar * bar_ticks)["chord"] is None:
            events[bar * bar_ticks]["chord"] = chords[sounding][1]
    # 4. the bars, each position once: POS [CHORD] [PEDAL_OFF] [PEDAL_ON] (NOTE DUR+ VEL)*
    ticks = sorted(events)
    index = 0
    for bar in range(bars):
        tokens.append("BAR_START")
        start = bar * bar_ticks
        while index < len(ticks) and ticks[index] < start + bar_ticks:
            tokens.extend(_position_tokens(ticks[index] - start, events[ticks[index]]))
            index += 1
    tokens.append("SONG_END")
    return tokens


def _position_tokens(pos: int, event: dict) -> list[str]:
    out = [f"POS_{pos}"]
    if event["chord"]:
        out.append(event["chord"])
    pedal = list(dict.fromkeys(event["pedal"]))
    out += ["PEDAL_OFF"] * ("PEDAL_OFF" in pedal) + ["PEDAL_ON"] * ("PEDAL_ON" in pedal)
    for pitch, dur, vel in sorted(event["notes"]):
        out.append(f"NOTE_{pitch}")
        while dur > MAX_DUR:
            out.append(f"DUR_{MAX_DUR}")
            dur -= MAX_DUR
        out += [f"DUR_{dur}", f"VEL_{VELOCITY_LEVELS[vel]}"]
    return out if len(out) > 1 else []


def decode_tokens(vocab: "Vocabulary", tokens: Sequence[str | int]) -> Piece:
    """Tokens -> Piece (beats). Unknown or misplaced tokens are skipped; ``check`` reports them."""
    piece = Piece(notes=[], chords=[], pedal=[])
    bar_ticks, bar, pos = 48, -1, 0
    pitch, dur, pedal_down = None, 0, None
    chord_marks: list[tuple[int, str]] = []
    kinds, values, lookup, size = vocab.kinds, vocab.values, vocab.token_to_id, len(vocab.tokens)
    for raw in tokens:
        index = raw if isinstance(raw, int) else lookup.get(raw, -1)
        if not 0 <= index < size:
            continue
        kind, value = kinds[index], values[index]
        token = vocab.tokens[index]
        tick = max(bar, 0) * bar_ticks + pos
        if kind == "tempo":
            piece.tempo_bpm = float(value)
        elif kind == "timesig":
            n, d = (int(x) for x in str(value).split("/"))
            piece.time_signature, bar_ticks = (n, d), n * 4 * TICKS_PER_QUARTER // d
        elif kind == "bar":
            bar, pos = bar + 1, 0
        elif kind == "pos":
            pos = int(value)
        elif kind == "chord":
            if not chord_marks or chord_marks[-1][1] != token:
                chord_marks.append((tick, token))
        elif kind == "pedal":
            if value == "ON" and pedal_down is None:
                pedal_down = tick
            elif value == "OFF" and pedal_down is not None:
                piece.pedal.append((pedal_down / TICKS_PER_QUARTER, tick / TICKS_PER_QUARTER))
                pedal_down = None
        elif kind == "note":
            pitch, dur = int(value), 0
        elif kind == "dur" and pitch is not None:
            dur += int(value)
        elif kind == "vel" and pitch is not None and dur > 0:
            velocity = min(127, int(value) * 16 + 8)
            piece.notes.append(Note(tick / TICKS_PER_QUARTER, pitch, dur / TICKS_PER_QUARTER, velocity))
            pitch, dur = None, 0
    piece.bars_hint = max(bar + 1, 1)
    end_tick = piece.bars_hint * bar_ticks
    if pedal_down is not None:
        piece.pedal.append((pedal_down / TICKS_PER_QUARTER, max(end_tick, pedal_down + 1) / TICKS_PER_QUARTER))
    for i, (tick, token) in enumerate(chord_marks):
        stop = chord_marks[i + 1][0] if i + 1 < len(chord_marks) else max(end_tick, tick + 1)
        piece.chords.append(ChordEvent(tick / TICKS_PER_QUARTER, (stop - tick) / TICKS_PER_QUARTER,
                                       chord_of_token(token)))
    piece.notes.sort(key=lambda n: (n.start, n.pitch, n.duration, n.velocity))
    return piece


def round_trip_share(original: Sequence[Note], decoded: Sequence[Note],
                     bar_ticks: int | None = None) -> tuple[int, int]:
    """(kept, total): notes of ``original`` at the grid (pitch, onset, duration) found in ``decoded``;
    ``bar_ticks``: the meter's bar, as the encoder laid the grid."""
    ref = {tuple(r) for r in grid_notes(original, bar_ticks)[:, :3].tolist()}
    got = {tuple(r) for r in grid_notes(decoded, bar_ticks)[:, :3].tolist()}
    return len(ref & got), len(ref)
