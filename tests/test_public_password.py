"""The admin password: compared in constant time, a growing wait per client after wrong tries, the
right password welcome again once the wait is over, and each refusal one line in the server log."""
from __future__ import annotations

import math
import time

import pytest

import studio.access as access
from conftest import start_studio, stop_studio
from public_client import call, endpoints
from public_probe import clean_sentence
from studio.access import BASE_DELAY_S, FREE_TRIES, MAX_DELAY_S, AccessRefused, PasswordGate
from studio.settings import StudioSettings

PASSWORD = "s3cret-admin"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(gate: PasswordGate, given: str, client: str = "1.2.3.4") -> str | None:
    try:
        gate.check(given, client)
    except AccessRefused as exc:
        return str(exc)
    return None


def test_wrong_tries_make_a_client_wait_longer_each_time():
    clock = Clock()
    gate = PasswordGate(PASSWORD, clock=clock)
    for _ in range(FREE_TRIES):
        assert "wrong" in refused(gate, "guess")
    # the last free try started the first wait: even the right password is not looked at now
    assert "try again in" in refused(gate, PASSWORD)
    waits = []
    for _ in range(5):
        message = refused(gate, "guess")
        while message and "try again in" in message:
            clock.now += 0.5
            message = refused(gate, "guess")
        assert message and "wrong" in message
        waits.append(clock.now)
    gaps = [b - a for a, b in zip(waits, waits[1:])]
    assert all(later > earlier for earlier, later in zip(gaps, gaps[1:])), gaps
    assert gaps[0] >= BASE_DELAY_S


def test_the_right_password_after_the_wait_clears_the_count():
    clock = Clock()
    gate = PasswordGate(PASSWORD, clock=clock)
    for _ in range(FREE_TRIES + 4):
        refused(gate, "guess")
        clock.now += 0.01
    clock.now += MAX_DELAY_S + 1
    assert refused(gate, PASSWORD) is None
    assert "wrong" in refused(gate, "typo")  # a fresh count: one typo is not a wait
    assert refused(gate, PASSWORD) is None


def test_an_empty_field_is_refused_but_not_counted_as_a_guess():
    gate = PasswordGate(PASSWORD, clock=Clock())
    for _ in range(10):
        assert "wrong" in refused(gate, "")
        assert "wrong" in refused(gate, None)
    assert refused(gate, PASSWORD) is None


def test_a_background_refresh_counts_a_wrong_password_once():
    """The Listen tab's results refresh every few seconds with the typed password: after one wrong
    try it stays quiet (refused_lately) instead of locking the organiser out by counting each tick."""
    clock = Clock()
    gate = PasswordGate(PASSWORD, clock=clock)
    assert not gate.refused_lately("1.2.3.4")
    assert "wrong" in refused(gate, "typo")
    for _ in range(30):  # what the tick does: ask first, check only when the last try was right
        clock.now += 10
        if not gate.refused_lately("1.2.3.4"):
            refused(gate, "typo")
    assert gate._clients["1.2.3.4"].failures == 1
    assert refused(gate, PASSWORD) is None and not gate.refused_lately("1.2.3.4")
    assert not gate.refused_lately("10.0.0.7")


def test_one_client_guessing_does_not_lock_out_another():
    gate = PasswordGate(PASSWORD, clock=Clock())
    for _ in range(30):
        refused(gate, "guess", client="10.0.0.66")
    assert refused(gate, PASSWORD, client="10.0.0.7") is None
    assert "try again in" in refused(gate, PASSWORD, client="10.0.0.66")


def test_the_comparison_is_constant_time(monkeypatch):
    seen = []
    real = access.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    gate = PasswordGate(PASSWORD, clock=Clock())
    assert refused(gate, PASSWORD) is None
    assert refused(gate, PASSWORD[:-1] + "X") is not None
    assert len(seen) == 2 and all(isinstance(a, bytes) for a, _ in seen)


def test_no_password_set_lets_everyone_in_and_a_non_text_password_is_just_wrong():
    assert StudioSettings().check_admin(None)
    settings = StudioSettings(admin_password=PASSWORD)
    assert not settings.check_admin(12345)
    assert not settings.check_admin(["s3cret-admin"])
    assert settings.check_admin(PASSWORD)


def test_a_space_counts_the_visitor_behind_the_proxy_not_the_proxy():
    class Request:
        headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}
        client = type("C", (), {"host": "10.0.0.1"})()

    assert access.client_key(Request(), behind_proxy=True) == "203.0.113.9"
    assert access.client_key(Request(), behind_proxy=False) == "10.0.0.1"


def test_a_handler_gets_its_request_through_gradios_public_parameter():
    """``ui_errors`` adds a ``gr.Request`` parameter (Gradio fills it), sets it for ``current_request``
    during the call and strips it before the handler; called without Gradio there is none ("local")."""
    import inspect

    import gradio as gr

    from studio.common import ui_errors

    @ui_errors()
    def guarded(password: str, *form: str) -> tuple:
        return access.current_request(), form

    assert inspect.signature(guarded).parameters["studio_request"].annotation is gr.Request
    request = gr.Request()
    assert guarded("pw", request, "a", "b") == (request, ("a", "b"))
    assert guarded("pw", "a") == (None, ("a",))
    assert access.current_request() is None and access.client_key(access.current_request()) == "local"


@pytest.fixture(scope="module")
def guarded_studio(tmp_path_factory):
    home = tmp_path_factory.mktemp("password_home")
    proc, url = start_studio(home, "--admin-password", PASSWORD)
    yield url, home
    stop_studio(proc)


def test_thirty_wrong_passwords_in_a_burst_are_slowed_and_logged_as_one_line_each(guarded_studio):
    url, home = guarded_studio
    stop = next(e for e in endpoints(url) if e.api_name == "stop_run")
    start = time.monotonic()
    answers = [call(url, stop.fn_index, [None, f"guess-{i}"]) for i in range(30)]
    burst_s = time.monotonic() - start
    assert all(not a.ok and clean_sentence(a) and "password" in a.error for a in answers), answers[:3]
    # right after the burst the right password is not even looked at: the client has to wait
    right = call(url, stop.fn_index, [None, PASSWORD])
    assert not right.ok and "password" in right.error and "no run chosen" not in right.error, right
    log = next(home.glob("studio-*.log")).read_text()
    checked = log.count("wrong admin password (")
    waited = log.count("s to wait")
    print(f"\nFIGURE password: 30 wrong passwords in {burst_s:.1f} s -> {checked} checked, "
          f"{waited + 1} refused unchecked (the right one included)")
    # the waits 1, 2, 4 ... s add up to the burst's length after at most log2(burst + 1) of them
    allowed = FREE_TRIES + int(math.log2(burst_s / BASE_DELAY_S + 1)) + 1
    assert checked <= allowed, f"{checked} wrong passwords were checked in {burst_s:.1f} s (at most {allowed})"
    assert waited >= 30 - checked
    assert "Traceback" not in log
    # each check knew the client (Gradio hands every handler its request), none fell back to "local"
    assert "admin action from 127.0.0.1:" in log and "admin action from local" not in log
