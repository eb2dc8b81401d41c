"""Brad Mehldau-inspired piano from a chord chart (MUSIC.md, "Brad Mehldau-inspired piano").

Each seed draws a *take* (MehldauTake). Left hand: a broken-chord ostinato (root, fifth, octave,
ninth, tenth in one of several orders) in eighths grouped against the meter (3+3+2, 3+2+3 or 2+3+3
in 4/4, 3+2 in 5/4, 2+2+3 in 7/4 ...) or in triplets (four or five against three), two figures
and groupings alternating by phrase; or a slower version that holds each group's first note; or
tenth shells; all on a bass line that moves by the smallest steps in the take's bass register.
Middle: open voicings (seconds inside, or spread towards fourths) entering on the change or a little
after it, held or re-struck, while an inner voice moves stepwise through the chord's tensions.
Right hand: a line in phrases that breathe, in the take's register, whose opening motif returns
displaced by a beat, with wide dynamics and long pedal. A N.C. bar is a break: a short line alone.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

from ...music.chords import Chord, ChordEvent
from .common import (Performance, Placement, above, allowed_pitch_classes, bass_line, colour_intervals,
                     dynamics, nearest, next_chord, previous_chord)

REGISTER = (28, 100)  # MIDI: E1 to E7
HIGH_BASS_LOW = 40    # the low bass register (28-39) and the one above (40-53) share no key
MIDDLE_HIGH = 84      # the middle voicings stay below C6, under the right hand's line
OSTINATO_SHAPES = (  # intervals above the bass for the broken-chord figure
    (0, 7, 16, 7), (0, 7, 14, 16), (0, 7, 12, 16), (0, 16, 7, 14), (0, 12, 7, 16), (0, 14, 16, 7),
)
# The figures each rhythm family draws from: the first family's climb by the fifth, the second's
# leap past it, so that two takes in one bass register play other notes on one eighth
SHAPES_BY_FAMILY = (OSTINATO_SHAPES[:3], OSTINATO_SHAPES[3:], OSTINATO_SHAPES)
GROUPINGS = {  # eighths per group, by quarter notes a bar; the first two start their groups apart
    3: ((3, 3), (2, 2, 2), (3, 3)), 4: ((3, 3, 2), (2, 3, 3), (3, 2, 3)), 5: ((3, 2), (2, 3), (3, 3, 2, 2)),
    6: ((3, 3), (2, 2, 2)), 7: ((2, 2, 3), (3, 2, 2), (2, 3, 2)),
}
RHYTHMS = ((1.0, 0.5, 0.5, 1.0, 1.0), (1.5, 0.5, 1.0, 1.0), (0.5, 0.5, 0.5, 0.5, 2.0), (2.0, 1.0, 1.0),
           (0.75, 0.25, 1.0, 0.5, 0.5, 1.0), (1.0, 1.0, 0.5, 0.5, 1.0), (0.5, 1.0, 0.5, 2.0),
           (2 / 3, 2 / 3, 2 / 3, 1.0, 1.0), (1.5, 1.5, 1.0))

# Beats after the change the middle voicing comes in, by the take's rhythm family and then its bass
# register (low, high; the last over a chord too short for those): on a beat, on an "and", on a
# triplet, so that takes of other levels seldom strike it together; it is struck again two beats
# after it comes in, or half way through the chord (in whole beats)
ENTRIES = ((0.0, 1.0, 0.0), (0.5, 1.5, 0.5), (2 / 3, 4 / 3, 1 / 3))
# How far after the bass the "tenths" left hand strikes the tenth, by rhythm family: together, an
# eighth, a triplet later (a rolled tenth), so that takes in one bass register part after the bass
TENTH_ROLLS = (0.0, 0.5, 1 / 3)
# Where the plain accompanist's middle voicing comes in, by the take's rhythm family: on the change,
# on the "and" after the bass, or on the next beat (over the tenth shell)
PLAIN_ENTRIES = ((0.0, 0.0), (1.0, 0.0), (0.5, 0.5))  # (entry, over a short chord)
PLAIN_RHYTHMS = tuple(r for r in RHYTHMS if all(d * 2 == int(d * 2) for d in r))


@dataclass(frozen=True)
class MehldauTake:
    """The choices one seed makes for a whole take."""

    left_hand: str                  # ostinato | held | tenths | rolled (plain only)
    shapes: tuple[tuple[int, ...], ...]
    groupings: tuple[tuple[int, ...], ...]
    pulse: float                    # beats per left-hand note: 1/2 or 1/3
    triplet_grouping: tuple[int, ...]
    bass_low: int                   # lowest bass pitch: the line keeps to 28-39 or 40-53
    middle: float                   # centre of the open voicings
    restrike: str                   # hold | half (struck again half way) | beats (two beats after it came in)
    spacing: int                    # least semitones between neighbours in the middle voicing
    entries: tuple[float, float]    # beats after the change the middle voicing comes in; the second
                                    # over a chord too short for the first
    line_low: int
    rhythms: tuple[tuple[float, ...], ...]
    family: int                     # rhythm family (0-2): pulse, groupings, entries, plain left hand

    @staticmethod
    def draw(beats_per_bar: float, rng: random.Random, placement: Placement = Placement()) -> "MehldauTake":
        """A take in a bar of ``beats_per_bar``; ``placement`` sets its middle voicings and bass
        register, and by its rhythm family the pulse (triplets in the third family, eighths in the
        others), the groupings its phrases alternate (the eighth families the meter's first two, in
        opposite turns), the figures it draws (SHAPES_BY_FAMILY) and, with its bass register, where
        the middle voicing comes in (ENTRIES), so that takes of other levels strike other notes on
        other eighths."""
        meter = GROUPINGS.get(int(round(beats_per_bar)), GROUPINGS[4])
        family = placement.family
        left_hand = rng.choice(("ostinato", "ostinato", "ostinato", "held", "tenths"))
        shapes = tuple(rng.sample(SHAPES_BY_FAMILY[family], 2))
        if family < 2:  # the eighth families alternate the meter's first two groupings, in turn
            groupings = (meter[family], meter[1 - family])
        else:
            groupings = (meter[2 % len(meter)], rng.choice(meter))
        pulse = 1 / 3 if family == 2 else 0.5
        triplet_grouping = rng.choice(((4,), (5,)))  # off the beats the eighth families start on
        middle = 56 + 22 * placement.upper + rng.uniform(-1, 1)
        restrike, spacing = rng.choice(("hold", "half", "beats")), rng.choice((1, 2, 3, 5))
        entries = (ENTRIES[family][round(placement.bass)], ENTRIES[family][2])
        return MehldauTake(left_hand=left_hand, shapes=shapes, groupings=groupings, pulse=pulse,
                           triplet_grouping=triplet_grouping, bass_low=28 + round(12 * placement.bass),
                           middle=middle, restrike=restrike, spacing=spacing, entries=entries,
                           line_low=round(60 + 12 * placement.upper) + rng.randint(-1, 1),
                           rhythms=tuple(rng.sample(RHYTHMS, 3)), family=family)

    def plain(self, rng: random.Random) -> "MehldauTake":
        """The same take as a plain accompanist plays it (idiom ``plain``): no ostinato (held
        bass notes, tenth shells, or the figure's notes one a group, by the take's family), eighth
        pulse, the middle voicing held, on the change or soon after it (PLAIN_ENTRIES), the line in
        quarters and eighths."""
        return replace(self, left_hand=("held", "tenths", "rolled")[self.family], pulse=0.5,
                       restrike="hold", entries=PLAIN_ENTRIES[self.family],
                       rhythms=tuple(rng.sample(PLAIN_RHYTHMS, 3)))


def _third(chord: Chord) -> int:
    """The chord's 3rd (or sus tone) as an interval."""
    return next((i for i in sorted(chord.core) if i in (3, 4, 5, 2)), 7)


