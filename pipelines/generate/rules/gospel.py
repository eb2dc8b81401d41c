"""Gospel piano from a chord chart (MUSIC.md, "Gospel piano").

Left hand: octaves or root-fifth-octave on the beat, tenths in ballads, walk-ups between chord
roots. Right hand: close 4-5 note voicings with the melody on top doubled an octave down, syncopated
comping with chords pushed to the "and" of the last beat, grace-note crushes into the 3rd, sus4 to
3rd resolutions on dominants, a passing #IV diminished chord between IV and I, and a descending
pentatonic run at phrase ends. Feel by tempo: 12/8 shuffle under 80 bpm, straight 8ths to 110,
16ths above. Every choice is drawn from ``rng``, so each seed is a different take.
"""
from __future__ import annotations

import random

from ...music.chords import ChordEvent, parse_chord
from ...music.chords import TOKEN_ROOTS as ROOTS
from .common import (Performance, allowed_pitch_classes, bass_pitch, dynamics, nearest, next_event,
                     previous_chord, scale_walk, voicing)

# Comping rhythms for one 4-beat bar: (onset, duration) in beats; "P" marks a push into the next chord.
STRAIGHT = [
    [(0, 1.5), (1.5, 1.0), (3.5, "P")],
    [(0, 1.0), (1.5, 0.5), (2.5, 1.0), (3.5, "P")],
    [(0, 0.75), (0.75, 0.75), (2.0, 1.0), (3.5, "P")],
    [(0, 2.0), (2.5, 1.0), (3.5, "P")],
]
SHUFFLE = [  # 12/8 feel: onsets on the triplet grid
    [(0, 2 / 3), (2 / 3, 1 / 3), (1, 1), (2, 2 / 3), (8 / 3, 1 / 3), (3, 1.0)],
    [(0, 1.0), (1 + 2 / 3, 1 / 3), (2, 1.0), (3 + 2 / 3, "P")],
]
SIXTEENTHS = [
    [(0, 0.5), (0.75, 0.25), (1.5, 0.5), (2.25, 0.5), (3.0, 0.5), (3.75, "P")],
    [(0, 0.75), (1.0, 0.5), (1.75, 0.25), (2.5, 0.75), (3.5, "P")],
]


def _feel(tempo_bpm: float) -> str:
    return "shuffle" if tempo_bpm < 80 else ("straight" if tempo_bpm <= 110 else "sixteenths")


