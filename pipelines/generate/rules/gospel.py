"""Gospel piano from a chord chart (MUSIC.md, "Gospel piano").

Each seed draws a *take* (GospelTake): a left-hand pattern (octaves, root-fifth-octave, tenths, a
syncopated pump, a walking octave line) on a bass line that moves by the smallest steps (now and
then an octave leap) in the take's bass register, with walks into the next root; a comping
vocabulary of one- and two-beat rhythm cells for the feel (12/8 shuffle under 76 bpm, straight 8ths
or 12/8 to 110, 16ths or straight 8ths above), with chords pushed to the last "and" by both hands
or the right hand alone, or entering after the change; a melody register and contour, voicing size
and spread for the right hand's 3-5 note voicings with the melody on top, now and then doubled an
octave down; how often it crushes into the 3rd, suspends a dominant, passes through the #IV
diminished chord; and the fill it plays at phrase ends (a descending pentatonic run with its blue
note, a rising one, or a triplet turn). The voicing on each onset follows the melody's contour, so
chords are voiced afresh.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

from ...music.chords import Chord, ChordEvent, parse_chord
from ...music.chords import TOKEN_ROOTS as ROOTS
from .common import (Performance, Placement, above, allowed_pitch_classes, bass_line, dynamics, nearest,
                     next_chord, previous_chord, scale_walk, voicing)

REGISTER = (28, 100)  # MIDI: E1 to E7, where a gospel pianist plays
RIGHT_HAND_LOW = 52   # the right hand stays above the bass line (28-51)
Cell = tuple[tuple[float, float], ...]  # (onset, duration) in beats inside a one- or two-beat cell
CELLS: dict[str, tuple[Cell, ...]] = {  # the last cell of each bank is a rest
    "straight": (((0, 1.0),), ((0, 0.5), (0.5, 0.5)), ((0.5, 0.5),), ((0, 1.5), (1.5, 0.5)),
                 ((0, 0.5), (1.0, 1.0)), ((0, 2.0),), ((0, 1.0), (1.5, 0.5)), ((0.5, 1.0),),
                 ((0, 0.5), (1.5, 0.5)), ((1.0, 1.0),), ((0, 1.0), (1.0, 0.5), (1.5, 0.5)), ()),
    "shuffle": (((0, 2 / 3), (2 / 3, 1 / 3)), ((0, 1.0),), ((2 / 3, 1 / 3),), ((0, 5 / 3), (5 / 3, 1 / 3)),
                ((0, 2.0),), ((0, 1.0), (4 / 3, 2 / 3)), ((0, 1 / 3), (1 / 3, 2 / 3)),
                ((1.0, 2 / 3), (5 / 3, 1 / 3)), ((0, 2 / 3), (1.0, 1.0)), ()),
    "sixteenths": (((0, 0.75), (0.75, 0.25)), ((0, 0.5), (0.75, 0.25)), ((0.25, 0.25), (0.5, 0.5)),
                   ((0, 1.0),), ((0, 0.5), (0.75, 0.75), (1.5, 0.5)), ((0, 1.5), (1.75, 0.25)),
                   ((0, 0.25), (0.5, 0.5)), ((0.75, 1.25),), ((0, 0.75), (1.5, 0.5)), ()),
}
CONTOURS = {  # the melody's shape over a phrase, -1..1 at its start, middle and end
    "arch": (-1.0, 1.0, -0.5), "fall": (1.0, 0.0, -1.0), "rise": (-1.0, 0.0, 1.0), "valley": (1.0, -1.0, 0.5),
}
# The feels a take may draw: slow (under 76 bpm), mid (to 110), shout (above)
FEELS = (("shuffle",), ("straight", "straight", "shuffle"), ("sixteenths", "sixteenths", "straight"))
PUSH_BEATS = {"straight": 0.5, "shuffle": 1 / 3, "sixteenths": 0.5}
# (beat, intervals above the bass, or "5" / "10": the chord's fifth / tenth), repeated every 4 beats
LEFT_HAND_PATTERNS = {
    "octaves": ((0, (0, 12)), (2, (0, 12))),
    "root_fifth": ((0, (0,)), (1, "5"), (2, (12,)), (3, "5")),
    "tenths": ((0, (0, "10")), (2, ("5", "10"))),
    "pump": ((0, (0, 12)), (1.5, (0, 12)), (3, ("5",))),
    "walking": ((0, (0, 12)), (1, "5"), (2, (12,)), (3, "5")),
    "two_feel": ((0, (0,)), (2, ("5",))),
}
# The left hands of each rhythm family (a take's placement variant % 3): tenths only in the shuffle,
# the two-feel only in the plain idiom, where the family's hand is the first
LEFT_HAND_FAMILIES = (("octaves",), ("root_fifth", "walking"), ("pump", "tenths"))
PLAIN_LEFT_HANDS = ("octaves", "root_fifth", "two_feel")
# How often the right hand pushes into the next chord and comes in after the change, by rhythm
# family: the anticipating family pushes most, the off-beat family comes in late most
PUSH_RATES = ((0.2, 0.5), (0.6, 0.9), (0.2, 0.5))
LATE_RATES = ((0.1, 0.3), (0.1, 0.3), (0.5, 0.8))


@dataclass(frozen=True)
class GospelTake:
    """The choices one seed makes for a whole take."""

    feel: str
    left_hand: str
    bass_low: int          # lowest bass pitch; the bass line moves inside the octave above it
    melody: float          # centre of the right hand's top note
    contour: str           # its shape over a phrase (CONTOURS)
    range_semitones: float # how far it moves from the centre
    sizes: tuple[int, ...]
    cells: tuple[Cell, ...]
    double_rate: float     # melody doubled an octave down
    drop2_rate: float
    push_rate: float
    late_rate: float       # the right hand comes in after the change
    lh_push_rate: float    # the left hand pushes with the right
    walk_rate: float
    crush_rate: float
    fill: str              # down | up | turn
    family: int            # rhythm family (0-2): which left hands and comping cells the take draws from

    @staticmethod
    def draw(tempo_bpm: float, rng: random.Random, placement: Placement = Placement()) -> "GospelTake":
        """A take at ``tempo_bpm``; ``placement`` sets its melody (low and warm to high and bright),
        its bass register and its rhythm family: the left hands and every third comping cell of the
        feel's bank that it draws from, so takes of other families strike on other beats."""
        feel = rng.choice(FEELS[0 if tempo_bpm < 76 else (1 if tempo_bpm <= 110 else 2)])
        family = placement.family
        hands = tuple(h for h in LEFT_HAND_FAMILIES[family] if feel == "shuffle" or h != "tenths")
        bank = CELLS[feel]
        return GospelTake(feel=feel, left_hand=rng.choice(hands), bass_low=28 + round(12 * placement.bass),
                          melody=64 + 26 * placement.upper + rng.uniform(-1, 1),
                          sizes=rng.choice(((3, 4), (4,), (3, 4, 4), (4, 4, 5))),
                          cells=_family_cells(bank, family, rng) + ((bank[-1],) if rng.random() < 0.5 else ()),
                          contour=rng.choice(tuple(CONTOURS)), range_semitones=rng.uniform(2, 6),
                          double_rate=rng.uniform(0.05, 0.4), drop2_rate=rng.uniform(0.0, 0.6),
                          push_rate=rng.uniform(*PUSH_RATES[family]), late_rate=rng.uniform(*LATE_RATES[family]),
                          lh_push_rate=rng.uniform(0.0, 0.8), walk_rate=rng.uniform(0.2, 0.8),
                          crush_rate=rng.uniform(0.05, 0.35), fill=rng.choice(("down", "up", "turn")),
                          family=family)

    def plain(self, rng: random.Random) -> "GospelTake":
        """The same take as a plain accompanist plays it (idiom ``plain``): straight eighths at any
        tempo, octaves, root-fifth or root and fifth on half notes in the left hand (by the take's
        family), rare pushes, no crushes, no walks, 3-4 notes."""
        return replace(self, feel="straight", left_hand=PLAIN_LEFT_HANDS[self.family],
                       sizes=rng.choice(((3, 4), (4,))), cells=_family_cells(CELLS["straight"], self.family, rng),
                       double_rate=0.0, push_rate=rng.uniform(0.0, 0.15) + 0.4 * (self.family == 1),
                       late_rate=0.6 * (self.family == 2),
                       lh_push_rate=0.0, walk_rate=0.0, crush_rate=0.0)


