"""Gospel piano from a chord chart (MUSIC.md, "Gospel piano").

Each seed draws a *take* (GospelTake): a left-hand pattern (octaves, root-fifth-octave, tenths, a
syncopated pump, a walking octave line) on a bass line that moves by the smallest steps (now and
then an octave leap) in the take's bass register, with walks into the next root; a comping rhythm
for the feel (12/8 shuffle under 76 bpm, straight 8ths or 12/8 to 110, 16ths or straight 8ths
above) in one of three families that never strike together in the right hand (on the beat; on the
"and", with chords pushed to the last "and" by both hands or the right hand alone; on the 16th
pickups), how densely and how legato it comps; a melody register and contour, voicing size
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
HIGH_BASS_LOW = 40    # a take's bass line keeps to the low octave (28-39) or the one above (40-52)
DARK_HAND_LOW = 48    # down to C3 in a take whose bass line keeps to the low octave (28-39)
# Where in each beat the right hand strikes, by rhythm family (a take's placement family): 0 on the
# beat (and on the change), 1 on the "and" (the shuffle's last triplet), pushing into the change,
# 2 on the 16th pickups (the shuffle's middle triplet), stabs against the beat. Neither of the last
# two strikes on the change, which the left hand takes alone, so takes of other families never
# strike together in the right hand, wherever they sit.
OFFSETS = ({"straight": (0.0,), "shuffle": (0.0,), "sixteenths": (0.0,)},
           {"straight": (0.5,), "shuffle": (2 / 3,), "sixteenths": (0.5,)},
           {"straight": (0.75,), "shuffle": (1 / 3,), "sixteenths": (0.25, 0.75)})
PLAIN_OFFSETS = ((0.0,), (0.5,), (0.5,))  # the plain accompanist in straight eighths
DENSITIES = ((0.9, 1.0), (0.85, 1.0), (0.75, 1.0))  # by family: the share of its places a take strikes
HOLDS = ((0.8, 0.95), (0.55, 0.95), (0.35, 0.75))  # by family: the share of the gap to the next strike held
CONTOURS = {  # the melody's shape over a phrase, -1..1 at its start, middle and end
    "arch": (-1.0, 1.0, -0.5), "fall": (1.0, 0.0, -1.0), "rise": (-1.0, 0.0, 1.0), "valley": (1.0, -1.0, 0.5),
}
# The feels a take may draw: slow (under 76 bpm), mid (to 110), shout (above)
FEELS = (("shuffle",), ("straight", "straight", "shuffle"), ("sixteenths", "sixteenths", "straight"))
PUSH_BEATS = {"straight": 0.5, "shuffle": 1 / 3, "sixteenths": 0.5}
# (beat, intervals above the bass, or "5" / "10": the chord's fifth / tenth), repeated every 4 beats
LEFT_HAND_PATTERNS = {
    "octaves": ((0, (0, 12)), (1, (0, 12)), (2, (0, 12)), (3, (0, 12))),
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
# How often the right hand pushes into the next chord, by rhythm family: the offbeat family pushes
# most, the others seldom (a push strikes on the offbeat family's beats)
PUSH_RATES = ((0.0, 0.15), (0.6, 0.9), (0.0, 0.15))
LH_PUSH_RATES = ((0.0, 0.5), (0.6, 1.0), (0.0, 0.5))  # how often the left hand pushes with the right


@dataclass(frozen=True)
class GospelTake:
    """The choices one seed makes for a whole take."""

    feel: str
    left_hand: str
    bass_low: int          # lowest bass pitch; the bass line moves inside the octave above it (below
                           # HIGH_BASS_LOW, where it starts there)
    melody: float          # centre of the right hand's top note
    contour: str           # its shape over a phrase (CONTOURS)
    range_semitones: float # how far it moves from the centre
    sizes: tuple[int, ...]
    offsets: tuple[float, ...]  # where in each beat (from the beat) the right hand strikes
    density: float         # share of those places it strikes
    hold: float            # share of the gap to the next strike a voicing is held
    double_rate: float     # melody doubled an octave down
    drop2_rate: float
    push_rate: float
    late_rate: float       # the on-the-beat family's right hand leaves the change to the left hand
    lh_push_rate: float    # the left hand pushes with the right
    walk_rate: float
    crush_rate: float
    fill: str              # down | up | turn
    family: int            # rhythm family (0-2): its left hands and the beats its right hand strikes
    hand_low: int = RIGHT_HAND_LOW  # the right hand's lowest note

    @staticmethod
    def draw(tempo_bpm: float, rng: random.Random, placement: Placement = Placement()) -> "GospelTake":
        """A take at ``tempo_bpm``; ``placement`` sets its melody (low and warm to high and bright),
        its bass register and its rhythm family: the left hands it draws from and the beats its right
        hand strikes (OFFSETS), so takes of other families strike on other beats."""
        feel = rng.choice(FEELS[0 if tempo_bpm < 76 else (1 if tempo_bpm <= 110 else 2)])
        family = placement.family
        hands = tuple(h for h in LEFT_HAND_FAMILIES[family] if feel == "shuffle" or h != "tenths")
        return GospelTake(feel=feel, left_hand=rng.choice(hands), bass_low=28 + round(12 * placement.bass),
                          melody=61 + 29 * placement.upper + rng.uniform(-1, 1),
                          sizes=rng.choice(((4,), (4, 5), (4, 4, 5))),
                          offsets=OFFSETS[family][feel], density=rng.uniform(*DENSITIES[family]),
                          hold=rng.uniform(*HOLDS[family]),
                          contour=rng.choice(tuple(CONTOURS)), range_semitones=rng.uniform(2, 6),
                          double_rate=rng.uniform(0.05, 0.4), drop2_rate=rng.uniform(0.0, 0.6),
                          push_rate=rng.uniform(*PUSH_RATES[family]), late_rate=rng.uniform(0.1, 0.3),
                          lh_push_rate=rng.uniform(*LH_PUSH_RATES[family]), walk_rate=rng.uniform(0.2, 0.8),
                          crush_rate=rng.uniform(0.15, 0.45), fill=rng.choice(("down", "up", "turn")),
                          family=family, hand_low=DARK_HAND_LOW if placement.bass < 0.5 else RIGHT_HAND_LOW)

    def plain(self, rng: random.Random) -> "GospelTake":
        """The same take as a plain accompanist plays it (idiom ``plain``): straight eighths at any
        tempo, octaves, root-fifth or root and fifth on half notes in the left hand (by the take's
        family), rare pushes, no crushes, no walks, 3-4 notes."""
        return replace(self, feel="straight", left_hand=PLAIN_LEFT_HANDS[self.family],
                       sizes=rng.choice(((3, 4), (4,))), offsets=PLAIN_OFFSETS[self.family], hold=0.9,
                       double_rate=0.0, push_rate=rng.uniform(0.0, 0.15) + 0.4 * (self.family == 1),
                       lh_push_rate=0.0, walk_rate=0.0, crush_rate=0.0)


def _melody(take: GospelTake, position: float) -> float:
    """The melody's target pitch at ``position`` (0-1) through a phrase: the take's contour."""
    start, middle, end = CONTOURS[take.contour]
    if position < 0.5:
        shape = start + (middle - start) * position * 2
    else:
        shape = middle + (end - middle) * (position - 0.5) * 2
    return take.melody + take.range_semitones * shape


def _rhythm(take: GospelTake, length: float, rng: random.Random,
            held: bool = False) -> list[tuple[float, float]]:
    """The right hand's strikes over the first ``length`` beats of a chord, as (onset, duration)
    from the change: at the take's places in each beat (OFFSETS), with the take's density, each held
    towards the next. The on-the-beat family strikes on the change unless it comes in late; a
    ``held`` chord (pushed into) rings through the first beat and may not be struck again; a chord
    too short for any of the take's places is struck on the change or just after it."""
    places = [beat + offset for beat in range(int(length + 1 - 1e-6)) for offset in take.offsets]
    places = [p for p in places if (1.0 - 1e-6 if held else 0) < p < length - 1e-6]
    onsets = [p for p in places if rng.random() < take.density] or places[:1]
    if take.family == 0 and not held and (not onsets or rng.random() >= take.late_rate):
        onsets = [0.0] + onsets
    if not onsets and not held:
        onsets = [0.0 if take.family == 0 else min(take.offsets[0], length / 2)]
    ends = onsets[1:] + [length]
    return [(at, max(0.25, (end - at) * take.hold) if end < length else end - at)
            for at, end in zip(onsets, ends)]


