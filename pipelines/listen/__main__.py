"""python -m pipelines.listen create|serve|results|export|list|close|open ...

    create [PRESET.yaml] [--set key=value ...] [--system-1 rules] [--system-2 default] [--charts gospel]
           [--more-systems "default@mehldau,rules@mehldau"] [--repeats 2] [--catch-trials 2] [--min-play-s 0]
    plan [PRESET.yaml] [--set ...]    votes needed for a 60/40 preference, minutes per participant
    serve TEST_ID [--host 0.0.0.0] [--port 7860] [--admin-password PW]   the participant page only
    results TEST_ID                   figures as JSON (rates, Wilson CIs, sign tests, ranking, screening)
    export TEST_ID [--out DIR]        votes, participants and clips as CSV, with a codebook
    list | close TEST_ID | open TEST_ID
"""
from __future__ import annotations

import importlib.util
import sys

from ..common.cli import ArgumentParser, run_cli
from ..common.config import load_config, parse_overrides
from ..common.errors import StudioError
from ..common.paths import REPO_ROOT
from .config import ListenTestConfig, check_size, load_charts
from .create import create_test
from .plan import plan_test
from .results import export_csv, results
from .store import connect, get_test, list_tests, set_status

# command-line flag -> config field, for the fields worth a flag of their own
FLAGS = {"name": str, "system_1": str, "system_2": str, "style": str, "style_2": str, "charts": str,
         "seeds_per_chart": int, "bars": int, "tempo_bpm": float, "seed": int, "more_systems": str,
         "repeats": int, "catch_trials": int, "min_play_s": float}


def build_parser():
    parser = ArgumentParser(prog="python -m pipelines.listen", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="render the clips of a new test and store it")
    create.add_argument("preset", nargs="?", default=None, help="a YAML preset (configs/listen/*.yaml)")
    create.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override a field")
    plan = commands.add_parser("plan", help="votes needed and minutes per participant, before creating")
    for sub in (create, plan):
        if sub is plan:
            sub.add_argument("preset", nargs="?", default=None, help="a YAML preset (configs/listen/*.yaml)")
            sub.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE")
        for field, kind in FLAGS.items():
            sub.add_argument(f"--{field.replace('_', '-')}", dest=field, type=kind, default=None)
    serve = commands.add_parser("serve", help="launch the participant page of one test")
    serve.add_argument("test_id")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--admin-password", default=None)
    serve.add_argument("--share", action="store_true")
    for name, text in (("results", "the test's figures"), ("close", "stop taking votes"),
                       ("open", "take votes again")):
        commands.add_parser(name, help=text).add_argument("test_id")
    export = commands.add_parser("export", help="votes and clip metadata as CSV files")
    export.add_argument("test_id")
    export.add_argument("--out", default=None,
                        help="folder for the files (default: workspace/listen-exports/TEST_ID, never served)")
    commands.add_parser("list", help="every test with its counts")
    return parser


def main(argv: list[str] | None = None) -> dict | list:
    args = build_parser().parse_args(argv)
    if args.command in ("create", "plan"):
        overrides = parse_overrides(args.set)
        overrides.update({f: getattr(args, f) for f in FLAGS if getattr(args, f) is not None})
        cfg = load_config(ListenTestConfig, args.preset, overrides)
        if args.command == "plan":
            charts = load_charts(cfg.charts)
            check_size(charts, cfg)
            return plan_test(cfg, len(charts))
        return create_test(cfg)
    if args.command == "results":
        return results(args.test_id)
    if args.command == "export":
        return export_csv(args.test_id, args.out)
    if args.command == "list":
        return list_tests()
    if args.command in ("close", "open"):
        return set_status(args.test_id, "closed" if args.command == "close" else "open")
    return serve(args)


def serve(args) -> dict:
    """Run app.py with --listen-only for an existing test (blocks until the server stops)."""
    with connect() as conn:
        get_test(conn, args.test_id)
    spec = importlib.util.spec_from_file_location("studio_app", REPO_ROOT / "app.py")
    if spec is None or spec.loader is None:
        raise StudioError(f"app.py is missing from {REPO_ROOT}; serve needs the studio app")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    argv = ["--listen-only", args.test_id]
    options = (("--host", args.host), ("--port", args.port), ("--admin-password", args.admin_password))
    for flag, value in options:
        if value is not None:
            argv += [flag, str(value)]
    if args.share:
        argv.append("--share")
    code = app.main(argv)
    return {"test_id": args.test_id, "served": True, "exit_code": code}


if __name__ == "__main__":
    sys.exit(run_cli(main))
