"""What a guarded studio serves and names to a stranger: its served folders hold only what visitors
fetch (takes, transcriptions, listening-test clips), a run's checkpoint, config and log or a
dataset are refused by every URL form that could reach them, and the page's config names no
dataset, run or server folder; the admin, once the password is typed, still gets the lists, a run's
samples and a dataset's plot."""
from __future__ import annotations

import importlib.util
import json
import wave
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from test_listen_store import make_test
from test_public_access import tiny_midi

from conftest import REPO, start_studio, stop_studio
from pipelines.data.analysis import dataset_stats
from pipelines.data.ingest import IngestConfig, ingest
from pipelines.listen import join
from pipelines.train.config import load_train_config
from pipelines.train.launcher import create_run
from pipelines.train.runs import append_metrics, write_status
from public_client import call, endpoints
from public_probe import SERVER_PATH, default_inputs

PASSWORD = "files-admin-password"
SECRET_DATASET = "secret-ds-123"
MARK = "PRIVATE-7f3a"  # written into every private file: an answer that carries it leaked the file
# what a served folder may hold: audio, MIDI, images, and the reports a visitor downloads
SERVED_KINDS = {".wav", ".mp3", ".ogg", ".flac", ".mid", ".midi", ".png", ".svg", ".jpg", ".json", ".csv"}


def _wav(path: Path, seconds: float = 0.2) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * int(8000 * seconds))
    return path