def _fifth(chord: Chord) -> int:
    return next((i for i in sorted(chord.core) if i in (6, 7, 8)), 7)


def _figure(chord: Chord, bass: int, shape: tuple[int, ...]) -> list[int]:
    """The ostinato's pitches: the bass (root or slash bass), then the chord's 5th, octave, 9th and
    10th counted from its root and placed above the bass (the root instead of the 9th over a slash bass)."""
    intervals = {0: 0, 7: _fifth(chord), 12: 0, 14: 0 if chord.bass is not None else 2, 16: _third(chord)}
    allowed = set(allowed_pitch_classes(chord))
    figure = [bass]
    for interval in shape[1:]:
        pc = (chord.root + intervals[interval]) % 12
        pc = pc if pc in allowed else chord.root
        pitch = nearest(pc, bass + interval)
        while pitch <= bass + 2:
            pitch += 12
        figure.append(pitch)
    return figure


def _left_hand(perf: Performance, take: MehldauTake, event: ChordEvent, bass: int, phrase: int,
               velocity: float) -> None:
    """The take's left hand over one chord: the figure in eighths (or triplets) grouped against the
    meter, each group starting on the bass; "rolled" strikes the figure's next note at each group
    and holds it (the bass on the change); "held" strikes only each group's first note and holds
    it, "tenths" holds the bass with its tenth, struck with it or rolled after it (TENTH_ROLLS)."""
    chord = event.chord
    figure = _figure(chord, bass, take.shapes[phrase % 2])
    tenth = above(bass, (chord.root + _third(chord)) % 12, 15)
    grouping = take.groupings[phrase % 2] if take.pulse == 0.5 else take.triplet_grouping
    pulses = max(1, int(round(event.duration / take.pulse)))
    group, in_group, size = 0, 0, grouping[0]
    for pulse in range(pulses):
        at = event.start + pulse * take.pulse
        if in_group == 0 or take.left_hand == "ostinato":
            held = take.pulse * (size if take.left_hand != "ostinato" else (1.8 if in_group == 0 else 1.0))
            if take.left_hand == "tenths":  # the tenth with the bass or rolled after it, by family
                roll = TENTH_ROLLS[take.family] if at + TENTH_ROLLS[take.family] < event.end - 0.25 else 0.0
                pitches = [bass] + ([] if roll else [tenth])
                if roll:
                    perf.add(at + roll, tenth, min(held, event.end - at) - roll, velocity - 6)
            elif take.left_hand == "rolled":
                pitches = [figure[group % len(figure)]]
            else:
                pitches = [figure[in_group % len(figure)]]
            perf.chord(at, pitches, min(held, event.end - at), velocity + (8 if in_group == 0 else 0) - 6)
        in_group += 1
        if in_group >= size:
            group, in_group = group + 1, 0
            size = grouping[group % len(grouping)]