def _cell_family(cell: Cell) -> int:
    """A comping cell's rhythm family: 0 on the beats only, 1 with an onset off the second beat
    (anticipating the next beat or the change), 2 with an onset off the first beat only."""
    off = [onset for onset, _ in cell if abs(onset - round(onset)) > 1e-6]
    return 0 if not off else (1 if max(off) > 1 else 2)


def _family_cells(bank: tuple[Cell, ...], family: int, rng: random.Random) -> tuple[Cell, ...]:
    """Three cells of ``bank`` (the closing rest left out) for a take of rhythm ``family``: its own
    family's first, the others' only where it has fewer than three."""
    own = [c for c in bank[:-1] if _cell_family(c) == family]
    others = [c for c in bank[:-1] if _cell_family(c) != family]
    picked = rng.sample(own, min(3, len(own)))
    return tuple(picked + rng.sample(others, 3 - len(picked)))


def _melody(take: GospelTake, position: float) -> float:
    """The melody's target pitch at ``position`` (0-1) through a phrase: the take's contour."""
    start, middle, end = CONTOURS[take.contour]
    if position < 0.5:
        shape = start + (middle - start) * position * 2
    else:
        shape = middle + (end - middle) * (position - 0.5) * 2
    return take.melody + take.range_semitones * shape


