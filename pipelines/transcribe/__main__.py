"""CLI of the transcription A/B (prints a JSON summary; bad input -> one sentence, exit 2).

    python -m pipelines.transcribe ab INPUT [--reference REF.mid] [--separator demucs|oracle]
           [--transcriber basic-pitch|external] (--separator none: the mix alone) [--model htdemucs|htdemucs_6s] [--excerpt S]
           [--config configs/transcribe/<preset>.yaml] [--set key=value ...] --out DIR
    python -m pipelines.transcribe batch FOLDER|ZIP|MIDI... [same options] --out DIR
"""
from __future__ import annotations

import sys
from typing import Any

from ..common.cli import ArgumentParser, run_cli
from ..common.config import load_config, parse_overrides
from .config import ABConfig
from .transcribers import TRANSCRIBERS

FLAGS = {  # CLI flag -> config key (the rest goes through --set key=value)
    "separator": "separator", "transcriber": "transcriber", "model": "demucs_model",
    "excerpt": "excerpt_s", "onset_threshold": "onset_threshold",
    "frame_threshold": "frame_threshold", "min_note_ms": "min_note_ms", "device": "device",
    "weights": "demucs_weights_dir",
}


def _parser() -> Any:
    parser = ArgumentParser(prog="python -m pipelines.transcribe",
                            description="Transcribe the mix and the stems, and compare them.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("ab", "one input: audio or a multi-track MIDI"),
                           ("batch", "a folder or zip of multi-track MIDI -> CSV/JSON")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("inputs", nargs="+" if name == "batch" else 1, metavar="INPUT")
        sub.add_argument("--out", required=True, help="output folder")
        sub.add_argument("--config", default=None, help="a YAML preset (configs/transcribe/)")
        sub.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE")
        if name == "ab":
            sub.add_argument("--reference", default=None, help="reference MIDI for audio input")
            sub.add_argument("--no-rolls", action="store_true", help="skip the piano-roll PNGs")
        sub.add_argument("--separator", choices=["demucs", "oracle", "none"],
                         help="oracle (MIDI input; default), demucs, or none (the mix alone)")
        sub.add_argument("--transcriber", choices=list(TRANSCRIBERS))
        sub.add_argument("--model", choices=["htdemucs", "htdemucs_6s"])
        sub.add_argument("--excerpt", type=float, help="keep only the first N seconds")
        sub.add_argument("--onset-threshold", type=float)
        sub.add_argument("--frame-threshold", type=float)
        sub.add_argument("--min-note-ms", type=float)
        sub.add_argument("--device", help="cpu or cuda (Demucs)")
        sub.add_argument("--weights", help="folder with the Demucs model's .yaml and .th files")
    return parser


def config_from_args(args: Any) -> ABConfig:
    overrides: dict[str, Any] = {key: getattr(args, flag) for flag, key in FLAGS.items()
                                 if getattr(args, flag, None) is not None}
    overrides.update(parse_overrides(args.set))
    return load_config(ABConfig, args.config, overrides)


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    cfg = config_from_args(args)
    if args.command == "batch":
        from .batch import run_batch

        summary = run_batch(args.inputs, cfg, args.out)
        return {k: v for k, v in summary.items() if k != "rows"}
    from .compare import run_ab
    from .report import comparison_table, TABLE_COLUMNS

    result = run_ab(args.inputs[0], cfg, args.out, reference=args.reference)
    if not args.no_rolls:
        from .pianoroll import save_all

        save_all(result, cfg.primary_tolerance_s)
    report = result.to_dict()
    return {"report": str(result.out_dir / "report.json"), "sides": result.sides,
            "duration_s": report["duration_s"], "timings_s": report["timings_s"],
            "device": result.device, "notes": result.notes,
            "table": [dict(zip(TABLE_COLUMNS, row)) for row in comparison_table(result.scores)],
            "stems": report["stems"]}


if __name__ == "__main__":
    sys.exit(run_cli(main))
