"""Public-domain music that ships inside music21, rendered for piano as MIDI files.

    write_public_corpus(out_dir, collections=("chorales", "quartets", "piano", "leadsheets"))

music21 (``requirements/data.txt``) carries its corpus in the package: Bach's chorales, string
quartets by Haydn, Mozart and Beethoven, piano and song pieces (Joplin's Maple Leaf Rag, Clara
Schumann's polonaises, a Chopin mazurka, "Lift Every Voice and Sing") and two lead sheets. Each
piece becomes one piano part: every voice's notes (ties joined), the lowest voice doubled an octave
below where it stays on the keyboard, chord symbols of a lead sheet realised as a left-hand chord
under the melody; the score's first tempo mark (else the collection's), its first time signature,
a pickup bar padded so bars fall on the barlines, at most ``max_bars`` bars; a meter of an odd
number of eighths counts two bars as one (3/8 -> 6/8), a bar past 8 beats is left out. The files carry no
chords: the studio tokenizer's recogniser names them. Monophonic folk-tune books are left out
(a melody alone gives the recogniser nothing to name).
"""
from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from ..common.errors import StudioError
from ..music.piece import Note, Piece

log = logging.getLogger(__name__)
# collection -> (music21 corpus paths relative to the corpus folder, default tempo in bpm)
QUARTETS = ([f"haydn/opus1no1/movement{i}.mxl" for i in range(1, 6)]
            + [f"haydn/opus74no1/movement{i}.mxl" for i in range(1, 5)]
            + [f"mozart/k{k}/movement{i}.mxl" for k in (80, 156, 458) for i in range(1, 5)]
            + [f"mozart/k155/movement{i}.mxl" for i in range(1, 4)]
            + [f"beethoven/opus18no1/movement{i}.mxl" for i in range(1, 5)]
            + ["beethoven/opus59no1/movement1.mxl", "beethoven/opus59no1/movement2.mxl",
               "beethoven/opus59no2/movement2.mxl", "beethoven/opus59no2/movement4.mxl",
               "beethoven/opus59no3/movement1.mxl", "beethoven/opus59no3/movement3.mxl"]
            + [f"schumann_robert/opus41no1/movement{i}.mxl" for i in range(1, 6)])
PIANO = (["joplin/maple_leaf_rag.mxl", "chopin/mazurka06-2.krn", "johnson_j_r/lift_every_voice.mxl",
          "liliuokalani/aloha_oe.mxl", "handel/rinaldo/Lascia_chio_pianga.mxl",
          "schumann_robert/opus48no2.mxl", "cpebach/h186.mxl", "verdi/laDonnaEMobile.mxl",
          "mozart/k545/movement1_exposition.mxl"]
         + [f"schumann_clara/polonaise_op1n{i}.mxl" for i in range(1, 5)])
LEADSHEETS = ["leadSheet/berlinAlexandersRagtime.mxl", "leadSheet/fosterBrownHair.mxl"]
COLLECTIONS = ("chorales", "quartets", "piano", "leadsheets")
DEFAULT_TEMPO = {"chorales": 72.0, "quartets": 108.0, "piano": 96.0, "leadsheets": 100.0}


def collection_paths(collection: str) -> list[str]:
    """The corpus paths of one collection (chorales: every Bach chorale music21 numbers by BWV)."""
    if collection == "chorales":
        from music21 import corpus

        return [str(p) for p in corpus.chorales.Iterator(numberingSystem="bwv", returnType="filename")]
    if collection not in COLLECTIONS:
        raise StudioError(f"collection must be one of {', '.join(COLLECTIONS)} (got {collection!r})")
    return {"quartets": QUARTETS, "piano": PIANO, "leadsheets": LEADSHEETS}[collection]