def _run_with_a_checkpoint(work: Path) -> Path:
    """A finished run as the trainer leaves it: config, log, metrics, a checkpoint, samples."""
    run_dir = create_run(load_train_config("scratch_small", {"dataset": SECRET_DATASET}), preset="scratch_small")
    for step, loss in enumerate([3.0, 2.5], 1):
        append_metrics(run_dir, {"step": step, "loss": loss})
    write_status(run_dir, state="completed", step=2, best_eval_loss=2.5, started=1000.0, finished=1100.0)
    best = run_dir / "checkpoints" / "best"
    best.mkdir(parents=True)
    (best / "model.safetensors").write_text(f"{MARK} weights", encoding="utf-8")
    (best / "config.json").write_text(json.dumps({"note": MARK}), encoding="utf-8")
    (run_dir / "train.log").write_text(f"{MARK} step 2 loss 2.5 on {SECRET_DATASET}\n", encoding="utf-8")
    samples = run_dir / "samples" / "step-2"
    samples.mkdir(parents=True)
    midi = tiny_midi(samples / "sample-0.mid")
    wav = _wav(samples / "sample-0.wav")
    (samples / "samples.json").write_text(json.dumps(
        {"step": 2, "decoded_share": 1.0, "samples": [{"midi": str(midi), "wav": str(wav)}]}), encoding="utf-8")
    return run_dir


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A workspace with a private dataset (and its plots), a run, a listening test."""
    home = tmp_path_factory.mktemp("files_home")
    work = tmp_path_factory.mktemp("files_work")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(home))
        ingest([tiny_midi(work / "song.mid")], IngestConfig(dataset=SECRET_DATASET, style="general"))
        dataset_stats(SECRET_DATASET)  # the plots under cache/plots/<dataset>/
        run_dir = _run_with_a_checkpoint(work)
        test_id = make_test(systems=2, charts=1, seeds=1)
        join(test_id, name="Grace Hopper", experience="student")
    return home, run_dir, test_id


@pytest.fixture(scope="module")
def studio(workspace):
    home, run_dir, test_id = workspace
    proc, url = start_studio(home, "--admin-password", PASSWORD)
    yield url, home, run_dir, test_id
    stop_studio(proc)


def _app(home: Path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(home))
    spec = importlib.util.spec_from_file_location("studio_app", REPO / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def _served_roots(app) -> list[Path]:
    """Every folder the app lets the browser fetch from: launch's allowed_paths and gradio's static paths."""
    from gradio.data_classes import _StaticFiles

    from studio import build_studio
    from studio.settings import StudioSettings

    settings = StudioSettings(admin_password=PASSWORD)
    build_studio(settings)  # a tab that called gr.set_static_paths would add to _StaticFiles here
    options = app.launch_options(settings)
    return [Path(p).resolve() for p in options["allowed_paths"]] + [Path(p).resolve() for p in _StaticFiles.all_paths]


def _private_files(home: Path) -> list[Path]:
    return [p for name in ("runs", "datasets", "cache", "listen-exports", "models", ".cache")
            for p in (home / name).rglob("*") if p.is_file()] + [home / "listen.db"]


def _file_urls(output) -> list[str]:
    found = []
    if isinstance(output, dict):
        if output.get("path") and output.get("meta", {}).get("_type") == "gradio.FileData":
            found.append(output["path"])
        for value in output.values():
            found += _file_urls(value)
    elif isinstance(output, list):
        for value in output:
            found += _file_urls(value)
    return found


def test_served_roots_hold_only_what_visitors_fetch(studio, monkeypatch):
    url, home, run_dir, test_id = studio
    generate = next(e for e in endpoints(url) if e.api_name == "generate")  # a visitor's take in outputs/
    assert call(url, generate.fn_index, default_inputs(generate), timeout_s=300).ok
    app = _app(home, monkeypatch)
    roots = _served_roots(app)
    blocked = [Path(p).resolve() for p in app.blocked_folders()]
    problems = []
    for root in roots:
        if home.resolve().is_relative_to(root):
            problems.append(f"{root} holds the whole workspace")
        for private in blocked:
            if private.is_relative_to(root) or root.is_relative_to(private):
                problems.append(f"{root} overlaps the private {private.name}")
        files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else [root]
        odd = sorted({p.suffix.lower() or p.name for p in files} - SERVED_KINDS)
        if odd:
            problems.append(f"{root} holds {odd}, which no visitor fetches")
    for name in ("runs", "datasets", "models", "listen-exports", "cache", ".cache", "listen.db"):
        if (home / name).resolve() not in blocked:
            problems.append(f"{name} is not among the blocked paths")
    served = [str(r) for r in roots]
    print(f"\nSERVED ROOTS {len(roots)}: {served}; blocked {len(blocked)}")
    assert (home / "outputs").resolve() in roots and any(p.suffix == ".wav" for p in (home / "outputs").rglob("*"))
    assert not problems, "\n".join(problems)


def _probe_urls(url: str, home: Path, target: Path) -> list[str]:
    """Every URL form that could reach ``target``: the file routes, through a served folder, encoded."""
    rel = target.relative_to(home).as_posix()
    up = "%2e%2e/"
    forms = [f"/gradio_api/file={target}", f"/file={target}", f"/gradio_api/file/{target}",
             f"/gradio_api/file={home}/outputs/../{rel}", f"/gradio_api/file={home}/outputs/{up}{quote(rel)}",
             f"/gradio_api/file={home}/listen/{up}{rel}", f"/gradio_api/file={home}/outputs/{up * 8}{str(target)[1:]}",
             f"/gradio_api/file={quote(str(target), safe='')}", f"/gradio_api/file=/{str(target).lstrip('/')}?x=1",
             f"/gradio_api/file=//{str(target).lstrip('/')}", f"/static/{up * 12}{str(target)[1:]}",
             f"/assets/{up * 12}{str(target)[1:]}", f"/gradio_api/proxy=file://{target}"]
    return [url + form for form in forms]


def test_an_anonymous_client_fetches_no_run_dataset_cache_or_store(studio):
    url, home, run_dir, test_id = studio
    targets = _private_files(home)
    assert any(p.name == "model.safetensors" for p in targets) and any(p.name == "train.log" for p in targets)
    tried, refused, leaks = 0, 0, []
    with httpx.Client(timeout=30) as http:
        for target in targets:
            secret = target.read_bytes()
            for probe in _probe_urls(url, home, target):
                raw = httpx.Request("GET", probe)
                answer = http.send(raw)
                tried += 1
                if answer.status_code in (403, 404) or (answer.status_code != 200 and not answer.content):
                    refused += 1
                    continue
                if answer.status_code == 200 and (answer.content == secret or MARK.encode() in answer.content
                                                  or (len(secret) > 64 and secret[:64] in answer.content)):
                    leaks.append(f"{probe} -> {answer.status_code}")
                elif answer.status_code < 500:
                    refused += 1  # e.g. the page's own index for a path it does not know
                else:
                    leaks.append(f"{probe} -> {answer.status_code}")
        # what visitors do fetch still loads: a clip of the open test
        clip = next((home / "listen" / test_id / "clips").glob("*.wav"))
        assert http.get(f"{url}/gradio_api/file={clip}").status_code == 200
    print(f"\nPROBED {len(targets)} private files x {tried // max(1, len(targets))} URL forms = {tried}; "
          f"refused {refused}")
    assert not leaks, "\n".join(leaks[:20])
    assert refused == tried


def _automatic(url: str) -> list:
    """The events a visitor's page fires by itself or on a tab click (no typing): loads, tab
    selects, timer ticks."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    found = {e.fn_index: e for e in endpoints(url)}
    auto = []
    for dep in config["dependencies"]:
        triggers = {t[1] for t in dep.get("targets", [])}
        if dep.get("backend_fn") and triggers & {"select", "tick", "load"} and dep["id"] in found:
            auto.append(found[dep["id"]])
    return auto


