"""CLI: ``python -m pipelines.generate --chords CHART --style STYLE --out out.mid [--wav out.wav]``
and ``python -m pipelines.generate corpus --style gospel --n 500 --out DIR``. Prints JSON."""
from __future__ import annotations

import sys

from ..common.cli import ArgumentParser, run_cli
from ..common.errors import StudioError


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise StudioError(f"must be a whole number (got {text!r})") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise StudioError(f"must be a number (got {text!r})") from None


def _generate(argv: list[str]) -> dict:
    from .api import METERS, STYLES, GenerateConfig, generate

    parser = ArgumentParser(prog="python -m pipelines.generate",
                            description="Chord chart -> piano MIDI (and WAV) in a style; prints a JSON summary.")
    parser.add_argument("--chords", required=True, help='chart, e.g. "| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |"')
    parser.add_argument("--style", required=True, choices=STYLES)
    parser.add_argument("--model", default="rules", help="rules (the rule-based engines)")
    parser.add_argument("--bars", type=str, default=None, help="1-64; default: the chart's length")
    parser.add_argument("--tempo", type=str, default=None, help="bpm, 20-300; default: drawn by the seed")
    parser.add_argument("--seed", type=str, default="1", help="whole number; each seed is another take")
    parser.add_argument("--meter", default="4/4", choices=list(METERS))
    parser.add_argument("--temperature", type=str, default="1.0")
    parser.add_argument("--top-k", type=str, default="0")
    parser.add_argument("--top-p", type=str, default="0.95")
    parser.add_argument("--out", required=True, help="MIDI file to write")
    parser.add_argument("--wav", default=None, help="also render audio to this WAV file")
    args = parser.parse_args(argv)
    fields = {"bars": args.bars, "seed": args.seed, "top_k": args.top_k}
    parsed = {}
    for name, text in fields.items():
        try:
            parsed[name] = None if text is None else _whole(text)
        except StudioError as exc:
            raise StudioError(f"--{name.replace('_', '-')} {exc}") from None
    for name, text in {"tempo": args.tempo, "temperature": args.temperature, "top_p": args.top_p}.items():
        try:
            parsed[name] = None if text is None else _number(text)
        except StudioError as exc:
            raise StudioError(f"--{name.replace('_', '-')} {exc}") from None
    cfg = GenerateConfig(chords=args.chords, style=args.style, model=args.model, bars=parsed["bars"],
                         tempo_bpm=parsed["tempo"], seed=parsed["seed"], meter=args.meter,
                         temperature=parsed["temperature"], top_k=parsed["top_k"], top_p=parsed["top_p"],
                         render_audio=bool(args.wav))
    return generate(cfg, midi_path=args.out, wav_path=args.wav).summary()


def _corpus(argv: list[str]) -> dict:
    from .corpus import PROGRESSIONS, write_corpus

    parser = ArgumentParser(prog="python -m pipelines.generate corpus",
                            description="Write a bootstrap corpus of rule-based performances.")
    parser.add_argument("--style", required=True, choices=sorted(PROGRESSIONS))
    parser.add_argument("--n", type=int, required=True, help="how many performances")
    parser.add_argument("--out", required=True, help="folder for the MIDI files and corpus.jsonl")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return write_corpus(args.style, args.n, args.out, seed=args.seed)


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "corpus":
        return _corpus(argv[1:])
    return _generate(argv)


if __name__ == "__main__":
    sys.exit(run_cli(main))