def _rhythm(feel: str, length: float, rng: random.Random) -> list[tuple[float, float | str]]:
    """A comping rhythm cut or stretched to ``length`` beats."""
    bank = {"shuffle": SHUFFLE, "straight": STRAIGHT, "sixteenths": SIXTEENTHS}[feel]
    pattern = rng.choice(bank)
    if length >= 4:
        return [(o + bar * 4, d) for bar in range(int(length // 4)) for o, d in pattern]
    cut = [(o, d) for o, d in pattern if o < length - 0.01]
    if length >= 1.5 and (length - 0.5, "P") not in cut:
        cut = [(o, d) for o, d in cut if d != "P"] + [(length - 0.5, "P")]
    return cut or [(0, length)]


def _left_hand(perf: Performance, events: list[ChordEvent], index: int, feel: str,
               rng: random.Random, velocity: float, reserve_beats: float = 0.0) -> None:
    event = events[index]
    chord, start, length = event.chord, event.start, event.duration - reserve_beats
    root = bass_pitch(chord)
    nxt = next_event(events, index)
    walk: list[int] = []
    if nxt is not None and length >= 2 and not reserve_beats and abs(nxt.start - event.end) < 1e-6 \
            and rng.random() < 0.6:
        target = bass_pitch(nxt.chord)
        if target <= root:
            target += 12 if root - target > 7 else 0
        walk = scale_walk(chord, root, target, 3 if length >= 4 else 2)
    beats = int(length) if length >= 1 else 1
    walk_from = beats - len(walk) * 0.5 if walk else beats
    for beat in range(beats):
        at = start + beat
        if beat >= walk_from:
            break
        if beat == 0:
            if feel == "shuffle" and rng.random() < 0.5:
                tenth = nearest((chord.root + (3 if chord.family in ("min", "hdim", "dim") else 4)) % 12, root + 15)
                perf.chord(at, [root, tenth], min(length, 2.0), velocity)
            elif chord.bass is not None:  # slash bass with the chord's root above it
                perf.chord(at, [root, nearest(chord.root, root + 6)], min(length, 1.5) - 0.05, velocity + 4)
            else:
                perf.chord(at, [root - 12 if root - 12 >= 28 else root, root if root - 12 >= 28 else root + 12],
                           min(length, 1.5) - 0.05, velocity + 4)
        else:
            fifth_pc = (chord.bass_pc + 7) % 12
            pick = [root, nearest(fifth_pc, root + 7), root + 12][beat % 3]
            if pick % 12 not in allowed_pitch_classes(chord) and pick % 12 != chord.bass_pc:
                pick = root
            perf.add(at, pick, 0.9, velocity - 6)
    for step, pitch in enumerate(walk):
        perf.add(start + walk_from + step * 0.5, pitch, 0.48, velocity - 2)


def _crush(perf: Performance, at: float, top: list[int], chord, velocity: float) -> None:
    """A grace note slipping into the chord's 3rd from a half step (dominant: #9) or whole step below."""
    if chord.family not in ("maj", "dom") or at < 0.125:
        return
    third = next((p for p in top if (p - chord.root) % 12 == 4), None)
    if third is None:
        return
    grace = third - (1 if chord.family == "dom" else 2)
    perf.add(at - 0.125, grace, 0.125, velocity - 10)


def _run(perf: Performance, chord, start: float, length: float, top: int, velocity: float) -> None:
    """A descending pentatonic run (with a blue note from the chord's allowed set) over ``length`` beats."""
    minor = chord.family in ("min", "hdim", "dim")
    scale = [0, 3, 5, 7, 10] if minor else [0, 2, 4, 7, 9]
    blue = 6 if chord.family == "maj" else 3
    allowed = set(allowed_pitch_classes(chord))
    pcs = sorted({(chord.root + i) % 12 for i in scale + [blue]} & allowed)
    notes = [p for p in range(top - 14, top + 1) if p % 12 in pcs][::-1]
    steps = int(length / 0.25)
    for i, pitch in enumerate(notes[:steps]):
        perf.add(start + i * 0.25, pitch, 0.25, velocity - 4 - i)


def perform(events: list[ChordEvent], beats_per_bar: float, tempo_bpm: float,
            rng: random.Random) -> Performance:
    """Play the chart ``events`` as Gospel piano."""
    perf = Performance()
    feel = _feel(tempo_bpm)
    top_target = rng.uniform(72, 79)
    outside_budget = max(1, len(events) // 4)  # passing dim7 chords and sus suspensions
    phrase = 4 * beats_per_bar
    for index, event in enumerate(events):
        chord = event.chord
        if chord.is_no_chord:
            prev = previous_chord(events, index)
            if prev is not None:
                _run(perf, prev, event.start, event.duration, int(top_target) + 5, 80)
            continue
        velocity = dynamics(event.start, phrase, 68, 92)
        nxt = next_event(events, index)
        passing = None
        if (nxt is not None and outside_budget > 0 and event.duration >= 2 and chord.family == "maj"
                and (nxt.chord.root - chord.root) % 12 == 7 and rng.random() < 0.7):
            passing = parse_chord(f"{ROOTS[(chord.root + 1) % 12]}dim7")  # IV - #IVdim7 - I
            outside_budget -= 1
        _left_hand(perf, events, index, feel, rng, velocity - 4, reserve_beats=1.0 if passing else 0.0)
        rhythm = _rhythm(feel, event.duration - (1 if passing else 0), rng)
        phrase_end = (event.end % phrase) < 1e-6 and nxt is not None and not passing
        sus_done = False
        for onset, duration in rhythm:
            at = event.start + onset
            if phrase_end and onset >= event.duration - 1.0 - 1e-6:
                _run(perf, chord, at, event.end - at, int(top_target) + 5, velocity)
                break
            target_chord = chord
            if duration == "P":
                if nxt is None or abs(nxt.start - event.end) > 1e-6 or passing:
                    continue
                target_chord, duration = nxt.chord, 1.5  # rings a beat into the chord it anticipates
            voiced = voicing(target_chord, top_target + rng.uniform(-2, 2), rng.choice((4, 4, 5)), rng)
            if rng.random() < 0.5:
                voiced = sorted(set(voiced + [voiced[-1] - 12]))  # melody doubled an octave down
            if (not sus_done and target_chord is chord and chord.family == "dom" and onset == 0
                    and outside_budget > 0 and event.duration >= 2 and rng.random() < 0.5):
                sus = [p + 1 if (p - chord.root) % 12 == 4 else p for p in voiced]
                perf.chord(at, sus, 0.5, velocity)
                perf.chord(at + 0.5, voiced, max(float(duration) - 0.5, 0.4), velocity - 4)
                outside_budget -= 1
                sus_done = True
                continue
            if target_chord is chord and rng.random() < 0.25:
                _crush(perf, at, voiced, chord, velocity)
            perf.chord(at, voiced, float(duration) * 0.95, velocity + (6 if onset % 1 else 0))
        if passing is not None:
            at = event.end - 1
            perf.add(at, bass_pitch(passing), 0.95, velocity - 4)
            perf.chord(at, voicing(passing, top_target, 4, rng), 0.95, velocity)
        if feel == "shuffle":
            perf.pedal.append((event.start + 0.02, event.end - 0.05))
    return perf
