"""Generation: chord chart -> piano performance, by the rule engines or a trained model, and the
rule-based corpus that bootstraps a dataset. The names below are its public surface, imported on
first use: importing the package loads neither torch nor the engines.

    from pipelines.generate import GenerateConfig, generate
    result = generate(GenerateConfig(chords="| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 |", style="gospel"))
"""
from __future__ import annotations

from ..common.lazy_exports import lazy_exports

_EXPORTS = {
    "BACKENDS": ".api", "GenerateConfig": ".api", "GenerateResult": ".api", "METERS": ".api",
    "OTHER_STYLE_RULES": ".api", "STYLES": ".api", "STYLE_RULES": ".api", "Take": ".api", "generate": ".api",
    "style_defaults": ".api", "temperatures_text": ".api",
    "PROGRESSIONS": ".corpus", "bootstrap_dataset": ".corpus", "write_corpus": ".corpus",
    "example_charts": ".examples",
    "list_models": ".model.loading", "model_style": ".model.loading",
    "ship_checkpoint": ".model.ship",
    "warm_up": ".model.takes",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