def _over_bass(take: GospelTake, chord: Chord, bass: int, part: int | str) -> int:
    """The left hand's pitch for ``part`` of a pattern over ``bass``: an interval, or "5" / "10" (the
    chord's fifth / tenth). Where the pattern doubles the bass an octave up, a take whose bass keeps
    to the low octave plays the tenth: the octave above the low bass is the other bass octave's bass."""
    if part == 12 and take.bass_low < HIGH_BASS_LOW:
        part = "10"
    if isinstance(part, int):
        return bass + part
    if part == "5":  # the chord's own fifth (b5, #5), its root over a slash bass
        fifth = next((i for i in sorted(chord.core) if i in (7, 6, 8)), 7)
        return above(bass, (chord.root + fifth) % 12 if chord.bass is None else chord.root, 5)
    third = next((i for i in sorted(chord.core) if i in (3, 4, 2, 5)), 7)
    return above(bass, (chord.root + third) % 12, 15)


def _left_hand(perf: Performance, take: GospelTake, event: ChordEvent, bass: int, following: int | None,
               until: float, pushed_in: bool, velocity: float, rng: random.Random) -> None:
    """The take's left-hand pattern from ``bass`` over ``event`` up to beat ``until`` (the push),
    perhaps a walk up or down into the ``following`` bass (down only over 3 beats or more: a walk
    below a short chord's bass would be heard as its bass)."""
    chord, start = event.chord, event.start
    span = until - start
    walk: list[int] = []
    if (following is not None and span >= 2 and until >= event.end - 1e-6 and (span >= 3 or following > bass)
            and rng.random() < take.walk_rate):
        walk = scale_walk(chord, bass, following, rng.choice((2, 3)) if span >= 3 else 1)
    walk_from = span - 0.5 * len(walk)
    pattern = LEFT_HAND_PATTERNS[take.left_hand]
    if span < 3:  # a short chord: the bass rings, so the ear names the right root
        pattern = pattern[:1]
    cycles = [(beat + 4 * cycle, shape) for cycle in range(int(span // 4) + 1) for beat, shape in pattern]
    for beat, shape in cycles:
        if beat >= walk_from - 1e-6 or (beat == 0 and pushed_in):
            continue
        parts = (shape,) if isinstance(shape, str) else shape
        if beat % 4 == 0 and take.family:  # the bass alone where the pattern starts again, as
            parts = parts[:1]              # the on-the-beat family doubles it there
        pitches = [_over_bass(take, chord, bass, p) for p in parts]
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
    notes = [p for p in range(max(top - 14, take.hand_low), top + 1) if p % 12 in pcs]
    step = 1 / 3 if take.fill == "turn" else 0.25
    if take.fill == "down":
        notes = notes[::-1]
    elif take.fill == "turn":
        notes = [notes[-1], notes[-2], notes[-3], notes[-2], notes[-1]] * 2 if len(notes) >= 3 else notes
    for i, pitch in enumerate(notes[:int(length / step + 1e-6)]):
        perf.add(start + i * step, pitch, step, velocity - 4 - i)


def _comp(perf: Performance, take: GospelTake, chord: Chord, at: float, duration: float, melody: float,
          velocity: float, rng: random.Random, crush_from: float | None = None) -> bool:
    """One right-hand voicing, perhaps doubled or spread, crushed into from a 16th before (not
    before ``crush_from``, where the chord starts); False when a note of it was refused."""
    drop2 = rng.random() < take.drop2_rate
    voiced = voicing(chord, melody, rng.choice(take.sizes), take.hand_low, drop2, rng)
    if rng.random() < take.double_rate and len(voiced) <= 5 and voiced[-1] - 12 >= take.hand_low:
        voiced = sorted(set(voiced + [voiced[-1] - 12]))
    third = next((p for p in voiced if (p - chord.root) % 12 == 4), None)
    if (third is not None and chord.family in ("maj", "dom") and crush_from is not None
            and at - 0.25 >= crush_from - 1e-6 and rng.random() < take.crush_rate):
        perf.add(at - 0.25, third - (1 if chord.family == "dom" else 2), 0.25, velocity - 10)
    return perf.chord(at, voiced, duration * 0.95, velocity + (6 if at % 1 else 0))


def _right_hand(perf: Performance, take: GospelTake, event: ChordEvent, length: float, phrase: float,
                phrase_end: bool, sus: bool, velocity: float, rng: random.Random, held: bool = False) -> bool:
    """The comping over the first ``length`` beats of ``event``: voicings on the take's rhythm, the
    first perhaps a sus4 resolving to the 3rd, and at a phrase end a fill once the chord has been
    voiced (from its last beat at the latest); ``held``: the chord was pushed and rings over the
    change. True when the sus4 was played (an outside note)."""
    chord, voiced_once, sus_played = event.chord, held, False
    for onset, duration in _rhythm(take, length, rng, held) + [(length, 0.0)]:
        melody = _melody(take, (event.start + onset) % phrase / phrase) + rng.uniform(-1.5, 1.5)
        at = event.start + onset
        if phrase_end and voiced_once and onset >= length - 1.0 - 1e-6:
            onset = min(onset, length - 1.0)
            _fill(perf, take, chord, event.start + onset, length - onset, int(melody) + 5, velocity)
            break
        if onset >= length:
            break
        if sus and not voiced_once and duration >= 0.75:
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
    bass_high = take.bass_low + 12 if take.bass_low >= HIGH_BASS_LOW else HIGH_BASS_LOW - 1
    basses = bass_line(events, take.bass_low, bass_high, rng, rng.uniform(0.1, 0.4))
    melody, outside_budget, pushed_in, rh_pushed_in = take.melody, max(1, len(events) // 4), False, False
    phrase = 4 * beats_per_bar
    for index, event in enumerate(events):
        chord = event.chord
        following = events[index + 1] if index + 1 < len(events) else None
        following = following if following is not None and not following.chord.is_no_chord else None
        if chord.is_no_chord:
            _no_chord(perf, take, events, index, melody)
            pushed_in = rh_pushed_in = False
            continue
        velocity = dynamics(event.start, phrase, *loud)  # 1. the push and the passing chord
        passing = _passing_chord(chord, following, event) if outside_budget and rng.random() < 0.5 else None
        outside_budget -= passing is not None
        body = event.duration - (1.0 if passing else 0.0)
        rings = 1.0 + PUSH_BEATS[take.feel] * rh_pushed_in  # a pushed-in voicing rings through the first beat
        pushing = following is not None and not passing and body >= rings and rng.random() < take.push_rate
        push = PUSH_BEATS[take.feel] if pushing else 0
        lh_push = bool(push) and following.duration >= 2 and rng.random() < take.lh_push_rate
        walk_to = basses[index + 1] if following and not push and not passing else None  # 2. left hand
        _left_hand(perf, take, event, basses[index], walk_to, event.start + body - push, pushed_in,
                   velocity - 4, rng)
        # 3. the right hand
        phrase_end = following is not None and abs(event.end % phrase) < 1e-6 and not passing and body >= 2
        sus = chord.family == "dom" and body >= 3 and outside_budget > 0 and rng.random() < 0.3
        outside_budget -= _right_hand(perf, take, event, body - push, phrase, phrase_end, sus, velocity, rng,
                                      held=rh_pushed_in)
        melody = _melody(take, event.end % phrase / phrase)
        pushed_in = rh_pushed_in = False
        if push:  # 4. the next chord, pushed
            at = event.end - push
            rh_pushed_in = _comp(perf, take, following.chord, at, 1.0 + push, melody, velocity + 2, rng)
            if lh_push:
                low = basses[index + 1]
                doubled = _over_bass(take, following.chord, low, 12)
                pushed_in = perf.chord(at, [low, doubled], 1.0 + push, velocity)
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
