"""What a listening test is made of: two systems, a chart set, seeds, length and tempo.

Chart sets live in ``configs/listen/charts/<name>.yaml`` (``charts: [{name, chords}]``); a user's own
file may be such a YAML or a text file with one chart a line, ``Name: | Cmaj7 | Am7 D7 |``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import StudioError
from ..common.paths import configs_dir

STYLE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")  # generate checks it per model
MAX_PAIRS = 200          # a session longer than this wears out a listener
MAX_CHARTS = 50


@dataclass(frozen=True)
class ListenTestConfig:
    """A blind A/B test of ``system_1`` against ``system_2`` (model strings as generate takes them)."""

    name: str = "listening test"
    system_1: str = "rules"
    system_2: str = "default"
    style: str = "gospel"
    style_2: str = ""            # style for system 2 when it differs (compare styles); "" = same
    charts: str = "turnarounds"  # a chart set in configs/listen/charts/, or a .yaml/.txt file
    seeds_per_chart: int = 2     # pairs per chart, each with its own seed shared by both systems
    bars: int = 8
    tempo_bpm: float = 90.0
    seed: int = 1                # first generation seed; also seeds every participant's order

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 80:
            raise StudioError(f"name must be 1-80 characters (got {self.name!r})")
        for key in ("system_1", "system_2"):
            if not str(getattr(self, key)).strip():
                raise StudioError(f"{key} is empty; pick a system such as rules or a checkpoint")
        for key, value in (("style", self.style), ("style_2", self.style_2 or self.style)):
            if not STYLE_PATTERN.match(str(value)):
                raise StudioError(f"{key} must be a style name such as gospel or mehldau (got {value!r})")
        if self.labels[0] == self.labels[1]:
            raise StudioError(f"both systems are {self.labels[0]}; pick two different systems "
                              "(or give system 2 another style with style_2)")
        if not 1 <= self.seeds_per_chart <= 16:
            raise StudioError(f"seeds_per_chart must be 1-16 (got {self.seeds_per_chart})")
        if not 1 <= self.bars <= 32:
            raise StudioError(f"bars must be 1-32 (got {self.bars})")
        if not 40 <= self.tempo_bpm <= 240:
            raise StudioError(f"tempo_bpm must be 40-240 (got {self.tempo_bpm})")
        if not 0 <= self.seed < 2**31:
            raise StudioError(f"seed must be 0-{2**31 - 1} (got {self.seed})")

    @property
    def styles(self) -> tuple[str, str]:
        return self.style, self.style_2 or self.style

    @property
    def labels(self) -> tuple[str, str]:
        """How the two systems are named in results: the model, with the style when they differ."""
        first, second = self.system_1.strip(), self.system_2.strip()
        if self.styles[0] != self.styles[1] or first == second:
            return f"{first} ({self.styles[0]})", f"{second} ({self.styles[1]})"
        return first, second


def chart_sets_dir() -> Path:
    return configs_dir() / "listen" / "charts"


def chart_sets() -> list[str]:
    """The names of the shipped chart sets."""
    return sorted(p.stem for p in chart_sets_dir().glob("*.yaml"))


def load_charts(spec: str | Path) -> list[tuple[str, str]]:
    """(name, chart text) for every chart of a set name or a .yaml/.txt file, each chart parsed."""
    from ..music.chords import parse_chart

    spec = str(spec or "").strip()
    path = Path(spec)
    if spec in chart_sets():
        path = chart_sets_dir() / f"{spec}.yaml"
    elif not path.is_file():
        raise StudioError(f"charts must be a chart set ({', '.join(chart_sets())}) or a .yaml/.txt "
                          f"file (got {spec!r})")
    text = path.read_text(encoding="utf-8")
    charts = _charts_from_yaml(text, path) if path.suffix in (".yaml", ".yml") else _charts_from_lines(text)
    if not charts:
        raise StudioError(f"{path.name} holds no charts")
    if len(charts) > MAX_CHARTS:
        raise StudioError(f"{path.name} holds {len(charts)} charts; at most {MAX_CHARTS} are allowed")
    names = [name for name, _ in charts]
    if len(set(names)) != len(names):
        raise StudioError(f"{path.name} names a chart twice; give every chart its own name")
    for name, chords in charts:
        try:
            parse_chart(chords)
        except StudioError as exc:
            raise StudioError(f"chart {name!r} in {path.name}: {exc}") from None
    return charts


def _charts_from_yaml(text: str, path: Path) -> list[tuple[str, str]]:
    import yaml

    data = yaml.safe_load(text) or {}
    items = data.get("charts") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise StudioError(f"{path.name} must hold 'charts:', a list of {{name, chords}}")
    charts = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("chords"):
            raise StudioError(f"chart {index} in {path.name} needs 'chords' (and a 'name')")
        charts.append((str(item.get("name") or f"chart {index}"), str(item["chords"]).strip()))
    return charts


def _charts_from_lines(text: str) -> list[tuple[str, str]]:
    charts = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([^|:]+):\s*(.+)$", line)
        if match:
            name, chords = match.group(1).strip(), match.group(2)
        else:
            name, chords = f"chart {len(charts) + 1}", line
        charts.append((name, chords.strip()))
    return charts


def check_size(charts: list[tuple[str, str]], cfg: ListenTestConfig) -> None:
    """Refuse a test with more pairs than a listener can take."""
    pairs = len(charts) * cfg.seeds_per_chart
    if pairs > MAX_PAIRS:
        raise StudioError(f"{len(charts)} charts x {cfg.seeds_per_chart} seeds make {pairs} pairs; "
                          f"at most {MAX_PAIRS} are allowed, use fewer charts or seeds")
