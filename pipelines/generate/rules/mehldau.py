"""Brad Mehldau-inspired piano from a chord chart (MUSIC.md, "Brad Mehldau-inspired piano").

Left hand: a broken-chord ostinato (root, fifth, ninth, tenth) grouped in threes against the
meter (3-against-4), or 3+2 / 2+2+3 in 5/4 and 7/4. Middle: open voicings with seconds (3rd and
9th side by side, 13th against the 7th) held while an inner voice moves stepwise through the
chord's tensions. Right hand: a contrapuntal line in 2-bar phrases that breathe, whose opening
motif returns displaced by a beat; wide dynamics (pp to f within a phrase) and long pedal.
"""
from __future__ import annotations

import random

from ...music.chords import Chord, ChordEvent
from .common import Performance, allowed_pitch_classes, bass_pitch, dynamics, nearest

OSTINATO_SHAPES = (  # intervals above the bass for the broken-chord figure
    (0, 7, 16, 7),    # root, 5th, 10th, 5th
    (0, 7, 14, 16),   # root, 5th, 9th, 10th
    (0, 16, 7, 14),   # root, 10th, 5th, 9th
)
GROUPINGS = {3: (3,), 4: (3, 3, 2), 5: (3, 2), 6: (3, 3), 7: (2, 2, 3)}


def _third(chord: Chord) -> int:
    """The chord's 3rd (or sus tone) as an interval."""
    return next((i for i in sorted(chord.core) if i in (3, 4, 5, 2)), 7)


def _fifth(chord: Chord) -> int:
    return next((i for i in sorted(chord.core) if i in (6, 7, 8)), 7)


def _ostinato(perf: Performance, event: ChordEvent, beats_per_bar: float, shape: tuple[int, ...],
              velocity: float) -> None:
    """Eighth-note broken chord over the event, in groups that cross the bar line of the meter.
    The figure starts on the bass (root or slash bass); its other notes are the chord's 5th, 9th
    and 10th counted from the chord's root, placed above the bass."""
    chord = event.chord
    bass = bass_pitch(chord, low=36, high=48)
    # over a slash bass the figure carries the chord's root instead of its 9th
    intervals = {0: 0, 7: _fifth(chord), 14: 0 if chord.bass is not None else 2, 16: _third(chord)}
    allowed = set(allowed_pitch_classes(chord))
    figure = [bass]
    for interval in shape[1:]:
        pc = (chord.root + intervals[interval]) % 12
        if pc not in allowed:
            pc = chord.root
        pitch = nearest(pc, bass + interval)
        while pitch <= bass:
            pitch += 12
        figure.append(pitch)
    grouping = GROUPINGS.get(int(round(beats_per_bar)), (3, 3, 2))
    eighths = int(round(event.duration * 2))
    group_index, in_group = 0, 0
    for eighth in range(eighths):
        size = grouping[group_index % len(grouping)]
        pitch = figure[in_group % len(figure)]
        accent = 8 if in_group == 0 else 0
        at = event.start + eighth * 0.5
        length = min(0.5 if in_group else 0.9, event.end - at)  # nothing rings into the next chord
        perf.add(at, pitch, length, velocity + accent - 6)
        in_group += 1
        if in_group >= size:
            in_group, group_index = 0, group_index + 1
    if eighths == 0:
        perf.add(event.start, bass, event.duration, velocity)


def _open_voicing(chord: Chord, rng: random.Random) -> list[int]:
    """3-4 notes in the middle register with a second inside (3rd+9th or 7th+13th) when the chord has one."""
    third = (chord.root + _third(chord)) % 12
    allowed = allowed_pitch_classes(chord)
    colour = [pc for pc in ((chord.root + 2) % 12, (chord.root + 9) % 12, (chord.root + 10) % 12,
                            (chord.root + 11) % 12, (chord.root + 5) % 12) if pc in allowed]
    core_sevenths = [(chord.root + i) % 12 for i in chord.core if i in (9, 10, 11)]
    pcs = [third] + core_sevenths[:1] + [c for c in colour if c not in core_sevenths][:2]
    base = nearest(pcs[0], rng.uniform(55, 60))
    pitches = [base]
    for pc in pcs[1:]:
        pitch = nearest(pc, pitches[-1] + 3)
        while pitch <= pitches[-1]:
            pitch += 12
        pitches.append(pitch)
    if chord.bass is not None and chord.root not in {p % 12 for p in pitches}:
        pitches.append(nearest(chord.root, pitches[-1] + 4))
    return sorted(set(pitches))


