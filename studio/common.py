"""Widgets and glue shared by the tabs: turning library errors into messages a user can act on, and
checking every input of every endpoint before Gradio's own conversion can fail with its internals."""
from __future__ import annotations

import atexit
import functools
import hashlib
import inspect
import logging
import math
import re
import shutil
import tempfile
import typing
from pathlib import Path
from typing import Any, Callable, Optional

import gradio as gr

from pipelines.common import StudioError

from .access import REQUEST

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000   # a 64-bar chord chart is ~1,000 characters; a comment a few hundred
MAX_MESSAGE_CHARS = 400   # what a refusal may show; the server log keeps the rest
# an absolute path: a "/" not preceded by a word character, a dot, a colon or another "/" (so chord
# slashes such as C/E, meters such as 3/4 and URLs are left alone)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/\\])/(?:[^\s'\"`<>|()\[\]{},;:/]+/)+([^\s'\"`<>|()\[\]{},;:/]*)")


def without_paths(text: str) -> str:
    """``text`` with every absolute server path shortened to its last part (the user's file name)."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "a server folder", text)


def shown(value: Any, limit: int = 40) -> str:
    """A received value as a message shows it: repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def client_message(message: str, next_step: str = "") -> str:
    """One sentence for the client: the reason, then the next step after a semicolon, no paths."""
    message = without_paths(str(message)).strip().rstrip(".") or "the request was refused"
    if next_step:
        message = f"{message}; {next_step[0].lower()}{next_step[1:]}"
    message = " ".join(message.split())  # one line
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS - 1] + "…"
    return message


def _refusal(exc: StudioError, name: str, next_step: str) -> gr.Error:
    """An expected refusal: one log line (no traceback) and one sentence for the client."""
    message = client_message(str(exc), next_step)
    log.info("refused %s: %s", name, message)
    return gr.Error(message, print_exception=False)


def _bug(exc: Exception, name: str) -> gr.Error:
    log.exception("handler %s failed", name)  # a bug: the traceback stays in the server log
    detail = client_message(f"{type(exc).__name__}: {exc}")[:160]
    return gr.Error(f"Something went wrong inside the studio ({detail}); the server log has the details",
                    print_exception=False)


REQUEST_PARAM = "studio_request"
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _is_request(hint: Any) -> bool:
    return hint in (gr.Request, Optional[gr.Request])


