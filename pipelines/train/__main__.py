"""python -m pipelines.train start|run|status|stop|skip|abort|resume|continue|list|delete|check|export|...

start CONFIG.yaml [--set key=value ...]      start detached (queued while another run trains); prints the run id
run CONFIG.yaml [--set ...] [--run-dir DIR]  train in the foreground (what start runs)
status RUN_ID | stop RUN_ID | skip RUN_ID | abort RUN_ID | resume RUN_ID | delete RUN_ID
compare RUN_ID RUN_ID...                      best losses side by side and the config keys that differ
continue RUN_ID [--preset stage2_gospel] [--set ...]   a stage-2 run from RUN_ID's best checkpoint
list                                          every run with its true state
check CONFIG.yaml [--set ...]                 refusals and the dataset's sequence-length report
export RUN_ID --name NAME [--checkpoint best] [--push-to REPO --token TOKEN]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..common.cli import ArgumentParser, run_cli
from ..common.config import parse_overrides


def _parser() -> Any:
    parser = ArgumentParser(prog="python -m pipelines.train", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "run", "check"):
        p = sub.add_parser(name)
        p.add_argument(
            "config",
            nargs="?",
            default=None,
            help="a YAML config or a preset name from configs/train/ (none: the defaults)",
        )
        p.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE")
        if name == "run":
            p.add_argument("--run-dir", default=None)
            p.add_argument("--resume-step", type=int, default=0)
        if name == "start":
            p.add_argument("--preset-label", default=None, help="what the run history calls this config")
    for name in ("status", "stop", "skip", "abort", "resume", "delete"):
        sub.add_parser(name).add_argument("run_id")
    sub.add_parser("compare").add_argument("run_ids", nargs="+")
    sub.add_parser("list")
    p = sub.add_parser("supervise")
    p.add_argument("run_id")
    p.add_argument("--resume-step", type=int, default=0)
    p = sub.add_parser("continue")
    p.add_argument("run_id")
    p.add_argument("--preset", default=None)
    p.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE")
    p = sub.add_parser("export")
    p.add_argument("run_id")
    p.add_argument("--name", required=True)
    p.add_argument("--checkpoint", default="best")
    p.add_argument("--push-to", default=None)
    p.add_argument("--token", default=None)
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    from . import launcher, runs

    args = _parser().parse_args(argv)
    cmd = args.command
    if cmd in ("start", "run", "check"):
        from .config import load_train_config

        cfg = load_train_config(args.config, parse_overrides(args.set))
        if cmd == "start":
            return launcher.start(cfg, args.preset_label or launcher.preset_label(args.config))
        if cmd == "check":
            from .status import check_config

            return check_config(cfg)
        return launcher.run_foreground(cfg, Path(args.run_dir) if args.run_dir else None, args.resume_step)
    if cmd == "supervise":
        return launcher.supervise(args.run_id, args.resume_step)
    if cmd == "status":
        from .status import run_report

        return run_report(args.run_id)
    if cmd == "list":
        return {"runs": runs.list_runs()}
    if cmd == "compare":
        from .history import compare_runs

        return compare_runs(args.run_ids)
    if cmd == "delete":
        return runs.delete_run(args.run_id)
    if cmd == "continue":
        return launcher.continue_run(args.run_id, args.preset, parse_overrides(args.set))
    if cmd == "export":
        from .export import export_run

        return export_run(args.run_id, args.name, args.checkpoint, args.push_to, args.token)
    return getattr(launcher, cmd)(args.run_id)


if __name__ == "__main__":
    code = run_cli(main)
    if os.environ.get("STUDIO_SUPERVISED"):  # a trainer: its files are written and closed; skip the
        sys.stdout.flush()  # seconds torch and its threads take to tear down, so the process is gone
        sys.stderr.flush()  # when its state says it ended
        os._exit(code)
    sys.exit(code)