def render_piece(path: str, default_tempo: float, max_bars: int = 64) -> Piece | None:
    """One corpus piece as a piano Piece (see the module docstring); None when it has no notes or a
    bar longer than 8 beats."""
    from music21 import corpus, harmony, meter, tempo

    score = corpus.parse(path)
    signature = next(iter(score.recurse().getElementsByClass(meter.TimeSignature)), None)
    numerator, denominator = (signature.numerator, signature.denominator) if signature else (4, 4)
    if (numerator * 4) % denominator:  # 3/8, 9/8: the event language's bars are whole beats
        numerator *= 2                 # two bars as one (3/8 -> 6/8)
    if numerator * 4 // denominator > 8:
        return None                    # past the longest bar the event language writes (8 beats)
    bar_beats = numerator * 4.0 / denominator
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    bpm = float(marks[0].getQuarterBPM()) if marks and marks[0].number else default_tempo
    parts = list(score.parts) or [score]
    first = next(iter(parts[0].getElementsByClass("Measure")), None)
    pickup = float(first.duration.quarterLength) if first is not None else bar_beats
    shift = bar_beats - pickup if 0 < pickup < bar_beats - 1e-6 else 0.0
    end = max_bars * bar_beats
    notes: list[Note] = []
    lowest_part: list[Note] = []
    for index, part in enumerate(parts):
        voice = []
        for element in part.stripTies().flatten().notes:
            if isinstance(element, harmony.ChordSymbol):
                continue
            start = float(element.offset) + shift
            duration = float(element.quarterLength)
            if duration <= 0 or start >= end:
                continue
            velocity = 84 if index == 0 else 68
            for pitch in element.pitches:
                length = round(min(duration, end - start), 4)
                voice.append(Note(round(start, 4), int(pitch.midi), length, velocity))
        notes += voice
        if index == len(parts) - 1 and len(parts) > 1:
            lowest_part = voice
    notes += [Note(n.start, n.pitch - 12, n.duration, 60) for n in lowest_part if n.pitch - 12 >= 28]
    notes += _chord_symbols(score, shift, end)
    notes = [n for n in notes if 21 <= n.pitch <= 108]
    if not notes:
        return None
    return Piece(notes=sorted(notes, key=lambda n: (n.start, n.pitch)),
                 tempo_bpm=round(min(max(bpm, 40.0), 200.0)), time_signature=(numerator, denominator))


def _chord_symbols(score, shift: float, end: float) -> list[Note]:
    """A lead sheet's chord symbols as left-hand chords: root in the bass octave, the rest above."""
    from music21 import harmony

    symbols = list(score.recurse().getElementsByClass(harmony.ChordSymbol))
    starts = [float(s.getOffsetInHierarchy(score)) + shift for s in symbols]
    order = sorted(range(len(symbols)), key=starts.__getitem__)
    symbols, starts = [symbols[i] for i in order], [starts[i] for i in order]
    out = []
    for index, symbol in enumerate(symbols):
        start = starts[index]
        following = starts[index + 1] if index + 1 < len(symbols) else end
        if start >= end or not symbol.pitches:
            continue
        root_pc = symbol.root().pitchClass if symbol.root() is not None else symbol.pitches[0].pitchClass
        out.append(Note(start, 36 + root_pc, following - start, 70))
        pitch_classes = sorted({p.pitchClass for p in symbol.pitches})
        out += [Note(start, 48 + pc, following - start, 62) for pc in pitch_classes]
    return out


def _render_to_file(job: tuple[str, str, float, int, str]) -> dict:
    path, collection, default_tempo, max_bars, out_file = job
    try:
        piece = render_piece(path, default_tempo, max_bars)
    except Exception as error:  # a corpus file music21 itself cannot read is left out, and said so
        log.warning("left out %s: %s", path, error)
        return {"source": path, "collection": collection, "error": str(error)[:200]}
    if piece is None:
        return {"source": path, "collection": collection, "error": "no notes, or a bar longer than 8 beats"}
    piece.write_midi(out_file)
    return {"file": Path(out_file).name, "source": path, "collection": collection, "notes": len(piece.notes),
            "bars": piece.bars, "tempo_bpm": piece.tempo_bpm,
            "time_signature": "/".join(map(str, piece.time_signature))}


def write_public_corpus(out_dir: str | Path, collections: tuple[str, ...] = COLLECTIONS, max_bars: int = 64,
                        limit: int | None = None, workers: int = 2,
                        progress: Callable[[float, str], None] | None = None) -> dict:
    """Render the collections to ``out_dir/*.mid`` with ``out_dir/public_corpus.jsonl``; files already
    rendered are kept. ``limit``: at most this many pieces a collection (quick runs)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for collection in collections:
        for number, path in enumerate(collection_paths(collection)[:limit]):
            stem = f"{Path(path).parent.name}-{Path(path).name}".replace(".", "-").replace(" ", "_")[:48]
            name = f"{collection}_{number:04d}_{stem}.mid"
            jobs.append((path, collection, DEFAULT_TEMPO[collection], max_bars, str(out / name)))
    index = out / "public_corpus.jsonl"
    lines = index.read_text(encoding="utf-8").splitlines() if index.is_file() else []
    done = {json.loads(line)["source"]: json.loads(line) for line in lines}
    todo = [job for job in jobs if job[0] not in done]
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        for number, entry in enumerate(pool.map(_render_to_file, todo)):
            done[entry["source"]] = entry
            if progress:
                progress((number + 1) / len(todo), f"{number + 1}/{len(todo)} music21 pieces rendered")
    index.write_text("".join(json.dumps(e) + "\n" for e in done.values()), encoding="utf-8")
    wanted = {job[0] for job in jobs}
    done = {source: entry for source, entry in done.items() if source in wanted}
    rendered = [e for e in done.values() if "file" in e]
    return {"out": str(out), "pieces": len(rendered),
            "left_out": [e["source"] for e in done.values() if "error" in e],
            "by_collection": {c: sum(e["collection"] == c for e in rendered) for c in collections}}