def _rhythm(take: GospelTake, length: float, rng: random.Random) -> list[tuple[float, float]]:
    """Cells of the take's vocabulary laid end to end over ``length`` beats; the first strikes on
    the change unless the right hand comes in late (the left hand always strikes there)."""
    out: list[tuple[float, float]] = []
    at = 0.0
    on_the_change = [c for c in take.cells if c and c[0][0] == 0] or [CELLS[take.feel][0]]
    while at < length - 1e-6:
        late = at == 0 and rng.random() < take.late_rate
        cell = rng.choice(on_the_change) if at == 0 and not late else rng.choice(
            (late and [c for c in take.cells if not c or c[0][0] > 0]) or take.cells)
        span = 2.0 if cell and cell[-1][0] + cell[-1][1] > 1.0 + 1e-6 else 1.0
        if at + span > length + 1e-6:
            cell, span = ((0, length - at),), length - at
        out += [(at + onset, min(duration, length - at - onset)) for onset, duration in cell]
        at += span
    return out or [(0.0, length)]


def _left_hand(perf: Performance, take: GospelTake, event: ChordEvent, bass: int, following: int | None,
               until: float, pushed_in: bool, velocity: float, rng: random.Random) -> None:
    """The take's left-hand pattern from ``bass`` over ``event`` up to beat ``until`` (the push),
    perhaps a walk up or down into the ``following`` bass (down only over 3 beats or more: a walk
    below a short chord's bass would be heard as its bass)."""
    chord, start = event.chord, event.start
    fifth = above(bass, (chord.bass_pc + 7) % 12 if chord.bass is None else chord.root, 5)
    span = until - start
    walk: list[int] = []
    if (following is not None and span >= 2 and until >= event.end - 1e-6 and (span >= 3 or following > bass)
            and rng.random() < take.walk_rate):
        walk = scale_walk(chord, bass, following, rng.choice((2, 3)) if span >= 3 else 1)
    walk_from = span - 0.5 * len(walk)
    pattern = LEFT_HAND_PATTERNS[take.left_hand]
    if span < 3:  # a short chord: the bass rings, so the ear names the right root
        pattern = pattern[:1]
    third = next((i for i in sorted(chord.core) if i in (3, 4, 2, 5)), 7)
    tenth = above(bass, (chord.root + third) % 12, 15)
    cycles = [(beat + 4 * cycle, shape) for cycle in range(int(span // 4) + 1) for beat, shape in pattern]
    for beat, shape in cycles:
        if beat >= walk_from - 1e-6 or (beat == 0 and pushed_in):
            continue
        parts = (shape,) if isinstance(shape, str) else shape
        pitches = [bass + p if isinstance(p, int) else {"5": fifth, "10": tenth}[p] for p in parts]
        length = min(2.0 if beat % 4 == 0 else 1.0, walk_from - beat) - 0.05
        perf.chord(start + beat, pitches, length, velocity + (4 if beat == 0 else -4))
    for step, pitch in enumerate(walk):
        perf.add(start + walk_from + 0.5 * step, pitch, 0.45, velocity - 2)


def _fill(perf: Performance, take: GospelTake, chord: Chord, start: float, length: float, top: int,
          velocity: float) -> None:
    """The take's fill over ``length`` beats from the chord's pentatonic scale and blue note."""
    minor = chord.family in ("min", "hdim", "dim")
    scale = [0, 3, 5, 7, 10] if minor else [0, 2, 4, 7, 9]
    blue = 6 if chord.family == "maj" else 3
    pcs = {(chord.root + i) % 12 for i in scale + [blue]} & set(allowed_pitch_classes(chord))
    notes = [p for p in range(max(top - 14, RIGHT_HAND_LOW), top + 1) if p % 12 in pcs]
    step = 1 / 3 if take.fill == "turn" else 0.25
    if take.fill == "down":
        notes = notes[::-1]
    elif take.fill == "turn":
        notes = [notes[-1], notes[-2], notes[-3], notes[-2], notes[-1]] * 2 if len(notes) >= 3 else notes
    for i, pitch in enumerate(notes[:int(length / step + 1e-6)]):
        perf.add(start + i * step, pitch, step, velocity - 4 - i)


def _comp(perf: Performance, take: GospelTake, chord: Chord, at: float, duration: float, melody: float,
          velocity: float, rng: random.Random, crush_from: float | None = None) -> None:
    """One right-hand voicing, perhaps doubled or spread, crushed into from a 16th before (not
    before ``crush_from``, where the chord starts)."""
    drop2 = rng.random() < take.drop2_rate
    voiced = voicing(chord, melody, rng.choice(take.sizes), RIGHT_HAND_LOW, drop2, rng)
    if rng.random() < take.double_rate and len(voiced) <= 5 and voiced[-1] - 12 >= RIGHT_HAND_LOW:
        voiced = sorted(set(voiced + [voiced[-1] - 12]))
    third = next((p for p in voiced if (p - chord.root) % 12 == 4), None)
    if (third is not None and chord.family in ("maj", "dom") and crush_from is not None
            and at - 0.25 >= crush_from - 1e-6 and rng.random() < take.crush_rate):
        perf.add(at - 0.25, third - (1 if chord.family == "dom" else 2), 0.25, velocity - 10)
    perf.chord(at, voiced, duration * 0.95, velocity + (6 if at % 1 else 0))


def _right_hand(perf: Performance, take: GospelTake, event: ChordEvent, length: float, phrase: float,
                phrase_end: bool, sus: bool, velocity: float, rng: random.Random) -> bool:
    """The comping over the first ``length`` beats of ``event``: voicings on the take's rhythm, the
    first perhaps a sus4 resolving to the 3rd, and at a phrase end a fill once the chord has been
    voiced. True when the sus4 was played (an outside note)."""
    chord, voiced_once, sus_played = event.chord, False, False
    for onset, duration in _rhythm(take, length, rng):
        melody = _melody(take, (event.start + onset) % phrase / phrase) + rng.uniform(-1.5, 1.5)
        at = event.start + onset
        if phrase_end and voiced_once and onset >= length - 1.0 - 1e-6:
            _fill(perf, take, chord, at, length - onset, int(melody) + 5, velocity)
            break
        if sus and onset == 0 and duration >= 1:
            voiced = voicing(chord, melody, 4)
            perf.chord(at, [p + 1 if (p - chord.root) % 12 == 4 else p for p in voiced], 0.5, velocity)
            perf.chord(at + 0.5, voiced, duration - 0.55, velocity - 4)
            sus, sus_played = False, True
        else:
            _comp(perf, take, chord, at, duration, melody, velocity, rng, crush_from=event.start)
        voiced_once = True
    return sus_played


def _passing_chord(chord: Chord, following: ChordEvent | None, event: ChordEvent) -> Chord | None:
    """The #IV diminished chord between IV and I, when the chart moves from a major chord down a fifth."""
    if (following is None or event.duration < 2 or chord.family != "maj"
            or abs(following.start - event.end) > 1e-6 or (following.chord.root - chord.root) % 12 != 7):
        return None
    return parse_chord(f"{ROOTS[(chord.root + 1) % 12]}dim7")


def perform(events: list[ChordEvent], beats_per_bar: float, tempo_bpm: float,
            rng: random.Random, placement: Placement = Placement(), idiom: str = "full") -> Performance:
    """Play the chart ``events`` as Gospel piano: one seeded take (see the module docstring).

    Recipe per chord: 1. decide the push and the passing chord; 2. the left hand up to the push;
    3. the right hand's comping rhythm, a fill at a phrase end, a sus resolution on a dominant;
    4. the pushed voicing (and bass) of the next chord; 5. the passing chord."""
    perf = Performance(events=events, register=REGISTER)
    take = GospelTake.draw(tempo_bpm, rng, placement)
    take = take.plain(rng) if idiom == "plain" else take
    loud = (66, 94) if idiom == "full" else (56, 80)  # the plain accompanist stays under the singer
    basses = bass_line(events, take.bass_low, take.bass_low + 12, rng, rng.uniform(0.1, 0.4))
    melody, outside_budget, pushed_in = take.melody, max(1, len(events) // 4), False
    phrase = 4 * beats_per_bar
    for index, event in enumerate(events):
        chord = event.chord
        following = events[index + 1] if index + 1 < len(events) else None
        following = following if following is not None and not following.chord.is_no_chord else None
        if chord.is_no_chord:
            _no_chord(perf, take, events, index, melody)
            pushed_in = False
            continue
        velocity = dynamics(event.start, phrase, *loud)  # 1. the push and the passing chord
        passing = _passing_chord(chord, following, event) if outside_budget and rng.random() < 0.5 else None
        outside_budget -= passing is not None
        body = event.duration - (1.0 if passing else 0.0)
        pushing = following is not None and not passing and body >= 1 and rng.random() < take.push_rate
        push = PUSH_BEATS[take.feel] if pushing else 0
        lh_push = bool(push) and following.duration >= 2 and rng.random() < take.lh_push_rate
        walk_to = basses[index + 1] if following and not push and not passing else None  # 2. left hand
        _left_hand(perf, take, event, basses[index], walk_to, event.start + body - push, pushed_in,
                   velocity - 4, rng)
        # 3. the right hand
        phrase_end = following is not None and abs(event.end % phrase) < 1e-6 and not passing and body >= 2
        sus = chord.family == "dom" and body >= 3 and outside_budget > 0 and rng.random() < 0.3
        outside_budget -= _right_hand(perf, take, event, body - push, phrase, phrase_end, sus, velocity, rng)
        melody = _melody(take, event.end % phrase / phrase)
        pushed_in = False
        if push:  # 4. the next chord, pushed
            at = event.end - push
            _comp(perf, take, following.chord, at, 1.0 + push, melody, velocity + 2, rng)
            if lh_push:
                low = basses[index + 1]
                pushed_in = perf.chord(at, [low, low + 12], 1.0 + push, velocity)
        if passing is not None:  # 5. the passing chord
            at = event.end - 1
            perf.add(at, nearest(passing.root, basses[index] + 1), 0.95, velocity - 4)
            perf.chord(at, voicing(passing, melody, 4), 0.95, velocity)
        if take.feel == "shuffle" or rng.random() < 0.3:
            perf.pedal.append((event.start + 0.02, event.end - 0.05))
    return perf


def _no_chord(perf: Performance, take: GospelTake, events: list[ChordEvent], index: int,
              melody: float) -> None:
    """A N.C. bar is a break: the right hand alone plays a fill on the chord before it (or after it)."""
    event = events[index]
    chord = previous_chord(events, index) or next_chord(events, index)
    if chord is not None:
        _fill(perf, take, chord, event.start, min(event.duration, 2.0), int(melody) + 5, 80)
        if event.duration >= 3:
            perf.add(event.start + 2.0, nearest(chord.root, melody), event.duration - 2.1, 72)
