"""``python -m pipelines.data ingest|tokenize|stats|preview|list ...``: JSON on stdout.

    python -m pipelines.data ingest PATH(file, folder or zip)... --dataset NAME [--style STYLE] [--label mood:calm]
           [--keep-programs] [--keep-drums] [--set max_duration_min=90]
    python -m pipelines.data tokenize NAME [--tokenizer studio|remi|tsd|configs/tokenizers/<t>.yaml]
           [--set max_seq_len=2048] [--augment transpose=3 tempo_pct=10 velocity_jitter=8]
           [--valid 0.1] [--test 0.1] [--seed 0]
    python -m pipelines.data stats NAME
    python -m pipelines.data preview NAME FILE_HASH
    python -m pipelines.data list

A dataset of rule-based performances is the corpus generator's: ``python -m pipelines.generate bootstrap``.
"""
from __future__ import annotations

import sys

from ..common.cli import ArgumentParser, run_cli
from ..common.config import from_dict, parse_overrides
from ..common.errors import StudioError

VERBS = ("ingest", "tokenize", "stats", "bootstrap", "preview", "list")


def _ingest(argv: list[str]) -> dict:
    from .ingest import IngestConfig, ingest

    parser = ArgumentParser(prog="python -m pipelines.data ingest",
                            description="Add MIDI files, folders of them or zips to a dataset.")
    parser.add_argument("paths", nargs="+", help=".mid/.midi files, folders (searched recursively) and .zip archives")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--style", default="general")
    parser.add_argument("--label", action="append", default=[], help="a free label, e.g. mood:calm (repeatable)")
    parser.add_argument("--keep-programs", action="store_true", help="keep instruments instead of one piano part")
    parser.add_argument("--keep-drums", action="store_true")
    parser.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE", help="other IngestConfig fields")
    args = parser.parse_args(argv)
    values = {"dataset": args.dataset, "style": args.style, "labels": args.label,
              "merge_tracks": not args.keep_programs, "drop_drums": not args.keep_drums}
    cfg = from_dict(IngestConfig, {**values, **parse_overrides(args.set)}, "ingest options")
    return ingest(args.paths, cfg)


def _tokenize(argv: list[str]) -> dict:
    from .augment import AugmentConfig
    from .build import SplitConfig, tokenize_dataset
    from .tokenizers import tokenizer_preset

    parser = ArgumentParser(prog="python -m pipelines.data tokenize", description="Tokenize a dataset into splits.")
    parser.add_argument("name")
    parser.add_argument("--tokenizer", default="studio", help="preset name (studio, remi, tsd) or a YAML path")
    parser.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE", help="TokenizerConfig overrides")
    parser.add_argument("--augment", nargs="*", default=[], metavar="KEY=VALUE",
                        help="transpose=K tempo_pct=N velocity_jitter=J seed=S (train split only)")
    parser.add_argument("--valid", type=float, default=0.1, help="share of files for validation")
    parser.add_argument("--test", type=float, default=0.1, help="share of files for test")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tokenizer_cfg = tokenizer_preset(args.tokenizer, parse_overrides(args.set))
    augment = from_dict(AugmentConfig, parse_overrides(args.augment), "--augment")
    split = SplitConfig(valid_share=args.valid, test_share=args.test, seed=args.seed)
    return tokenize_dataset(args.name, tokenizer_cfg, augment, split)


def _stats(argv: list[str]) -> dict:
    from .analysis import dataset_stats

    parser = ArgumentParser(prog="python -m pipelines.data stats", description="Statistics of a dataset as JSON.")
    parser.add_argument("name")
    args = parser.parse_args(argv)
    return dataset_stats(args.name)


def _bootstrap(argv: list[str]) -> dict:
    raise StudioError("bootstrap belongs to the corpus generator: run python -m pipelines.generate bootstrap "
                      + " ".join(argv or ["NAME", "--style", "gospel", "--n", "20"]))


def _preview(argv: list[str]) -> dict:
    from .preview import round_trip_preview

    parser = ArgumentParser(prog="python -m pipelines.data preview",
                            description="Render a file and its token round trip to WAV.")
    parser.add_argument("name")
    parser.add_argument("file_hash")
    args = parser.parse_args(argv)
    return round_trip_preview(args.name, args.file_hash)


def _list(argv: list[str]) -> dict:
    from .dataset import list_datasets

    ArgumentParser(prog="python -m pipelines.data list").parse_args(argv)
    return {"datasets": list_datasets()}


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(f"usage: python -m pipelines.data {{{','.join(VERBS)}}} ...  (each verb has its own --help)",
              file=sys.__stdout__)
        return None
    if not argv or argv[0] not in VERBS:
        raise StudioError(f"the first word must be one of {', '.join(VERBS)} (got {argv[0] if argv else 'nothing'})")
    verb, rest = argv[0], argv[1:]
    return {"ingest": _ingest, "tokenize": _tokenize, "stats": _stats, "bootstrap": _bootstrap,
            "preview": _preview, "list": _list}[verb](rest)


if __name__ == "__main__":
    sys.exit(run_cli(main))
