"""The running studio's listening endpoints, and the server killed with SIGKILL mid-session."""
from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import urllib.request

import pytest
from conftest import start_studio, stop_studio
from test_listen_store import make_test

from pipelines.listen.store import connect

PASSWORD = "organiser-secret"


class EndpointError(Exception):
    """The endpoint answered with an error (a refused vote, a bad id)."""


def call(url: str, api_name: str, *args, timeout_s: float = 20.0):
    """Call a named Gradio endpoint over plain HTTP (POST, then read the event stream)."""
    body = json.dumps({"data": list(args)}).encode()
    request = urllib.request.Request(f"{url}/gradio_api/call/{api_name}", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        event_id = json.loads(response.read())["event_id"]
    events_url = f"{url}/gradio_api/call/{api_name}/{event_id}"
    with urllib.request.urlopen(events_url, timeout=timeout_s) as response:
        stream = response.read().decode()
    event, data = None, None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = line.split(":", 1)[1].strip()
    if event != "complete":
        raise EndpointError(data)
    return json.loads(data)[0]


def vote_rows(home) -> list[tuple]:
    with connect(home / "listen.db") as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT u.token, v.pair_id, v.choice FROM votes v "
            "JOIN participants u ON u.id = v.participant_id")]


def voter(url: str, test_id: str, state: dict, acked: list, stop: threading.Event) -> None:
    """Vote through the participant's pairs until told to stop or the server goes away."""
    choices = ("A", "B", "tie")
    while not stop.is_set() and state["next_pair"] is not None:
        pair, choice = state["next_pair"], choices[state["voted"] % 3]
        try:
            state.update(call(url, "listen_vote", test_id, state["token"], pair, choice, "", timeout_s=10))
        except (OSError, http.client.HTTPException, EndpointError, ValueError):
            return  # the server was killed: this vote was never acknowledged
        acked.append((state["token"], pair, choice))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_votes_survive_kill_9_and_none_count_twice(studio_home):
    test_id = make_test("fault-test-1a2b3c", charts=3, seeds=4)  # 12 pairs
    args = ("--listen-only", test_id, "--admin-password", PASSWORD)
    proc, url = start_studio(studio_home, *args)
    try:
        states = [call(url, "listen_join", test_id, f"p{i}", "") for i in range(2)]
        acked: list[tuple] = []
        stop = threading.Event()
        threads = [threading.Thread(target=voter, args=(url, test_id, s, acked, stop)) for s in states]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < 7 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # mid-session: both voters are in the middle of requests
        proc.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=30)
        assert 7 <= len(acked) < 24, f"the kill came too late to test anything ({len(acked)} votes)"
    finally:
        stop_studio(proc)

    stored = vote_rows(studio_home)
    assert set(acked) <= set(stored)                        # every acknowledged vote is there
    assert len(stored) == len({(t, p) for t, p, _ in stored})  # and none twice
    assert len(stored) - len(acked) <= 2                    # at most the two in flight, not acknowledged

    proc, url = start_studio(studio_home, *args)  # restart on the same store
    try:
        token, pair, choice = acked[0]
        with pytest.raises(EndpointError, match="already voted"):
            call(url, "listen_vote", test_id, token, pair, "B" if choice != "B" else "A", "")
        for state in states:  # both participants resume where the store says they are, and finish
            state.update(call(url, "listen_progress", test_id, state["token"]))
            voter(url, test_id, state, acked, threading.Event())
            assert state["voted"] == state["total"] == 12 and state["next_pair"] is None
        with pytest.raises(EndpointError, match="admin password is wrong"):
            call(url, "listen_results", test_id, "guess")
        figures = call(url, "listen_results", test_id, PASSWORD)
        with pytest.raises(EndpointError, match="only runs test"):
            call(url, "listen_join", "another-test", "", "")
    finally:
        stop_studio(proc)
    assert figures["overall"]["votes"] == 24 == len(vote_rows(studio_home))
    assert figures["completed_participants"] == 2
    assert set(acked) <= set(vote_rows(studio_home))