def _open_voicing(chord: Chord, centre: float, spacing: int, floor: int, rng: random.Random) -> list[int]:
    """3-4 notes about ``centre`` (all above ``floor``): the 3rd and 7th (either lowest)
    and one or two of the chord's colours, each at least ``spacing`` semitones above the last (2:
    seconds inside, 5: a quartal-like spread); over a slash bass the chord's root is among them."""
    sevenths = [(chord.root + i) % 12 for i in sorted(chord.core) if i in (9, 10, 11)]
    guide = [(chord.root + _third(chord)) % 12] + sevenths[:1]
    if _fifth(chord) != 7 and _fifth(chord) in chord.core:  # a b5 or #5 names the chord
        guide.append((chord.root + _fifth(chord)) % 12)
    colours = [pc for pc in ((chord.root + i) % 12 for i in colour_intervals(chord)) if pc not in guide]
    colours = [pc for pc in colours if pc != chord.root][:3]
    pcs = rng.sample(guide, len(guide)) + rng.sample(colours, min(len(colours), rng.choice((1, 2))))
    if chord.bass is not None and chord.root not in pcs:
        pcs.append(chord.root)
    pitches = [nearest(pcs[0], max(centre, floor + 6))]
    remaining = pcs[1:]
    while remaining:  # stack each next tone as low as the spacing allows: open, never sprawling
        pc = min(remaining, key=lambda c: (c - pitches[-1] - spacing) % 12)
        remaining.remove(pc)
        pitches.append(pitches[-1] + spacing + ((pc - pitches[-1] - spacing) % 12))
    shift = 12 * round((centre - sum(pitches) / len(pitches)) / 12)  # the voicing sits about the centre
    pitches = [p + shift for p in pitches]
    while pitches[0] <= floor:
        pitches = [p + 12 for p in pitches]
    while pitches[-1] > MIDDLE_HIGH and pitches[0] - 12 > floor:
        pitches = [p - 12 for p in pitches]
    return pitches


def _middle(perf: Performance, take: MehldauTake, event: ChordEvent, bass: int, velocity: float,
            rng: random.Random) -> None:
    """The open voicing, entering on the change or (displaced) a little after it: its outer notes
    held or re-struck while its second-highest note moves stepwise through allowed tones."""
    floor = max(bass + 2, 47)
    held = _open_voicing(event.chord, take.middle + rng.uniform(-3, 3), take.spacing, floor, rng)
    allowed = set(allowed_pitch_classes(event.chord))
    entry, short = take.entries
    entry = entry if event.duration >= entry + 1 else short if event.duration >= 1 else 0.0
    span = event.duration - entry
    if len(held) < 3 or span < 2:
        perf.chord(event.start + entry, held, span * 0.97, velocity)
        return
    strikes = [entry]
    if span >= 3 and take.restrike != "hold":
        strikes.append(entry + (round(span / 2) if take.restrike == "half" else 2.0))
    inner = held[-2]
    outer = [p for p in held if p != inner]
    for i, at in enumerate(strikes):
        end = strikes[i + 1] if i + 1 < len(strikes) else event.duration
        perf.chord(event.start + at, outer, (end - at) * 0.97, velocity - 4 * i)
    direction = rng.choice((-1, 1))
    candidates = [p for p in range(inner - 4, inner + 5) if p % 12 in allowed and p not in outer]
    path = [p for p in sorted(candidates, reverse=direction < 0) if (p - inner) * direction >= 0]
    path = path[:int(span)] or [inner]
    length = span / len(path)
    for i, pitch in enumerate(path):
        perf.add(event.start + entry + i * length, pitch, length * 0.95, velocity - 8)


