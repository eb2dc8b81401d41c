"""What the public tests send and how they judge an answer: bad values per input kind, the signs of
a message that is not one clean sentence, and a snapshot of what a call wrote."""
from __future__ import annotations

import math
import re
from pathlib import Path

from public_client import Answer, Endpoint

MEGABYTE_TEXT = "x" * 1_000_000
BAD_NUMBERS = ["abc", "nan", math.nan, math.inf, -math.inf, 1e30, -1e30, "", MEGABYTE_TEXT, [1]]
BAD_TEXT = [MEGABYTE_TEXT, [1, 2], {"a": 1}, ""]
BAD_FLAGS = ["abc", math.nan, MEGABYTE_TEXT]
BAD_FILES = ["abc", MEGABYTE_TEXT, 5, {"path": 5}]
BAD_ANY = [math.nan, math.inf, 1e30, -1e30, "", MEGABYTE_TEXT, [1], {"a": 1}, None]
BAD_VALUES = {"number": BAD_NUMBERS, "slider": BAD_NUMBERS, "textbox": BAD_TEXT, "dropdown": BAD_TEXT,
              "radio": BAD_TEXT, "checkbox": BAD_FLAGS, "file": BAD_FILES, "audio": BAD_FILES,
              "image": BAD_FILES, "api": BAD_ANY}
# signs that a message came from Gradio's or Python's insides rather than from the studio
INTERNAL = re.compile(r"Could not (pre|post)process|component at index|validation error|Traceback|"
                      r"<class |Error\(|\bFileData\b|For further information|Something went wrong|"
                      r"is not in the list of choices|didn't receive enough input")
SERVER_PATH = re.compile(r"(?<![\w.:/])/(?:home|tmp|root|usr|var|work|private|Users|opt|srv|mnt|data)/")
MAX_CHARS = 400
# values any input check refuses by the component's type alone; the rest pass that check and reach
# the handler, so they are sent to every endpoint (the type-only ones once per component)
REACH_THE_HANDLER = (1e30, -1e30, "", None)


def values_to_try(kind: str, first_time: bool) -> list:
    """The bad values for an input of ``kind``: all of them the first time the component is seen,
    then only those that reach the handler."""
    values = BAD_VALUES.get(kind, [])
    return list(values) if first_time else [v for v in values if isinstance(v, (int, float, str, type(None)))
                                            and v in REACH_THE_HANDLER]


def is_password(item: dict) -> bool:
    """The admin password field of an event: a password box that says password, or the API's
    ``admin_password`` parameter (a hub token is a password box too, but not this one)."""
    return item.get("parameter") == "admin_password" or (
        item["type"] == "textbox" and item["props"].get("type") == "password"
        and "password" in str(item["label"] or "").lower())


def clean_sentence(answer: Answer) -> bool:
    """A refusal a user can read: one line, short, no internals, no server path."""
    text = answer.error or ""
    return (not answer.ok and bool(text.strip()) and "\n" not in text.strip() and len(text) <= MAX_CHARS
            and not INTERNAL.search(text) and not SERVER_PATH.search(text))


def default_inputs(endpoint: Endpoint) -> list:
    """What the page would send before anyone types: each component's value as served."""
    return [item["props"].get("value") for item in endpoint.inputs]


def distinct(endpoints: list[Endpoint]) -> list[Endpoint]:
    """One endpoint per handler and inputs (a form's seventeen .change events share one handler)."""
    seen, kept = set(), []
    for endpoint in endpoints:
        key = (re.sub(r"_\d+$", "", endpoint.api_name), tuple(i["id"] for i in endpoint.inputs))
        if key not in seen:
            seen.add(key)
            kept.append(endpoint)
    return kept


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time (the studio's own log and
    SQLite's shared-memory index, which a read touches, left out)."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.startswith("studio-") and not path.name.endswith("-shm"):
            stat = path.stat()
            found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


def changed(before: dict, after: dict) -> list[str]:
    """Files added, removed or rewritten between two snapshots."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