def test_the_page_names_no_dataset_run_or_server_folder_until_the_password(studio):
    url, home, run_dir, test_id = studio
    run_id = run_dir.name
    secrets_ = (SECRET_DATASET, run_id, str(home))
    config = httpx.get(f"{url}/config", timeout=30).text
    assert not [s for s in secrets_ if s in config], [s for s in secrets_ if s in config]
    assert not SERVER_PATH.search(config), SERVER_PATH.search(config)
    # what the page fetches by itself for an anonymous visitor names none of them either
    auto = _automatic(url)
    assert len(auto) >= 3
    for endpoint in auto:
        answer = call(url, endpoint.fn_index, default_inputs(endpoint), session_hash="stranger0001")
        text = json.dumps(answer.output) + (answer.error or "")
        assert not [s for s in secrets_ if s in text], (endpoint.label, text[:300])
    # the admin types the password: the Data and Train lists fill, the run's view shows its samples
    unlocks = [e for e in endpoints(url) if e.api_name.startswith("unlock")]
    labels = {e.inputs[0]["label"]: e for e in unlocks}
    assert {"Password to change datasets", "Admin password"} <= set(labels), labels
    session = "admin0000001"
    data_lists = call(url, labels["Password to change datasets"].fn_index, [PASSWORD], session_hash=session)
    assert data_lists.ok and SECRET_DATASET in json.dumps(data_lists.output), data_lists
    train_lists = call(url, labels["Admin password"].fn_index, [PASSWORD], session_hash=session)
    assert train_lists.ok and run_id in json.dumps(train_lists.output), train_lists
    wrong = call(url, labels["Admin password"].fn_index, ["not-it"], session_hash="stranger0002")
    assert not wrong.ok and run_id not in (wrong.error or "")
    refresh = next(e for e in auto if e.api_name == "_refresh")
    view = call(url, refresh.fn_index, default_inputs(refresh), session_hash=session)
    assert view.ok and run_id in json.dumps(view.output), view
    shown = _file_urls(view.output)
    assert any(p.endswith("sample-0.wav") for p in shown) and any(p.endswith("sample-0.mid") for p in shown), shown
    stats = next(e for e in endpoints(url) if e.api_name == "dataset_stats")
    plotted = call(url, stats.fn_index, [SECRET_DATASET, PASSWORD], session_hash=session)
    assert plotted.ok, plotted.error
    shown += _file_urls(plotted.output[0])
    with httpx.Client(timeout=30) as http:
        for path in shown:  # the copies Gradio serves from its cache, named by no run or dataset
            assert run_id not in path and SECRET_DATASET not in path and str(home) not in path, path
            assert http.get(f"{url}/gradio_api/file={path}").status_code == 200, path
    # the same view in the stranger's session still names nothing
    again = call(url, refresh.fn_index, default_inputs(refresh), session_hash="stranger0001")
    assert run_id not in json.dumps(again.output)


@pytest.mark.browser
def test_the_admin_unlocks_the_lists_in_the_browser(studio, page):
    url, home, run_dir, test_id = studio
    run_id = run_dir.name
    page.goto(url)
    page.get_by_role("tab", name="Train").click()
    page.wait_for_timeout(3000)  # a few polls of the run view
    assert run_id not in page.content() and SECRET_DATASET not in page.content()
    password = page.get_by_label("Admin password", exact=True).first
    password.fill(PASSWORD)
    password.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#train-details').innerText.includes('{run_id}')",
                           timeout=30_000)  # the run view polls again once unlocked
    assert run_id in page.locator("#train-runs").inner_text()
    page.get_by_label("Run", exact=True).click()
    page.get_by_role("option", name=run_id).wait_for(timeout=10_000)
    page.get_by_role("tab", name="Data").click()
    data_password = page.get_by_label("Password to change datasets")
    data_password.fill(PASSWORD)
    data_password.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_label("Dataset name", exact=True).click()
    page.get_by_role("option", name=SECRET_DATASET).wait_for(timeout=10_000)
