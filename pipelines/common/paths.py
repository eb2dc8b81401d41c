"""Where things live: the repository (shipped files) and the workspace (what users make)."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORKSPACE = REPO_ROOT / "workspace"  # git-ignored
# What a workspace holds. Older versions kept these in the repository itself, where ``datasets/``
# shadowed the Hugging Face ``datasets`` library for every ``python -m`` started there.
WORKSPACE_ENTRIES = ("datasets", "runs", "listen", "listen.db", "listen.db-wal", "listen.db-shm",
                     "outputs", "cache", "models", ".cache")

log = logging.getLogger(__name__)


def workspace_dir() -> Path:
    """The folder that holds ``datasets/``, ``runs/`` and ``listen.db``.

    ``STUDIO_HOME`` overrides it (tests point it at a temp folder); the default is ``workspace/``
    inside the repository. Never the repository folder itself: processes start there, and its
    ``datasets/`` would be imported in place of the ``datasets`` library.
    """
    home = Path(os.environ.get("STUDIO_HOME") or DEFAULT_WORKSPACE).expanduser().resolve()
    return DEFAULT_WORKSPACE if home == REPO_ROOT else home


def move_legacy_workspace() -> list[str]:
    """Move what an older version left in the repository folder into ``workspace/``.

    Only entries missing from the workspace are moved, so nothing is overwritten. Returns their names.
    """
    home = workspace_dir()
    moved = []
    for name in WORKSPACE_ENTRIES:
        old, new = REPO_ROOT / name, home / name
        if old.exists() and not new.exists():
            home.mkdir(parents=True, exist_ok=True)
            shutil.move(str(old), str(new))
            moved.append(name)
    if moved:
        log.info("moved %s from the repository folder into the workspace %s", ", ".join(moved), home)
    return moved


# What the browser may fetch straight from the workspace (Gradio's ``allowed_paths``): the takes and
# transcriptions visitors make (``outputs/``) and the clips of listening tests (``listen/<test>/clips``).
# Nothing else: a file the page shows from another folder (a run's sample, a dataset's plot) reaches
# it as a private copy (``studio.common.shown_copy``), never from its own folder.
SERVED_ENTRIES = ("outputs", "listen")
# What is never served nor handed to Gradio in place (``blocked_paths``): the admin's datasets, runs
# (checkpoints, configs, logs), exported models, listening-test exports and votes, and the caches.
PRIVATE_ENTRIES = ("datasets", "runs", "models", "listen-exports", "listen.db", "listen.db-wal",
                   "listen.db-shm", "cache", ".cache")


def served_dirs() -> list[Path]:
    """The workspace folders the browser may fetch from (``SERVED_ENTRIES``)."""
    home = workspace_dir()
    return [home / name for name in SERVED_ENTRIES]


def private_paths() -> list[Path]:
    """The workspace entries never served (``PRIVATE_ENTRIES``)."""
    home = workspace_dir()
    return [home / name for name in PRIVATE_ENTRIES]


def assets_dir() -> Path:
    """Shipped soundfonts, example charts and MIDI."""
    return REPO_ROOT / "assets"


def configs_dir() -> Path:
    """YAML presets: tokenizers/, train/, generate/."""
    return REPO_ROOT / "configs"


def checkpoints_dir() -> Path:
    """Shipped default model and style adapters."""
    return REPO_ROOT / "checkpoints"