def _inner_motion(perf: Performance, event: ChordEvent, held: list[int], velocity: float,
                  rng: random.Random) -> None:
    """Hold the voicing's outer notes; move its second-highest note stepwise through allowed tones."""
    allowed = set(allowed_pitch_classes(event.chord))
    if len(held) < 3 or event.duration < 2:
        perf.chord(event.start, held, event.duration * 0.97, velocity)
        return
    inner = held[-2]
    outer = [p for p in held if p != inner]
    perf.chord(event.start, outer, event.duration * 0.97, velocity)
    direction = rng.choice((-1, 1))
    candidates = [p for p in range(inner - 4, inner + 5) if p % 12 in allowed and p not in outer]
    path = sorted(candidates, reverse=direction < 0)
    path = [p for p in path if (p - inner) * direction >= 0][:int(event.duration)] or [inner]
    length = event.duration / len(path)
    for i, pitch in enumerate(path):
        perf.add(event.start + i * length, pitch, length * 0.95, velocity - 8)


def _line_pitch(previous: int, chord: Chord, rng: random.Random, low: int = 64, high: int = 86) -> int:
    """The next pitch of the right-hand line: a step or small leap to an allowed tone."""
    allowed = set(allowed_pitch_classes(chord))
    options = [p for p in range(max(low, previous - 5), min(high, previous + 5) + 1)
               if p % 12 in allowed and p != previous]
    if not options:
        return nearest(chord.root, (low + high) / 2)
    weights = [3.0 if abs(p - previous) <= 2 else 1.0 for p in options]
    return rng.choices(options, weights)[0]


RHYTHMS = ((1.0, 0.5, 0.5, 1.0, 1.0), (1.5, 0.5, 1.0, 1.0), (0.5, 0.5, 0.5, 0.5, 2.0), (2.0, 1.0, 1.0),
           (0.75, 0.25, 1.0, 0.5, 0.5, 1.0))


def _right_line(perf: Performance, events: list[ChordEvent], beats_per_bar: float, total_beats: float,
                rng: random.Random, phrase_beats: float) -> None:
    """The melody in 2-bar phrases that end with a rest; every second phrase restates the opening
    motif's rhythm displaced by one beat."""
    motif = list(rng.choice(RHYTHMS))
    pitch = rng.randint(67, 76)
    phrase_len = 2 * beats_per_bar
    phrases = int(-(-total_beats // phrase_len))
    for index in range(phrases):
        phrase_start = index * phrase_len
        phrase_end = min(phrase_start + phrase_len, total_beats)
        if index % 2:
            rhythm, beat = motif, phrase_start + 1.0
        else:
            rhythm = motif if index == 0 else list(rng.choice(RHYTHMS))
            beat = phrase_start + rng.choice((0.0, 0.5))
        step = 0
        while beat + rhythm[step % len(rhythm)] <= phrase_end - 0.75:
            duration = rhythm[step % len(rhythm)]
            chord = _chord_at(events, beat)
            if chord is not None:
                pitch = _line_pitch(pitch, chord, rng)
                perf.add(beat, pitch, duration * 0.92, dynamics(beat, phrase_beats, 40, 96))
            beat += duration
            step += 1


def _chord_at(events: list[ChordEvent], beat: float) -> Chord | None:
    for event in events:
        if event.start - 1e-9 <= beat < event.end - 1e-9:
            return None if event.chord.is_no_chord else event.chord
    return None


def perform(events: list[ChordEvent], beats_per_bar: float, tempo_bpm: float,
            rng: random.Random) -> Performance:
    """Play the chart ``events`` in a Mehldau-inspired style."""
    perf = Performance()
    shape = rng.choice(OSTINATO_SHAPES)
    phrase = 4 * beats_per_bar
    total = max((e.end for e in events), default=0.0)
    for event in events:
        if event.chord.is_no_chord:
            continue
        velocity = dynamics(event.start, phrase, 38, 84)
        _ostinato(perf, event, beats_per_bar, shape, velocity)
        _inner_motion(perf, event, _open_voicing(event.chord, rng), velocity - 6, rng)
        perf.pedal.append((event.start + 0.02, event.end - 0.05))
    _right_line(perf, events, beats_per_bar, total, rng, phrase)
    return perf
