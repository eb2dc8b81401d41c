"""CLI plumbing shared by every ``python -m pipelines.<name>``: JSON on stdout, one sentence on error."""
from __future__ import annotations

import contextlib
import json
import logging
import sys
from typing import Any, Callable


def run_cli(main: Callable[[list[str] | None], Any], argv: list[str] | None = None) -> int:
    """Call ``main(argv)``; print its result as JSON; StudioError -> one line on stderr, exit 2.

    While ``main`` runs, anything printed to stdout (libraries that chat on import, such as
    pyfluidsynth when ``CI`` is set) goes to stderr, so stdout carries only the JSON summary."""
    from .errors import StudioError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = main(argv)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(exc, "local_detail", None):  # its own line: callers that relay "error: " skip it
            print(f"detail: {exc.local_detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print(json.dumps(result, indent=2, default=str))
    return 0


class ArgumentParser:
    """argparse that raises StudioError (exit 2 with one sentence) instead of printing usage."""

    def __new__(cls, *args: Any, **kwargs: Any):  # noqa: D102
        import argparse

        from .errors import StudioError

        class _Parser(argparse.ArgumentParser):
            def error(self, message: str) -> None:  # type: ignore[override]
                raise StudioError(f"{message} (see {self.prog} --help)")

        return _Parser(*args, **kwargs)
