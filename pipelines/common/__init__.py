"""Small pieces every pipeline shares: errors, atomic files, config loading, CLI plumbing, paths,
the progress type. The names below are its public surface (imported on first use)."""
from __future__ import annotations

from .lazy_exports import lazy_exports

_EXPORTS = {
    "StudioError": ".errors", "reason": ".errors",
    "Progress": ".progress",
    "from_dict": ".config", "load_config": ".config", "parse_overrides": ".config", "to_dict": ".config",
    "atomic_write_bytes": ".files", "atomic_write_json": ".files", "atomic_write_text": ".files",
    "read_json": ".files",
    "checkpoints_dir": ".paths", "configs_dir": ".paths", "move_legacy_workspace": ".paths",
    "private_paths": ".paths", "served_dirs": ".paths", "workspace_dir": ".paths",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
