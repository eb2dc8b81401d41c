"""The systems a test can compare: model strings exactly as ``pipelines.generate`` takes them."""
from __future__ import annotations


def list_systems() -> list[tuple[str, str]]:
    """(label, model string) choices for a test's systems: rules, the default model, shipped
    checkpoints and adapters, and every run's checkpoints, as the Generate tab lists them."""
    from ..generate.model.loading import list_models

    return list_models()