def takes_request(fn: Callable, run: Callable[[tuple, dict], Any]) -> Callable:
    """A handler that Gradio passes its ``gr.Request`` to (the public injection: a positional parameter
    annotated ``gr.Request``), which sets ``REQUEST`` for the call and runs ``run(args, kwargs)`` with
    the arguments ``fn`` takes. A handler that already has such a parameter keeps it; any other gets
    one more, ``studio_request``, after its positional parameters (None when called without Gradio)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin: nothing to add
        return fn
    try:
        hints = typing.get_type_hints(fn)  # resolved: ``from __future__ import annotations`` leaves strings
    except Exception:  # unresolvable annotations: Gradio reads none either, so add the one it needs
        hints = {}
    params = list(signature.parameters.values())
    positional = []
    for param in params:
        if param.kind not in _POSITIONAL:
            break
        positional.append(param)
    own = next((i for i, p in enumerate(positional) if _is_request(hints.get(p.name))), None)
    star = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    slot = own if own is not None else len(positional)

    def request_of(args: tuple, kwargs: dict) -> tuple[Any, tuple, dict]:
        if own is not None:  # fn takes the request itself: read it, pass everything on
            name = positional[own].name
            return (args[own] if len(args) > own else kwargs.get(name)), args, kwargs
        request = kwargs.pop(REQUEST_PARAM, None)
        # Gradio puts the request at ``slot``; with *args, only a gr.Request there is one
        if len(args) > slot and (not star or isinstance(args[slot], gr.Request)):
            request, args = args[slot], args[:slot] + args[slot + 1:]
        elif not star and args and isinstance(args[-1], gr.Request):  # wired with fewer inputs than
            request, args = args[-1], args[:-1]                       # parameters: Gradio appends it
        return request, args, kwargs

    if inspect.isgeneratorfunction(fn):
        def handler(*args: Any, **kwargs: Any) -> Any:
            request, args, kwargs = request_of(args, kwargs)
            steps = run(args, kwargs)
            while True:  # set around each step: Gradio may run each one in another thread's context
                token = REQUEST.set(request)
                try:
                    item = next(steps)
                except StopIteration:
                    return
                finally:
                    REQUEST.reset(token)
                yield item
    else:
        def handler(*args: Any, **kwargs: Any) -> Any:
            request, args, kwargs = request_of(args, kwargs)
            token = REQUEST.set(request)
            try:
                return run(args, kwargs)
            finally:
                REQUEST.reset(token)

    functools.update_wrapper(handler, fn)
    if own is None:
        extra = inspect.Parameter(REQUEST_PARAM, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                  annotation=gr.Request)
        params.insert(slot, extra)
        hints = {**hints, REQUEST_PARAM: gr.Request}
    handler.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    handler.__annotations__ = hints  # resolved, so Gradio's typing.get_type_hints cannot fail
    return handler


def ui_errors(next_step: str = "") -> Callable:
    """Decorate a handler: StudioError -> gr.Error with the sentence (and ``next_step``), logged as
    one line; anything else -> gr.Error that says it is a bug, with the traceback in the log. Neither
    message carries a server path. The handler also takes Gradio's request (``takes_request``), so a
    password check inside it knows the client."""

    def wrap(fn: Callable) -> Callable:
        def run(args: tuple, kwargs: dict) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except StudioError as exc:
                raise _refusal(exc, fn.__name__, next_step) from None
            except Exception as exc:
                raise _bug(exc, fn.__name__) from None

        return takes_request(fn, run)

    return wrap


def ui_errors_gen(next_step: str = "") -> Callable:
    """``ui_errors`` for generator handlers (streaming progress)."""

    def wrap(fn: Callable) -> Callable:
        def run(args: tuple, kwargs: dict) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except StudioError as exc:
                raise _refusal(exc, fn.__name__, next_step) from None
            except Exception as exc:
                raise _bug(exc, fn.__name__) from None

        return takes_request(fn, run)

    return wrap


# ---- what a guarded studio shows only after the admin password ---------------------------------

def private_lists(settings: Any) -> bool:
    """True on a studio with an admin password: the lists that name datasets, runs or server folders
    start empty in the page (its ``/config`` is anyone's) and fill once the password is typed."""
    return bool(getattr(settings, "admin_password", None))


def lists_state(settings: Any) -> gr.State:
    """This browser session's "may see the private lists": at once without an admin password, after
    ``unlock_lists`` with one. A State lives on the server, so a client cannot set it."""
    return gr.State(not private_lists(settings))


def unlock_lists(settings: Any, password: Any, unlocked: gr.State, fill: Callable[[], tuple],
                 outputs: list) -> None:
    """Fill ``outputs`` with ``fill()`` when the admin password is typed in ``password`` (Enter or
    leaving the field), and mark the session unlocked; a wrong one is refused like any guarded action
    (counted, one sentence). Nothing is wired on a studio without a password."""
    if not private_lists(settings):
        return

    @ui_errors("Type the studio's admin password")
    def unlock(given: str | None) -> tuple:
        if given in (None, ""):  # the field was left empty: nothing to check
            return (gr.skip(),) * (1 + len(outputs))
        settings.require_admin(given)
        return (True, *fill())

    gr.on([password.submit, password.blur], unlock, [password], [unlocked, *outputs],
          show_progress="hidden", api_visibility="private")


def published_models(settings: Any) -> list[tuple[str, str]]:
    """The models a visitor may pick (Generate, a listening test's systems): on a guarded studio the
    shipped and exported ones (Export in the Train tab publishes a run), never a run's own checkpoint,
    whose name is the run id."""
    from pipelines.generate import list_models

    models = list_models()
    if private_lists(settings):
        models = [(label, value) for label, value in models if not str(value).startswith("runs/")]
    return models


_SHOWN: list[Path] = []


def shown_copy(path: str | Path | None) -> str | None:
    """A private copy of a workspace file the page shows (a run's sample, a dataset's plot or
    preview), for Gradio to copy into its cache: the folder it lives in (runs/, cache/) is never
    served, and the copy's folder (a temp folder, a hash) names no run or dataset."""
    if not path:
        return None
    source = Path(path)
    if not source.is_file():
        return None
    if not _SHOWN:
        _SHOWN.append(Path(tempfile.mkdtemp(prefix="studio-shown-")))
        atexit.register(shutil.rmtree, _SHOWN[0], True)
    stat = source.stat()
    key = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    copy = _SHOWN[0] / key / source.name
    if not copy.is_file():
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, copy)
    return str(copy)


