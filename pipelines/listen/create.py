"""Create a listening test: generate every clip with every system, render them alike, store the test.

Every clip goes through ``render_wav`` with the same soundfont, sample rate and loudness target
(-20 LUFS), all clips of a chart and seed share bars and tempo, and the shorter ones are padded with
silence to the longest one's length, so that only the music differs. Every pair of systems is heard
on every chart and seed (a round robin); ``randomise`` balances the sides. The hidden checks are
pairs like any other: ``repeats`` main pairs a second time (sides swapped per participant), and
``catch_trials`` clips against a degraded copy of themselves (``degrade``). Clip files get random
names: a participant who reads the audio URL learns nothing about which system made it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import secrets
import shutil
from pathlib import Path
from typing import Callable

from ..common.config import to_dict
from ..common.errors import StudioError
from ..common.progress import Progress
from .config import ListenTestConfig, check_size, load_charts
from .plan import plan_test
from .store import connect, insert_test, listen_dir, now_iso, transaction

log = logging.getLogger(__name__)


def new_test_id(name: str) -> str:
    """A readable, unguessable id: the name as a slug plus six random hex digits."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "test"
    return f"{slug}-{secrets.token_hex(3)}"


def create_test(cfg: ListenTestConfig, progress: Progress | None = None,
                db: str | Path | None = None) -> dict:
    """Generate and render every clip, then write the test to the store in one transaction.

    Returns a summary: test id, pairs, clips, the systems and the folder of the clips.
    """
    charts = load_charts(cfg.charts)                      # 1. inputs checked before any work
    check_size(charts, cfg)
    generate = _generator(cfg)
    test_id = new_test_id(cfg.name)
    folder = listen_dir(test_id)
    (folder / "clips").mkdir(parents=True, exist_ok=False)
    try:
        clips, pairs = _render_all(cfg, charts, folder, generate, progress)   # 2. the slow part
        test = {"id": test_id, "name": cfg.name.strip(), "status": "open", "seed": cfg.seed,
                "system_1": cfg.labels[0], "system_2": cfg.labels[1],
                "systems_json": json.dumps(list(cfg.labels)), "min_play_s": cfg.min_play_s,
                "config_json": json.dumps({**to_dict(cfg), "chart_list": charts}, sort_keys=True),
                "created_at": now_iso()}
        with connect(db) as conn, transaction(conn):        # 3. all or nothing in the store
            insert_test(conn, test, clips, pairs)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(folder / "work", ignore_errors=True)
    if progress:
        progress(1.0, f"test {test_id} is ready: {len(pairs)} pairs")
    hidden = sum(1 for pair in pairs if pair[5] != "main")
    return {"test_id": test_id, "name": cfg.name.strip(), "systems": list(cfg.labels),
            "pairs": len(pairs) - hidden, "hidden_checks": hidden, "clips": len(clips),
            "folder": str(folder), "plan": plan_test(cfg, len(charts))}


def _render_all(cfg: ListenTestConfig, charts: list[tuple[str, str]], folder: Path,
                generate: Callable, progress: Progress | None) -> tuple[list[dict], list[tuple]]:
    """Every system's clip for every chart and seed, the round robin of pairs over them, then the
    hidden checks (repeated pairs and catch trials); the pairs refer to clips by index."""
    clips: list[dict] = []
    items: list[tuple[int, str, int, list[int]]] = []   # chart index, chart name, seed, clip indices
    total = len(charts) * cfg.seeds_per_chart * len(cfg.labels) + cfg.catch_trials
    systems = list(zip(cfg.labels, cfg.models, cfg.styles))
    for chart_index, (chart_name, chords) in enumerate(charts):
        for offset in range(cfg.seeds_per_chart):
            seed = cfg.seed + offset
            made = []
            for label, model, style in systems:
                if progress:
                    progress(len(clips) / total, f"{chart_name}, seed {seed}: {label}")
                made.append(_make_clip(cfg, label, model, style, chart_name, chords, seed, folder, generate))
            _pad_to_same_length([folder / clip["file"] for clip in made])
            for clip in made:
                _describe_audio(clip, folder)
            items.append((chart_index, chart_name, seed, list(range(len(clips), len(clips) + len(made)))))
            clips.extend(made)
    pairs: list[tuple] = [(chart_index, chart_name, seed, indices[i], indices[j], "main", None)
                          for chart_index, chart_name, seed, indices in items
                          for i, j in cfg.system_pairs]
    rng = random.Random(cfg.seed)
    picked = _pick_repeats(len(pairs), len(cfg.system_pairs), cfg.repeats, rng)
    pairs += [(*pairs[index][:5], "repeat", index) for index in picked]
    for number, item in enumerate(rng.sample(items, cfg.catch_trials)):
        chart_index, chart_name, seed, indices = item
        original = indices[number % len(indices)]  # the systems take turns being degraded
        if progress:
            progress(len(clips) / total, f"catch trial {number + 1}: {chart_name}, seed {seed}")
        clips.append(_degraded_clip(cfg, clips[original], folder, rng.randrange(2**31)))
        pairs.append((chart_index, chart_name, seed, original, len(clips) - 1, "catch", None))
    return clips, pairs


def _pick_repeats(main_pairs: int, system_pairs: int, count: int, rng: random.Random) -> list[int]:
    """Indices of ``count`` main pairs to repeat, the pairs of systems taking turns (main pair ``k``
    compares the ``k % system_pairs``-th pair of systems)."""
    groups = [rng.sample(range(which, main_pairs, system_pairs), len(range(which, main_pairs, system_pairs)))
              for which in range(system_pairs)]
    picked: list[int] = []
    while len(picked) < count:
        for group in groups:
            if group and len(picked) < count:
                picked.append(group.pop())
    return sorted(picked)


