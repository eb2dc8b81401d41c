"""Fixtures shared by every test: a private workspace, the real corpus, a running studio, a browser."""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", os.environ.get("CHROMIUM", ""))


@pytest.fixture(autouse=True)
def studio_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes datasets/, runs/ and listen.db into its own temp folder."""
    home = tmp_path_factory.mktemp("studio_home")
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus (real MIDI nobody here wrote); skipped with a reason when absent."""
    if not (CORPUS / "midi").is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (a user's clone has none)")
    return CORPUS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_studio(home: Path, *args: str, timeout_s: float = 240.0) -> tuple[subprocess.Popen, str]:
    """Start ``python app.py`` on a free port with STUDIO_HOME=home; return (process, base URL)."""
    port = free_port()
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONUNBUFFERED="1")
    env.setdefault("STUDIO_WARMUP", "0")   # no background export competing with the test for the CPU
    log = open(home / f"studio-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port), *args],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the studio exited with {proc.returncode}: "
                               f"{(home / f'studio-{port}.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the studio did not answer within {timeout_s:.0f} s")


def stop_studio(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """One studio process for the browser tests of every tab: yields (base URL, its STUDIO_HOME)."""
    home = tmp_path_factory.mktemp("studio_server")
    proc, url = start_studio(home)
    yield url, home
    stop_studio(proc)


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    pytest.fail("Chromium is not installed: run 'make test' (it installs it) or apt-get install chromium")


@pytest.fixture(scope="session")
def browser():
    """The system Chromium under Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path(), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


def choose_files(page, elem_id: str, *paths: Path, shows: str, reach=None, tries: int = 3) -> None:
    """Pick files into the upload area ``#elem_id`` as a user does (click it, choose in the file chooser)
    until the area names ``shows``. A pick can be lost: Gradio re-creates an area's hidden file input
    whenever the area's settings change while the page settles, and now and then (about one full CI
    run in three, never when the test runs alone) the area shows neither the file nor "Click to
    Upload" for minutes. A user would reload and pick again, and so does this: ``reach()`` redoes the
    steps that led to the area after a reload. The last failure says what the area shows, the page's
    upload requests and its console errors."""
    from playwright.sync_api import expect

    seen: list[str] = []

    def note(kind):
        def record(item):
            request = getattr(item, "request", item)
            if "/upload" in request.url:
                seen.append(f"{kind} {request.method} {request.url.split('?')[0].rsplit('/', 1)[-1]}"
                            + (f" {item.status}" if kind == "response" else ""))
        return record

    for kind in ("request", "response", "requestfailed"):
        page.on(kind, note(kind))
    for attempt in range(tries):
        if attempt and reach is not None:
            page.reload()
            reach()
        area = page.locator(f"#{elem_id}")
        with page.expect_file_chooser(timeout=30_000) as chooser:
            area.get_by_text("Click to Upload").click()
        chooser.value.set_files([str(path) for path in paths])
        try:
            expect(area).to_contain_text(shows, timeout=30_000)
            return
        except AssertionError:
            if attempt == tries - 1 or reach is None:
                shown = area.inner_text(timeout=5_000) if area.count() else "(no such element)"
                raise AssertionError(f"{shows!r} never appeared in #{elem_id} after {attempt + 1} picks; it shows "
                                     f"{shown[:300]!r}; upload requests: {seen}; console errors: "
                                     f"{getattr(page, 'console_errors', [])[-5:]}") from None


@pytest.fixture
def page(browser):
    """A fresh browser page; console errors are collected in ``page.console_errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    new_page = context.new_page()
    new_page.console_errors = []
    new_page.on("console", lambda m: new_page.console_errors.append(m.text) if m.type == "error" else None)
    yield new_page
    context.close()
