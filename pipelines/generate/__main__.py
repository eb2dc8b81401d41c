"""CLI: ``python -m pipelines.generate --chords CHART --style STYLE [--model M] --out out.mid [--wav out.wav]``,
``python -m pipelines.generate corpus --style gospel --n 500 --out DIR``,
``python -m pipelines.generate bootstrap NAME --style gospel --n 20`` (the corpus ingested as a dataset) and
``python -m pipelines.generate ship runs/<run>/best --name default --dataset NAME``. Prints JSON."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

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


def _parser():
    from .api import BACKENDS, METERS, STYLES, temperatures_text

    parser = ArgumentParser(prog="python -m pipelines.generate",
                            description="Chord chart -> piano MIDI (and WAV) in a style; prints a JSON summary.")
    parser.add_argument("--chords", required=True, help='chart, e.g. "| Cmaj7 | Am7 D7 | Dm7 G7 | C6/9 |"')
    parser.add_argument("--preset", default=None,
                        help="configs/generate/<name>.yaml (or a YAML path); the options below override it")
    parser.add_argument("--style", default=None, help=f"{', '.join(STYLES)} (a trained model may know more)")
    parser.add_argument("--model", default=None,
                        help="rules, default (checkpoints/default), checkpoints/<name>, runs/<run>/<checkpoint> "
                             "or a checkpoint folder (a full model or an adapter)")
    parser.add_argument("--base", default=None, help="base model folder for an adapter (default: the one it records)")
    parser.add_argument("--bars", type=str, default=None, help="1-64; default: the chart's length")
    parser.add_argument("--tempo", type=str, default=None, help="bpm, 20-300; default: drawn by the seed")
    parser.add_argument("--seed", type=str, default=None, help="whole number; each seed is another take")
    parser.add_argument("--meter", default=None, choices=list(METERS))
    parser.add_argument("--temperature", type=str, default=None,
                        help=f"0.05-5; default: the style's ({temperatures_text()})")
    parser.add_argument("--top-k", type=str, default=None, help="0 = off (default)")
    parser.add_argument("--top-p", type=str, default=None, help="(0, 1] (default 0.95)")
    parser.add_argument("--backend", default=None, choices=list(BACKENDS),
                        help="trained models: auto keeps the faster of torch and onnxruntime (measured once)")
    parser.add_argument("--key", default=None, help="trained models: Ebmaj, F#min ...; default: from the chart")
    parser.add_argument("--variations", type=str, default=None, help="takes sampled at once, 1-8")
    parser.add_argument("--continue", dest="primer", default=None, help="a MIDI file to continue over the chart")
    parser.add_argument("--regenerate", default=None, help="a take's .json (or .mid) to regenerate bars of")
    parser.add_argument("--regenerate-bars", default=None, help="bars to generate again, e.g. 3-4")
    parser.add_argument("--harmony-strength", type=str, default=None,
                        help="trained models: 0 (the raw model) - 1 (notes outside the chord's tones and "
                             "tensions masked); default: the style's")
    parser.add_argument("--bass-on-change", default=None, choices=("on", "off"),
                        help="trained models: the lowest note at each chord change is its root or slash bass (on)")
    parser.add_argument("--guide-tones", default=None, choices=("on", "off"),
                        help="trained models: the chord's 3rd and 7th struck with that bass (on)")
    parser.add_argument("--register", default=None, help="trained models: lowest-highest MIDI note, e.g. 28-92; "
                                                         "default: the style's")
    parser.add_argument("--max-notes-per-onset", type=str, default=None,
                        help="trained models: notes struck together at most, 1-10 (default: the style's)")
    parser.add_argument("--out", required=True, help="MIDI file to write")
    parser.add_argument("--wav", default=None, help="also render audio to this WAV file")
    return parser


def _given(args) -> dict:
    """The GenerateConfig fields the command line sets (numbers checked, each error naming its option)."""
    given = {"chords": args.chords, "style": args.style, "model": args.model, "base_model": args.base,
             "meter": args.meter, "backend": args.backend, "key": args.key, "primer_midi": args.primer,
             "regenerate_from": args.regenerate, "regenerate_bars": args.regenerate_bars}
    for option, name, read in (("bars", "bars", _whole), ("seed", "seed", _whole), ("top_k", "top_k", _whole),
                               ("variations", "variations", _whole), ("tempo", "tempo_bpm", _number),
                               ("temperature", "temperature", _number), ("top_p", "top_p", _number),
                               ("harmony_strength", "harmony_strength", _number),
                               ("max_notes_per_onset", "max_notes_per_onset", _whole)):
        text = getattr(args, option)
        if text is not None:
            try:
                given[name] = read(text)
            except StudioError as exc:
                raise StudioError(f"--{option.replace('_', '-')} {exc}") from None
    for option in ("bass_on_change", "guide_tones"):
        if getattr(args, option) is not None:
            given[option] = getattr(args, option) == "on"
    if args.register is not None:
        low, _, high = args.register.partition("-")
        try:
            given["register_low"], given["register_high"] = _whole(low.strip()), _whole(high.strip())
        except StudioError:
            raise StudioError(f"--register must be two MIDI notes like 28-92 (got {args.register!r})") from None
    return {k: v for k, v in given.items() if v is not None}


def _generate(argv: list[str]) -> dict:
    from ..common.config import load_config
    from ..common.paths import configs_dir
    from .api import STYLES, GenerateConfig, generate

    args = _parser().parse_args(argv)
    preset = None
    if args.preset:
        preset = Path(args.preset) if args.preset.endswith((".yaml", ".yml")) else \
            configs_dir() / "generate" / f"{args.preset}.yaml"
        if not preset.is_file():
            known = ", ".join(sorted(p.stem for p in (configs_dir() / "generate").glob("*.yaml")))
            raise StudioError(f"--preset {args.preset!r} not found (presets: {known})")
    given = _given(args)
    if args.style is None and not args.preset:
        from .model.loading import model_style

        own = model_style(args.model) if args.model else None   # a style adapter plays its own style
        if own is None:
            raise StudioError(f"--style is required ({', '.join(STYLES)}) unless a --preset or a style "
                              "adapter's --model gives one")
        given["style"] = own
    cfg = replace(load_config(GenerateConfig, preset), **given)
    if cfg.style not in STYLES and cfg.model == "rules":
        raise StudioError(f"--style must be one of {', '.join(STYLES)} for the rules model: invalid choice "
                          f"{cfg.style!r}")
    cfg = replace(cfg, render_audio=bool(args.wav), out_dir=str(Path(args.out).resolve().parent))
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


def _bootstrap(argv: list[str]) -> dict:
    from .corpus import bootstrap_dataset

    parser = ArgumentParser(prog="python -m pipelines.generate bootstrap",
                            description="Fill a dataset with the rule-based corpus generator.")
    parser.add_argument("name")
    parser.add_argument("--style", default="gospel")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return bootstrap_dataset(args.name, args.style, args.n, args.seed)


def _ship(argv: list[str]) -> dict:
    from .model.ship import ship_checkpoint

    parser = ArgumentParser(prog="python -m pipelines.generate ship",
                            description="Copy a trained checkpoint to checkpoints/<name> with its corpus profile "
                                        "and a model card.")
    parser.add_argument("model", help="runs/<run>/<checkpoint> or a checkpoint folder")
    parser.add_argument("--name", required=True, help="checkpoints/<name> (default = the studio's default model)")
    parser.add_argument("--dataset", required=True, help="the dataset it was trained on")
    parser.add_argument("--notes", default="", help="a paragraph for the model card")
    parser.add_argument("--base-name", default="", help="adapters: the shipped base they record, e.g. default")
    parser.add_argument("--also-from", action="append", default=[], metavar="DATASET",
                        help="another dataset it learned from (its base's, an earlier pass's): its bars join "
                             "the novelty index; repeat for more")
    args = parser.parse_args(argv)
    return ship_checkpoint(args.model, args.name, args.dataset, args.notes, args.base_name, args.also_from)


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "corpus":
        return _corpus(argv[1:])
    if argv and argv[0] == "ship":
        return _ship(argv[1:])
    if argv and argv[0] == "bootstrap":
        return _bootstrap(argv[1:])
    return _generate(argv)


if __name__ == "__main__":
    sys.exit(run_cli(main))
