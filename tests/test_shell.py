"""The app shell: CLI/env options (a Space's included), studio/ free of ML imports, configs valid."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"torch", "transformers", "peft", "bitsandbytes", "mlx", "mlx_lm", "demucs", "basic_pitch",
             "onnxruntime", "accelerate"}


def test_studio_imports_no_ml_libraries():
    offenders = []
    for path in (REPO / "studio").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders, offenders


def test_pipelines_never_import_gradio():
    for path in (REPO / "pipelines").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "gradio" for a in node.names), path
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] != "gradio", path


def test_app_options_and_space_environment(monkeypatch):
    import app

    settings = app.parse_args(["--port", "7861", "--admin-password", "pw", "--root-path", "/studio"])
    assert (settings.port, settings.admin_password, settings.root_path, settings.host) == (7861, "pw", "/studio", "127.0.0.1")
    assert settings.check_admin("pw") and not settings.check_admin("nope")
    monkeypatch.setenv("SPACE_ID", "someone/studio")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7000")
    monkeypatch.setenv("STUDIO_ADMIN_PASSWORD", "secret")
    space = app.parse_args([])
    assert space.on_space and space.host == "0.0.0.0" and space.port == 7000 and space.admin_password == "secret"
    assert space.max_upload_mb <= 50
    with pytest.raises(SystemExit):
        app.parse_args(["--port", "99999"])


def test_space_front_matter_and_packages():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("---\n")
    front = readme.split("---\n")[1]
    for key in ("sdk: gradio", "app_file: app.py", "sdk_version:"):
        assert key in front
    packages = (REPO / "packages.txt").read_text().split()
    assert "fluidsynth" in packages and "libfluidsynth3" in packages


def test_requirements_pin_every_package():
    for path in [REPO / "requirements.txt", *sorted((REPO / "requirements").glob("*.txt"))]:
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if not line or line.startswith("-r"):
                continue
            assert "==" in line or "<" in line or line.startswith("--"), f"{path.name}: {line} is not pinned"
    assert "torch==2.13.0" in (REPO / "requirements" / "core.txt").read_text()
