"""Music Model Studio: builds the Gradio app and launches it.

    python app.py [--host HOST] [--port 7860] [--share] [--root-path /path] [--admin-password PW]

On a Hugging Face Space the environment decides: ``SPACE_ID`` marks a public deployment (listen on
0.0.0.0, uploads capped), ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT``/``GRADIO_ROOT_PATH`` and
``STUDIO_ADMIN_PASSWORD`` (a Space secret) fill the options not given on the command line.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from studio.settings import StudioSettings

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> StudioSettings:
    """Command-line options, with the environment (a Space's included) as defaults."""
    env = os.environ
    on_space = bool(env.get("SPACE_ID")) or env.get("SYSTEM") == "spaces"
    parser = argparse.ArgumentParser(prog="app.py", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=env.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_space else "127.0.0.1"),
                        help="interface to listen on (0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=int(env.get("GRADIO_SERVER_PORT", env.get("PORT", 7860))))
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--root-path", default=env.get("GRADIO_ROOT_PATH", ""),
                        help="URL prefix when served behind a proxy, e.g. /studio")
    parser.add_argument("--admin-password", default=env.get("STUDIO_ADMIN_PASSWORD"),
                        help="password that guards training launches, deletions and listening-test admin")
    parser.add_argument("--max-upload-mb", type=int, default=50 if on_space else 200)
    parser.add_argument("--listen-only", metavar="TEST_ID", default=None,
                        help="serve only the participant page of this listening test")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be 1-65535 (got {args.port})")
    return StudioSettings(host=args.host, port=args.port, share=args.share, root_path=args.root_path,
                          admin_password=args.admin_password or None, on_space=on_space,
                          max_upload_mb=args.max_upload_mb, listen_only=args.listen_only)


def served_folders() -> list[str]:
    """Folders whose files the browser may fetch: what visitors make and hear (``outputs/``, the
    listening tests' clips in ``listen/``). Never runs/, datasets/, models/, exports, listen.db nor the
    caches: the page gets a run's samples or a dataset's plots as private copies (Gradio's own cache)."""
    from pipelines.common import served_dirs

    return [str(path) for path in served_dirs()]


def blocked_folders() -> list[str]:
    """Workspace entries Gradio must neither serve nor hand out in place, whatever else allows them."""
    from pipelines.common import private_paths

    return [str(path) for path in private_paths()]


def launch_options(settings: StudioSettings) -> dict:
    """The keyword arguments of ``demo.launch`` (the served and blocked folders among them)."""
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        root_path=settings.root_path or None,
        max_file_size=f"{settings.max_upload_mb}mb",
        css_paths=[HERE / "assets" / "studio.css"],
        allowed_paths=served_folders(),
        blocked_paths=blocked_folders(),
        show_error=True,
        footer_links=["api", "gradio"],
    )


def _warm_up_in_background() -> None:
    """Prepare the shipped models' decoders while the page loads, the default first, then each shipped
    adapter (an export timed once per checkpoint, cached); STUDIO_WARMUP=0 turns this off."""
    import threading

    from pipelines.common import checkpoints_dir

    shipped = checkpoints_dir()
    if not (shipped / "default" / "config.json").is_file():
        return
    from pipelines.generate import warm_up

    adapters = sorted(f"checkpoints/{p.name}" for p in shipped.iterdir() if (p / "adapter_config.json").is_file())

    def one_after_another() -> None:
        for model in ["default", *adapters]:
            warm_up(model)

    threading.Thread(target=one_after_another, name="warm-up", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from pipelines.common import StudioError, move_legacy_workspace
    from studio import build_studio

    move_legacy_workspace()

    try:
        demo = build_studio(settings)
    except StudioError as exc:  # e.g. --listen-only with a test id that does not exist
        print(f"error: {exc}", file=sys.stderr)
        return 2
    demo.queue(default_concurrency_limit=2, max_size=64)
    if not settings.listen_only and os.environ.get("STUDIO_WARMUP", "1") != "0":
        _warm_up_in_background()
    demo.launch(**launch_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
