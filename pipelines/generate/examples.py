"""The example chord charts shipped in assets/charts/examples.yaml."""
from __future__ import annotations

from dataclasses import dataclass

from ..common.paths import assets_dir


@dataclass(frozen=True)
class ExampleChart:
    name: str
    style: str
    chart: str
    tempo_bpm: float


def example_charts() -> list[ExampleChart]:
    """Every shipped example, in file order."""
    import yaml

    data = yaml.safe_load((assets_dir() / "charts" / "examples.yaml").read_text(encoding="utf-8")) or {}
    return [ExampleChart(name, entry["style"], entry["chart"], float(entry["tempo_bpm"]))
            for name, entry in data.items()]
