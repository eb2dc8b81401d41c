"""Who may do what on a studio started with an admin password, and the password check itself.

The access model (README, Deployment): an anonymous visitor may do what ``PUBLIC_ACTIONS`` lists
(generate, transcribe their own upload, take a listening test, and read what the studio publishes);
everything that changes or removes saved data, or shows the organiser's private files, asks for the
password. ``tests/test_public_access.py`` enumerates every endpoint of the built app and fails on one
that changes the workspace for an anonymous caller without being listed here or refusing.

The password is compared in constant time. After ``FREE_TRIES`` wrong passwords a client waits
``BASE_DELAY_S``, doubling with each further failure (capped at ``MAX_DELAY_S``), before its next try
is even looked at; a right password clears its count. A refusal is logged as one line.
"""
from __future__ import annotations

import contextvars
import hmac
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from pipelines.common import StudioError

log = logging.getLogger(__name__)

FREE_TRIES = 3          # wrong passwords a client may type before it has to wait (typos happen)
BASE_DELAY_S = 1.0      # the first wait; each further failure doubles it
MAX_DELAY_S = 300.0     # never longer than five minutes, so the admin is never locked out for good
FORGET_AFTER_S = 3600.0  # a client silent this long starts again from zero
WRONG = "the admin password is wrong; type the studio's admin password in the Admin password field"

# What an anonymous visitor may change, by endpoint (api_name) or handler name, and what it writes.
# Everything else either reads only or asks for the admin password.
PUBLIC_ACTIONS: dict[str, str] = {
    "generate": "a take (MIDI, audio, piano roll) in outputs/generate",
    "regenerate": "a new take of the visitor's own take in outputs/generate",
    "transcribe_ab": "the visitor's upload transcribed into outputs/transcribe",
    "transcribe_batch": "the visitor's batch scored into outputs/transcribe (reports only)",
    "listen_join": "a participant of an open listening test in listen.db",
    "listen_play": "the participant's plays in listen.db",
    "listen_vote": "the participant's vote in listen.db",
    "on_start": "a participant of an open listening test in listen.db (the page's Start)",
    "on_resume": "nothing new: a participant continues with their code",
    "on_vote": "the participant's vote in listen.db (the page's Vote)",
    "before_vote": "nothing new: says what is missing before a vote",
    "on_play": "the participant's plays in listen.db (the page's players)",
}


class AccessRefused(StudioError):
    """The admin password was missing, wrong, or tried too often: an expected refusal, not a bug."""


@dataclass
class _Client:
    failures: int = 0
    blocked_until: float = 0.0
    last_seen: float = 0.0


@dataclass
class PasswordGate:
    """The admin password of one studio process, with a growing delay per client after failures."""

    password: str | None = None
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, _Client] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, given: object, client: str = "local") -> None:
        """Return when ``given`` is the password (or none is set); raise AccessRefused otherwise."""
        if not self.password:
            return
        now = self.clock()
        with self._lock:
            self._forget(now)
            state = self._clients.setdefault(client, _Client())
            state.last_seen = now
            if now < state.blocked_until:
                wait = state.blocked_until - now
                log.info("refused an admin action from %s: %d wrong passwords, %.0f s to wait",
                         client, state.failures, wait)
                raise AccessRefused(f"too many wrong admin passwords from your address; try again in "
                                    f"{max(1, round(wait))} s")
            if self._matches(given):
                self._clients.pop(client, None)
                return
            if given in (None, ""):  # nothing was guessed (a button pressed before typing): not counted
                log.info("refused an admin action from %s: no admin password given", client)
                raise AccessRefused(WRONG)
            state.failures += 1
            if state.failures >= FREE_TRIES:
                delay = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (state.failures - FREE_TRIES))
                state.blocked_until = now + delay
            log.info("refused an admin action from %s: wrong admin password (%d in a row)", client,
                     state.failures)
        raise AccessRefused(WRONG)

    def refused_lately(self, client: str = "local") -> bool:
        """True while ``client``'s last try was wrong (or it must wait): a background refresh then
        stays quiet instead of counting the same wrong password again every few seconds."""
        with self._lock:
            state = self._clients.get(client)
            return state is not None and (state.failures > 0 or self.clock() < state.blocked_until)

    def _matches(self, given: object) -> bool:
        if not isinstance(given, str):
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), str(self.password).encode("utf-8"))

    def _forget(self, now: float) -> None:
        stale = [k for k, v in self._clients.items() if now - v.last_seen > FORGET_AFTER_S]
        for key in stale:
            del self._clients[key]


def client_key(request: object | None, behind_proxy: bool = False) -> str:
    """The address a request came from: the proxy's last ``x-forwarded-for`` hop on a Space (the
    one the visitor cannot forge), else the socket's peer; ``"local"`` outside a request."""
    if request is None:
        return "local"
    headers = getattr(request, "headers", None) or {}
    if behind_proxy:
        forwarded = headers.get("x-forwarded-for", "") if hasattr(headers, "get") else ""
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    return str(host) if host else "unknown"


# The Gradio request of the event being handled, set around each handler by ``studio.common``'s
# ``ui_errors`` (which takes it through Gradio's public ``gr.Request`` parameter); None outside one.
REQUEST: contextvars.ContextVar[object | None] = contextvars.ContextVar("studio_request", default=None)


def current_request() -> object | None:
    """The Gradio request of the event being handled, if any (so every check is per client)."""
    return REQUEST.get()