# ---- every input of every endpoint, checked before Gradio converts it ----------------------------

def _label(block: Any, index: int) -> str:
    label = getattr(block, "label", None)
    return f"'{label}'" if label else f"input {index + 1}"


def _refuse(text: str) -> gr.Error:
    log.info("refused an input: %s", text)
    return gr.Error(client_message(text), print_exception=False)


def _number(block: Any, value: Any, name: str) -> Any:
    if value is None and isinstance(block, gr.Number):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _refuse(f"{name} must be a number (got {shown(value)})")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _refuse(f"{name} must be a number (got {shown(value)})") from None
    if not math.isfinite(number):
        raise _refuse(f"{name} must be a finite number (got {shown(value)})")
    low, high = getattr(block, "minimum", None), getattr(block, "maximum", None)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{low:g}-{high:g}" if low is not None and high is not None else (
            f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise _refuse(f"{name} must be {bounds} (got {shown(value)})")
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number


def _text(value: Any, name: str) -> None:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        raise _refuse(f"{name} is {len(value):,} characters long; at most {MAX_TEXT_CHARS:,} are read")


def _choice(block: Any, value: Any, name: str) -> None:
    values = value if isinstance(value, list) and getattr(block, "multiselect", False) else [value]
    choices = [v for _, v in (getattr(block, "choices", None) or [])]
    for item in values:
        if item is None:
            continue
        if not isinstance(item, (str, int, float)) or isinstance(item, bool) or (
                not isinstance(item, str) and all(isinstance(c, str) for c in choices)):
            raise _refuse(f"{name} must be one of its choices (got {shown(item)})")
        _text(item, name)
        if not getattr(block, "allow_custom_value", False) and item not in choices:
            raise _refuse(f"{name} must be one of its choices (got {shown(item)})")


def _file(block: Any, value: Any, name: str) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and getattr(block, "file_count", "single") == "single":
        raise _refuse(f"{name} takes one uploaded file (got a list)")
    for item in items:
        if item is None:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or len(item["path"]) > 4096:
            raise _refuse(f"{name} must be a file uploaded to this studio (got {shown(item)})")


def check_input(block: Any, value: Any, index: int) -> Any:
    """``value`` for ``block`` as the handler may see it, or a gr.Error naming the field (one sentence)."""
    name = _label(block, index)
    if isinstance(block, (gr.Number, gr.Slider)):
        return _number(block, value, name)
    if isinstance(block, gr.Checkbox):
        if value is not None and not isinstance(value, bool):
            raise _refuse(f"{name} must be true or false (got {shown(value)})")
        return value
    if isinstance(block, (gr.Dropdown, gr.Radio)):
        _choice(block, value, name)
        return value
    if isinstance(block, gr.Textbox):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise _refuse(f"{name} must be text (got {shown(value)})")
        _text(value, name)
        return value
    if isinstance(block, (gr.File, gr.Audio, gr.Image, gr.Video)):
        _file(block, value, name)
        return value
    _text(value, name)
    if isinstance(value, float) and not math.isfinite(value):
        raise _refuse(f"{name} must be a finite number (got {shown(value)})")
    return value


def check_inputs_first(demo: gr.Blocks) -> gr.Blocks:
    """Make ``demo`` check every input of every event with ``check_input`` before Gradio converts it,
    so a wrong type or range gets one sentence naming the field instead of "Could not preprocess
    input component at index 5"; anything Gradio still cannot read is refused the same way."""
    original = demo.preprocess_data

    async def preprocess_data(block_fn: Any, inputs: list, state: Any, explicit_call: bool = False) -> Any:
        checked = list(inputs)
        for i, block in enumerate(block_fn.inputs):
            if i >= len(checked) or getattr(block, "stateful", False):
                continue
            current = state[block._id] if state is not None and block._id in state else block
            checked[i] = check_input(current, checked[i], i)
        try:
            return await original(block_fn, checked, state, explicit_call)
        except gr.Error:
            raise
        except Exception as exc:
            log.info("refused inputs of %s: %s", block_fn.name, type(exc).__name__)
            raise gr.Error("one of the inputs could not be read; send the values the API page shows for "
                           "this endpoint", print_exception=False) from None

    demo.preprocess_data = preprocess_data  # type: ignore[method-assign]
    return demo