def _degraded_clip(cfg: ListenTestConfig, original: dict, folder: Path, seed: int) -> dict:
    """A catch trial's copy of ``original``: its MIDI degraded (see ``degrade``), rendered alike and
    cut or padded to the original's exact length."""
    from ..music.render import SAMPLE_RATE_HZ, TARGET_LUFS, render_wav
    from .degrade import degrade_midi

    stem = secrets.token_hex(8)
    midi_file = f"clips/{secrets.token_hex(8)}.mid"  # not the WAV's name: it cannot be guessed from it
    degrade_midi(folder / original["midi_file"], folder / midi_file, cfg.catch_kind, seed)
    rendered = render_wav(folder / midi_file, folder / "clips" / f"{stem}.wav",
                          sample_rate_hz=SAMPLE_RATE_HZ, target_lufs=TARGET_LUFS)
    _fit_length(folder / "clips" / f"{stem}.wav", folder / original["file"])
    clip = {**original, "system": f"degraded copy ({cfg.catch_kind}) of {original['system']}",
            "file": f"clips/{stem}.wav", "midi_file": midi_file, "soundfont": rendered.soundfont.name}
    _describe_audio(clip, folder)
    return clip


def _fit_length(path: Path, like: Path) -> None:
    """Cut or pad the WAV at ``path`` with silence to the length of the WAV at ``like``."""
    import numpy as np
    import soundfile

    from ..music.render import write_pcm16

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    frames = soundfile.info(str(like)).frames
    fitted = np.zeros((frames, samples.shape[1]), dtype=np.float32)
    fitted[: min(frames, len(samples))] = samples[:frames]
    write_pcm16(path, fitted, rate)


def _make_clip(cfg: ListenTestConfig, label: str, model: str, style: str, chart_name: str,
               chords: str, seed: int, folder: Path, generate: Callable) -> dict:
    """Generate one piece with one system and render it to clips/<random>.wav (+ <other random>.mid)."""
    from ..music.render import SAMPLE_RATE_HZ, TARGET_LUFS, render_wav

    work = folder / "work" / secrets.token_hex(6)
    work.mkdir(parents=True)
    try:
        midi_path = Path(generate(chords=chords, style=style, model=model, bars=cfg.bars,
                                  tempo_bpm=cfg.tempo_bpm, seed=seed, out_dir=work))
    except StudioError as exc:
        raise StudioError(f"{label} could not play chart {chart_name!r} (seed {seed}): {exc}") from None
    stem = secrets.token_hex(8)
    midi_file = Path("clips") / f"{secrets.token_hex(8)}.mid"  # not the WAV's name: a participant sees
    # the WAV's name and, the MIDI holding text events, must not find the MIDI from it
    shutil.copyfile(midi_path, folder / midi_file)
    rendered = render_wav(folder / midi_file, folder / "clips" / f"{stem}.wav",
                          sample_rate_hz=SAMPLE_RATE_HZ, target_lufs=TARGET_LUFS)
    return {"system": label, "model": model, "style": style, "chart_name": chart_name,
            "chart_text": chords, "seed": seed, "bars": cfg.bars, "tempo_bpm": cfg.tempo_bpm,
            "file": f"clips/{stem}.wav", "midi_file": str(midi_file.as_posix()),
            "duration_s": rendered.duration_s, "loudness_lufs": None,
            "sample_rate_hz": rendered.sample_rate_hz, "soundfont": rendered.soundfont.name, "sha256": ""}


def _pad_to_same_length(paths: list[Path]) -> None:
    """Append silence to the shorter clips so that both sides of a pair last equally long."""
    import numpy as np
    import soundfile

    from ..music.render import write_pcm16

    audio = [soundfile.read(str(p), dtype="float32", always_2d=True) for p in paths]
    frames = max(len(a) for a, _ in audio)
    for path, (samples, rate) in zip(paths, audio):
        if len(samples) < frames:
            padded = np.zeros((frames, samples.shape[1]), dtype=np.float32)
            padded[: len(samples)] = samples
            write_pcm16(path, padded, rate)


def _describe_audio(clip: dict, folder: Path) -> None:
    """Fill in the final duration, loudness and checksum of a rendered (and padded) clip."""
    import soundfile

    from ..music.loudness import loudness_lufs

    path = folder / clip["file"]
    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    lufs = loudness_lufs(samples, rate)
    clip["duration_s"] = round(len(samples) / rate, 3)
    clip["loudness_lufs"] = round(lufs, 2) if lufs > float("-inf") else None
    clip["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()


def _generator(cfg: ListenTestConfig) -> Callable[..., Path]:
    """generate(chords, style, model, bars, tempo_bpm, seed, out_dir) -> MIDI path, via the generate
    API, after checking that it accepts both systems (so a bad model fails before any rendering)."""
    try:
        from ..generate.api import GenerateConfig, generate
    except ImportError as exc:
        raise StudioError(f"the generate pipeline is not available ({exc}); "
                          "clips cannot be made without it") from None
    for label, model, style in zip(cfg.labels, cfg.models, cfg.styles):
        check = GenerateConfig(model=model.strip(), style=style, bars=cfg.bars, tempo_bpm=cfg.tempo_bpm,
                               seed=cfg.seed)
        if hasattr(check, "validate"):
            try:
                check.validate()
            except StudioError as exc:
                raise StudioError(f"{label} cannot be generated: {exc}") from None

    def run(**fields) -> Path:
        result = generate(GenerateConfig(**fields, render_audio=False))  # rendered here, alike
        return Path(result.midi_path)

    return run
