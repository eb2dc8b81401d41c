"""Training backends behind one registry. Each module has the same shape:

    train(cfg: TrainConfig, run_dir: Path, resume_step: int = 0) -> dict   (the run's summary)
    export(run_dir: Path, checkpoint: Path, out_dir: Path) -> dict          (merged / fused weights)

Chosen explicitly by ``cfg.backend``; heavy imports (torch, transformers, mlx) load on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ...common.errors import StudioError

BACKENDS = {
    "torch": "torch_backend",
    "mlx": "mlx_backend",
}


def get_backend(name: str) -> ModuleType:
    if name not in BACKENDS:
        raise StudioError(f"backend must be one of {', '.join(BACKENDS)} (got {name!r})")
    return importlib.import_module(f"{__name__}.{BACKENDS[name]}")
