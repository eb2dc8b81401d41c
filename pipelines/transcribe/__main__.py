"""CLI of the transcription A/B (prints a JSON summary; bad input -> one sentence, exit 2).

    python -m pipelines.transcribe ab INPUT [--reference REF.mid] [--separator demucs|oracle]
           [--transcriber basic-pitch|muscriptor|external] (--separator none: the mix alone)
           [--model MODEL] [--device auto|cpu|cuda] [--excerpt S]
           [--config configs/transcribe/<preset>.yaml] [--set key=value ...] --out DIR
    python -m pipelines.transcribe batch FOLDER|ZIP|MIDI... [same options] --out DIR
    python -m pipelines.transcribe slakh SPLIT_FOLDER [--separators htdemucs ...] [--max-tracks N]
           [same options] --out DIR     (Slakh2100 study: cached per track, bootstrap intervals)
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from ..common.cli import ArgumentParser, run_cli
from ..common.config import load_config, parse_overrides
from .config import ABConfig, separator_names
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
                           ("batch", "a folder or zip of multi-track MIDI -> CSV/JSON"),
                           ("slakh", "a Slakh2100 split folder -> the stems-versus-mix study")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("inputs", nargs="+" if name == "batch" else 1, metavar="INPUT")
        sub.add_argument("--out", required=True, help="output folder")
        sub.add_argument("--config", default=None, help="a YAML preset (configs/transcribe/)")
        sub.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE")
        if name == "ab":
            sub.add_argument("--reference", default=None, help="reference MIDI for audio input")
            sub.add_argument("--no-rolls", action="store_true", help="skip the piano-roll PNGs")
        if name == "slakh":
            sub.add_argument("--separators", nargs="+", default=None, metavar="MODEL",
                             help="separator models to compare (default: --model when --separator "
                                  "demucs, else none); the track's own stems are always the oracle")
            sub.add_argument("--max-tracks", type=int, default=None, help="only the first N tracks")
        sub.add_argument("--separator", choices=["demucs", "oracle", "none"],
                         help="oracle (MIDI input; default), demucs, or none (the mix alone)")
        sub.add_argument("--transcriber", choices=list(TRANSCRIBERS))
        sub.add_argument("--model", choices=list(separator_names()),
                         help="separation model; also picks the stem classes scored")
        sub.add_argument("--excerpt", type=float, help="keep only the first N seconds")
        sub.add_argument("--onset-threshold", type=float)
        sub.add_argument("--frame-threshold", type=float)
        sub.add_argument("--min-note-ms", type=float)
        sub.add_argument("--device", help="auto (cuda when present), cpu or cuda: separation and "
                                          "the torch transcribers")
        sub.add_argument("--weights", help="folder with the Demucs model's .yaml and .th files")
    return parser


def config_from_args(args: Any) -> ABConfig:
    overrides: dict[str, Any] = {key: getattr(args, flag) for flag, key in FLAGS.items()
                                 if getattr(args, flag, None) is not None}
    overrides.update(parse_overrides(args.set))
    return load_config(ABConfig, args.config, overrides)


def _stderr_progress(fraction: float, message: str) -> None:
    """Progress of a long CLI run on stderr (stdout carries the JSON summary)."""
    print(f"[{fraction * 100:5.1f} %] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    cfg = config_from_args(args)
    if args.command == "slakh":
        from .study import run_slakh

        command = "python -m pipelines.transcribe " + shlex.join(sys.argv[1:] if argv is None else argv)
        summary = run_slakh(args.inputs[0], cfg, args.out, separators=args.separators,
                            progress=_stderr_progress, command=command, max_tracks=args.max_tracks)
        keep = ("tracks", "scored", "cached", "skipped", "seconds", "mix_scoring",
                "real_time_factor", "files")
        return {**{k: summary[k] for k in keep}, "json": str(Path(args.out) / "study.json"),
                "differences": [r for r in summary["differences"] if r["mean"] is not None]}
    if args.command == "batch":
        from .batch import run_batch

        summary = run_batch(args.inputs, cfg, args.out)
        return {k: v for k, v in summary.items() if k != "rows"}
    from .compare import run_ab
    from .report import comparison_table, TABLE_COLUMNS

    result = run_ab(args.inputs[0], cfg, args.out, reference=args.reference, rolls=not args.no_rolls)
    report = result.to_dict()
    return {"report": str(result.out_dir / "report.json"), "sides": result.sides,
            "duration_s": report["duration_s"], "timings_s": report["timings_s"],
            "real_time_factor": report["real_time_factor"],
            "device": result.device, "notes": result.notes,
            "table": [dict(zip(TABLE_COLUMNS, row)) for row in comparison_table(result.scores)],
            "stems": report["stems"]}


if __name__ == "__main__":
    sys.exit(run_cli(main))
