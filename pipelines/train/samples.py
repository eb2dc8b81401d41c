"""Samples at each checkpoint: prompts from fixed chord charts, decoded to MIDI and audio.

The share of sampled sequences that decode is measured with the dataset's own tokenizer
(``pipelines.data.load_tokenizer``); where that package is absent the samples keep their tokens
and the share is left out rather than guessed.
"""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path
from typing import Any, Callable

from ..common.errors import StudioError
from .config import TrainConfig

log = logging.getLogger(__name__)
GenerateFn = Callable[[list[str], int], list[str]]  # (prompt events, seed) -> prompt + new events


def chart_prompts(cfg: TrainConfig, valid_rows: list[dict[str, Any]], vocab: list[str]) -> list[list[str]]:
    """One prompt per sample: the first validation sequence's header, then the chart's first chord.

    When a chart's chord has no token in the vocabulary, the prompt is a validation sequence cut
    before its first note, so a prompt is always made of tokens the model has seen.
    """
    from ..music.chords import parse_chart

    known = set(vocab)
    rows = valid_rows or []
    if not rows:
        return []
    first = rows[0]["text"].split()
    header = first[: first.index("BAR_START")] if "BAR_START" in first else first[:4]
    prompts = []
    for index in range(cfg.sample_count):
        chart = cfg.sample_charts[index % len(cfg.sample_charts)] if cfg.sample_charts else ""
        prompt: list[str] | None = None
        if chart:
            try:
                chord = parse_chart(chart).bars[0][0].symbol
            except StudioError:
                chord = ""
            bar = ["BAR_START", "POS_0", f"CHORD_{chord}"]
            if chord and all(t in known for t in bar):
                prompt = header + bar
        if prompt is None:
            words = rows[index % len(rows)]["text"].split()
            cut = next((i for i, w in enumerate(words) if w.startswith("NOTE_")), min(len(words), 8))
            prompt = words[: max(1, cut)]
        prompts.append(prompt)
    return prompts


def dataset_decoder(dataset_dir: Path) -> Callable[[list[str]], Any] | None:
    """``events -> Piece`` with the dataset's tokenizer, or None when pipelines.data is not installed."""
    try:
        data = importlib.import_module("pipelines.data")
    except ImportError:
        return None
    loader = getattr(data, "load_tokenizer", None)
    path = Path(dataset_dir) / "tokenizer.json"
    if loader is None or not path.is_file():
        return None
    try:
        tokenizer = loader(path)
    except StudioError as exc:  # a tokenizer.json of another format: keep tokens, skip the decode share
        log.warning("samples will not be decoded: %s", exc)
        return None
    return tokenizer.decode


def write_samples(
    out_dir: Path,
    step: int,
    prompts: list[list[str]],
    generate: GenerateFn,
    decoder: Callable[[list[str]], Any] | None,
    render_audio: bool,
) -> dict[str, Any]:
    """Sample one sequence per prompt into ``out_dir``; returns {"step", "decoded_share", "files"}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records, decoded = [], 0
    for index, prompt in enumerate(prompts):
        events = generate(prompt, index)
        record: dict[str, Any] = {"index": index, "prompt": " ".join(prompt), "tokens": " ".join(events)}
        if decoder is not None:
            try:
                piece = decoder(events)
                if not getattr(piece, "notes", None):
                    raise StudioError("no notes")
                decoded += 1
                midi = piece.write_midi(out_dir / f"sample-{index}.mid")
                record.update(decoded=True, midi=str(midi), notes=len(piece.notes))
                if render_audio:
                    _render(midi, out_dir / f"sample-{index}.wav", record)
            except Exception as exc:  # an undecodable sample is a measurement, not a crash
                record.update(decoded=False, error=f"{type(exc).__name__}: {exc}"[:300])
        records.append(record)
    share = round(decoded / len(prompts), 3) if (prompts and decoder is not None) else None
    summary = {"step": step, "decoded_share": share, "samples": records}
    (out_dir / "samples.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _render(midi: Path, wav: Path, record: dict[str, Any]) -> None:
    try:
        from ..music.render import render_wav

        render_wav(midi, wav)
        record["wav"] = str(wav)
    except Exception as exc:  # no soundfont / FluidSynth: the MIDI still stands
        log.warning("could not render %s: %s", midi, exc)
        record["render_error"] = str(exc)[:200]


def gallery(run_dir: Path) -> list[dict[str, Any]]:
    """Every checkpoint's samples, newest first (for the UI's gallery)."""
    root = Path(run_dir) / "samples"
    if not root.is_dir():
        return []
    out = []
    for path in root.glob("step-*/samples.json"):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return sorted(out, key=lambda s: s.get("step", 0), reverse=True)
