"""The systems a test can compare: model strings exactly as ``pipelines.generate`` takes them."""
from __future__ import annotations

import importlib

from ..common.paths import checkpoints_dir, workspace_dir


def list_systems() -> list[tuple[str, str]]:
    """(label, model string) choices for a test's systems, as the generate pipeline lists its models
    (rules, default, shipped checkpoints, run checkpoints); without that listing, ``rules`` and the
    checkpoint folders found on disk."""
    try:
        loading = importlib.import_module("pipelines.generate.model.loading")
    except ImportError:
        loading = None
    lister = getattr(loading, "list_models", None)
    if callable(lister):
        return [(str(label), str(value)) for label, value in lister()]
    return [("rules", "rules"), *[(path, path) for path in _checkpoint_folders()]]


def _checkpoint_folders() -> list[str]:
    shipped = checkpoints_dir()
    found: list[str] = []
    if shipped.is_dir():
        found += [str(p) for p in sorted(shipped.iterdir())
                  if p.is_dir() and not p.name.startswith((".", "_"))]
    runs = workspace_dir() / "runs"
    if runs.is_dir():
        found += [str(p) for p in sorted(runs.glob("*/checkpoints/*")) if p.is_dir()]
    return found
