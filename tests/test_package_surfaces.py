"""Each pipeline package's ``__init__`` is its front door: every public name resolves, importing a
package loads neither torch nor gradio, and the studio imports nothing from behind the door."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "music", "data", "generate", "train", "transcribe", "listen")


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves(name):
    package = importlib.import_module(f"pipelines.{name}")
    assert len(package.__all__) == len(set(package.__all__))
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert not missing, f"pipelines.{name} lists {missing} but cannot give them"
    with pytest.raises(AttributeError):
        getattr(package, "no_such_name")


def test_importing_the_packages_loads_no_torch_and_no_gradio():
    code = ("import sys\n" + "".join(f"import pipelines.{name}\n" for name in PACKAGES)
            + "print(sorted(m for m in ('torch', 'gradio', 'transformers') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", PACKAGES)
def test_a_public_name_stays_itself_when_its_module_is_imported(name):
    """``ingest`` is a function of ``pipelines.data`` and the name of its module: importing the module
    must not put the module where the function was."""
    package = importlib.import_module(f"pipelines.{name}")
    for public in package.__all__:
        if importlib.util.find_spec(f"pipelines.{name}.{public}") is not None:
            importlib.import_module(f"pipelines.{name}.{public}")
            assert not isinstance(getattr(package, public), type(sys)), f"pipelines.{name}.{public} is a module"


def test_the_studio_imports_only_the_packages_front_doors():
    """studio/*.py and app.py import ``from pipelines.<package> import ...``, never a module behind it."""
    behind = []
    for path in [*sorted((ROOT / "studio").glob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                       else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            behind += [f"{path.name}:{node.lineno} {m}" for m in modules
                       if m.startswith("pipelines.") and m.count(".") > 1]
    assert not behind, "import these from the package instead: " + "; ".join(behind)


def test_importing_the_app_loads_no_torch():
    """``import app`` (the launcher, its argument parsing) stays cheap: the pipelines load when used."""
    code = "import sys, app\nprint(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
