"""Export, then fetch as a participant: after the organiser exports a listening test through the
guarded action, a participant who knows where the clips are served (and the studio's layout) asks
for every place the export, the votes or the uploaded data could be, over plain HTTP."""
from __future__ import annotations

import httpx
import pytest
from test_listen_store import make_test

from conftest import start_studio, stop_studio
from pipelines.listen import join
from pipelines.listen.store import listen_dir
from public_client import call, endpoints
from public_probe import clean_sentence, is_password

PASSWORD = "export-admin-password"


@pytest.fixture
def studio_with_a_test(studio_home):
    test_id = make_test(systems=2, charts=1, seeds=1)
    join(test_id, name="Ada Lovelace", experience="student")
    proc, url = start_studio(studio_home, "--admin-password", PASSWORD)
    yield url, studio_home, test_id
    stop_studio(proc)


def _by_name(url: str) -> dict:
    return {e.api_name: e for e in endpoints(url)}


def test_a_participant_cannot_fetch_the_export_or_the_votes(studio_with_a_test):
    url, home, test_id = studio_with_a_test
    found = _by_name(url)
    export = found["on_export"]
    refresh = next(e for e in found.values() if len(e.inputs) == 1 and is_password(e.inputs[0])
                   and not e.api_name.startswith("unlock"))  # the Listen tab's Refresh list, not a tab's unlock
    # a visitor without the password is refused in one sentence (the test list never reached them)
    for guess in ("", "not-it"):
        call(url, refresh.fn_index, [guess], session_hash="visitor0001")
        anonymous = call(url, export.fn_index, [guess, test_id], session_hash="visitor0001")
        assert clean_sentence(anonymous) and not anonymous.ok, anonymous
    assert not (home / "listen-exports").exists()
    # the organiser: the password lists the tests in this session, then the export comes back as files
    session = "organiser01"
    assert call(url, refresh.fn_index, [PASSWORD], session_hash=session).ok
    exported = call(url, export.fn_index, [PASSWORD, test_id], session_hash=session)
    assert exported.ok, exported.error
    names = sorted(f["orig_name"] for f in exported.output[0])
    assert f"{test_id}-votes.csv" in names and f"{test_id}-clips.csv" in names
    # the participant knows a clip's served folder, so the prefix of every clip URL
    clips = listen_dir(test_id) / "clips"
    clip = next(clips.glob("*.wav"))
    with httpx.Client(timeout=30) as http:
        assert http.get(f"{url}/gradio_api/file={clip}").status_code == 200  # clips are served
        places = [listen_dir(test_id), listen_dir(test_id) / "export", clips, home / "listen-exports" / test_id,
                  home / "listen-exports", home, home / "listen"]
        for folder in places:
            for name in names + ["listen.db", "listen.db-wal"]:
                answer = http.get(f"{url}/gradio_api/file={folder}/{name}")
                assert answer.status_code in (403, 404), f"{folder}/{name} was served"
                assert "Ada Lovelace" not in answer.text
        assert http.get(f"{url}/gradio_api/file={home}/datasets").status_code in (403, 404)
    assert not list(listen_dir(test_id).rglob("*.csv"))  # nothing of the export in the served folder
