"""The access model of a guarded studio, checked against every endpoint a stranger can call.

Each event with a Python handler (named or not: the page calls them all by index) is one of:
guarded (it takes the admin password and refuses a wrong one, changing nothing), a public action
listed in ``studio.access.PUBLIC_ACTIONS`` (and in the README), or read-only: called with what the
page would send, on a workspace that holds a dataset under the default name, it changes nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, start_studio, stop_studio
from pipelines.data.ingest import IngestConfig, ingest
from pipelines.listen.store import connect
from pipelines.music.piece import Note, Piece
from public_client import call, endpoints, upload
from public_probe import changed, clean_sentence, default_inputs, is_password, snapshot
from studio.access import PUBLIC_ACTIONS

PASSWORD = "access-admin-password"
# what the anonymous-rewrite holes were: each must now ask for the password
MUST_BE_GUARDED = {"ingest", "tokenize", "bootstrap_dataset", "start_run", "stop_run"}


def tiny_midi(path: Path, pitch: int = 60) -> Path:
    """Two bars of quarter notes: a real MIDI file a visitor could upload."""
    notes = [Note(float(i), pitch + i % 5, 0.9, 80) for i in range(8)]
    return Piece(notes=notes, tempo_bpm=100.0).write_midi(path)


@pytest.fixture(scope="module")
def guarded_studio(tmp_path_factory):
    """A studio with an admin password whose workspace holds a dataset under the form's default name."""
    home = tmp_path_factory.mktemp("access_home")
    work = tmp_path_factory.mktemp("access_files")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(home))
        ingest([tiny_midi(work / "seed.mid")], IngestConfig(dataset="my-dataset", style="general"))
        with connect():  # the listening-test store exists, as on any studio that ran a test
            pass
    proc, url = start_studio(home, "--admin-password", PASSWORD)
    yield url, home, work
    stop_studio(proc)


def handler_name(api_name: str) -> str:
    return re.sub(r"_\d+$", "", api_name)


def classify(endpoint) -> str:
    if any(is_password(item) for item in endpoint.inputs):
        return "guarded"
    if endpoint.api_name in PUBLIC_ACTIONS or handler_name(endpoint.api_name) in PUBLIC_ACTIONS:
        return "public action"
    return "read-only"


def _inputs(url: str, endpoint, midi: Path, password: str) -> list:
    """What the page would send, with a real MIDI in every file input and ``password`` typed."""
    data = default_inputs(endpoint)
    for i, item in enumerate(endpoint.inputs):
        if item["type"] == "file":
            payload = upload(url, "visitor.mid", midi.read_bytes())
            data[i] = [payload] if item["props"].get("file_count") == "multiple" else payload
        elif is_password(item):
            data[i] = password
    return data


def test_every_endpoint_is_guarded_public_or_read_only(guarded_studio):
    url, home, work = guarded_studio
    midi = tiny_midi(work / "visitor.mid", pitch=67)  # not the seed's notes, so ingest would keep it
    table, problems = {}, []
    for endpoint in endpoints(url):
        kind = classify(endpoint)
        table[endpoint.label] = kind
        if kind == "public action":
            continue
        before = snapshot(home)
        answer = call(url, endpoint.fn_index, _inputs(url, endpoint, midi, "not-the-password"), timeout_s=300)
        written = changed(before, snapshot(home))
        if written:
            problems.append(f"{endpoint.label} ({kind}) changed the workspace for an anonymous caller: {written[:4]}")
        if kind == "guarded" and not answer.ok and not clean_sentence(answer):
            problems.append(f"{endpoint.label} refused without one clean sentence: {answer.error!r:.300}")
    print("\nACCESS " + "; ".join(f"{name}: {kind}" for name, kind in sorted(table.items())))
    named = {handler_name(label.strip("/")): kind for label, kind in table.items() if label.startswith("/")}
    unguarded = sorted(name for name in MUST_BE_GUARDED if named.get(name) != "guarded")
    if unguarded:
        problems.append(f"these change saved data and must ask for the password: {unguarded}")
    assert not problems, "\n".join(problems)


def test_the_readme_lists_every_public_action():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Access model", 1)[-1].split("\n## ", 1)[0]
    assert "### Access model" in readme, "README.md has no 'Access model' section under Deployment"
    missing = [name for name in PUBLIC_ACTIONS if f"`{name}`" not in section]
    assert not missing, f"the README's access model does not list {missing}"


def test_a_visitor_cannot_load_a_model_from_a_server_folder(guarded_studio):
    from generate_model_fixtures import write_tiny_checkpoint

    url, home, work = guarded_studio
    elsewhere = write_tiny_checkpoint(work / "someone-elses-model")  # a real model folder on the server
    generate = next(e for e in endpoints(url) if e.api_name == "generate")
    data = default_inputs(generate)
    for path in (str(elsewhere), str(work), "../../etc", "/nonexistent"):
        data[2] = path
        before = snapshot(home)
        answer = call(url, generate.fn_index, data)
        assert clean_sentence(answer) and "is not one this studio lists" in answer.error, (path, answer)
        assert not changed(before, snapshot(home))
