"""Where things live: the repository (shipped files) and the workspace (what users make)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def workspace_dir() -> Path:
    """The folder that holds ``datasets/``, ``runs/`` and ``listen.db``.

    ``STUDIO_HOME`` overrides it (tests point it at a temp folder); the default is the repository.
    """
    return Path(os.environ.get("STUDIO_HOME", REPO_ROOT)).resolve()


def assets_dir() -> Path:
    """Shipped soundfonts, example charts and MIDI."""
    return REPO_ROOT / "assets"


def configs_dir() -> Path:
    """YAML presets: tokenizers/, train/, generate/."""
    return REPO_ROOT / "configs"


def checkpoints_dir() -> Path:
    """Shipped default model and style adapters."""
    return REPO_ROOT / "checkpoints"