def _line_pitch(previous: int, chord: Chord, rng: random.Random, low: int, high: int) -> int:
    """The next pitch of the right-hand line: a step or small leap to an allowed tone."""
    allowed = set(allowed_pitch_classes(chord))
    options = [p for p in range(max(low, previous - 5), min(high, previous + 5) + 1)
               if p % 12 in allowed and p != previous]
    if not options:
        return nearest(chord.root, (low + high) / 2)
    weights = [3.0 if abs(p - previous) <= 2 else 1.0 for p in options]
    return rng.choices(options, weights)[0]


def _event_at(events: list[ChordEvent], beat: float) -> ChordEvent | None:
    for event in events:
        if event.start - 1e-9 <= beat < event.end - 1e-9:
            return event
    return None


def _right_line(perf: Performance, take: MehldauTake, events: list[ChordEvent], beats_per_bar: float,
                rng: random.Random) -> None:
    """The melody in 2-bar phrases that end with a rest; every second phrase restates the opening
    motif's rhythm displaced by one beat. A note never rings past a chord change."""
    total = max((e.end for e in events), default=0.0)
    motif = list(take.rhythms[0])
    low, high = take.line_low, take.line_low + 20
    pitch = rng.randint(low + 3, high - 5)
    phrase_len = 2 * beats_per_bar
    for index in range(int(-(-total // phrase_len))):
        phrase_start = index * phrase_len
        phrase_end = min(phrase_start + phrase_len, total)
        rhythm = motif if index % 2 or index == 0 else list(rng.choice(take.rhythms))
        beat = phrase_start + (1.0 if index % 2 else rng.choice((0.0, 0.5)))
        step = 0
        while beat + rhythm[step % len(rhythm)] <= phrase_end - 0.75:
            duration = rhythm[step % len(rhythm)]
            event = _event_at(events, beat)
            if event is not None and not event.chord.is_no_chord:
                pitch = _line_pitch(pitch, event.chord, rng, low, high)
                length = min(duration * 0.92, event.end - beat)
                perf.add(beat, pitch, length, dynamics(beat, 4 * beats_per_bar, 40, 96))
            beat += duration
            step += 1


def _break(perf: Performance, take: MehldauTake, events: list[ChordEvent], index: int,
           rng: random.Random) -> None:
    """A N.C. bar: a short line alone on the chord before it (or after it), then silence."""
    event = events[index]
    chord = previous_chord(events, index) or next_chord(events, index)
    if chord is None:
        return
    pitch, beat = take.line_low + 10, event.start
    for duration in take.rhythms[-1]:
        if beat + duration > event.end - 0.5:
            break
        pitch = _line_pitch(pitch, chord, rng, take.line_low, take.line_low + 20)
        perf.add(beat, pitch, duration * 0.9, 70)
        beat += duration
    if beat == event.start:
        perf.add(beat, nearest(chord.root, take.line_low + 10), event.duration * 0.9, 70)


def perform(events: list[ChordEvent], beats_per_bar: float, tempo_bpm: float,
            rng: random.Random, placement: Placement = Placement(), idiom: str = "full") -> Performance:
    """Play the chart ``events`` in a Mehldau-inspired style: one seeded take (see the module docstring)."""
    perf = Performance(events=events, register=REGISTER)
    take = MehldauTake.draw(beats_per_bar, rng, placement)
    take = take.plain(rng) if idiom == "plain" else take
    loud = (38, 84) if idiom == "full" else (50, 72)  # the plain accompanist's dynamics are narrower
    bass_high = take.bass_low + 13 if take.bass_low >= HIGH_BASS_LOW else HIGH_BASS_LOW - 1
    basses = bass_line(events, take.bass_low, bass_high, rng, rng.uniform(0.1, 0.4))
    phrase = 4 * beats_per_bar
    for index, event in enumerate(events):
        if event.chord.is_no_chord:
            _break(perf, take, events, index, rng)
            continue
        velocity = dynamics(event.start, phrase, *loud)
        _left_hand(perf, take, event, basses[index], int(event.start // phrase), velocity)
        _middle(perf, take, event, basses[index], velocity - 6, rng)
        perf.pedal.append((event.start + 0.02, event.end - 0.05))
    _right_line(perf, take, events, beats_per_bar, rng)
    return perf
