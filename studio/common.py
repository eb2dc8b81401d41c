"""Widgets and glue shared by the tabs: turning library errors into messages a user can act on."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

import gradio as gr

from pipelines.common.errors import StudioError

log = logging.getLogger(__name__)


def ui_errors(next_step: str = "") -> Callable:
    """Decorate a handler: StudioError -> gr.Error with the sentence (and ``next_step``);
    anything else -> gr.Error that says it is a bug and where the log is."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except StudioError as exc:
                message = str(exc)
                if next_step:
                    message = f"{message}. {next_step}"
                raise gr.Error(message) from None
            except Exception as exc:  # a bug: keep the traceback in the log
                log.exception("handler %s failed", fn.__name__)
                raise gr.Error(f"Something went wrong inside the studio ({type(exc).__name__}: {exc}). "
                               "The server log has the details.") from None

        return handler

    return wrap


def ui_errors_gen(next_step: str = "") -> Callable:
    """``ui_errors`` for generator handlers (streaming progress)."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except StudioError as exc:
                raise gr.Error(f"{exc}. {next_step}".strip(". ") if next_step else str(exc)) from None
            except Exception as exc:
                log.exception("handler %s failed", fn.__name__)
                raise gr.Error(f"Something went wrong inside the studio ({type(exc).__name__}: {exc}). "
                               "The server log has the details.") from None

        return handler

    return wrap
