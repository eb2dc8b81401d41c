"""What a listening test is made of: two or more systems, a chart set, seeds, length, tempo, the
hidden checks (repeated pairs, catch trials) and the play rule.

Chart sets live in ``configs/listen/charts/<name>.yaml`` (``charts: [{name, chords}]``); a user's own
file may be such a YAML or a text file with one chart a line, ``Name: | Cmaj7 | Am7 D7 |``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Literal

from ..common.errors import StudioError
from ..common.paths import configs_dir

STYLE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")  # generate checks it per model
MAX_PAIRS = 200          # a session longer than this wears out a listener
MAX_CHARTS = 50
MAX_SYSTEMS = 6          # 6 systems make 15 pairs of systems per chart and seed
MAX_CHECKS = 10          # repeated pairs or catch trials per participant


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
    more_systems: tuple[str, ...] = ()   # a third system and on: "model" or "model@style"
    repeats: int = 2             # hidden pairs heard twice, sides swapped (each rater's consistency)
    catch_trials: int = 2        # hidden pairs of a clip against a clearly degraded copy of itself
    catch_kind: Literal["scatter", "wrong_chords"] = "scatter"   # how the copy is degraded
    min_play_s: float = 0.0      # a vote needs each clip played this long; 0 = to the end

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 80:
            raise StudioError(f"name must be 1-80 characters (got {self.name!r})")
        for key in ("system_1", "system_2"):
            if not str(getattr(self, key)).strip():
                raise StudioError(f"{key} is empty; pick a system such as rules or a checkpoint")
        for key, value in (("style", self.style), ("style_2", self.style_2 or self.style)):
            if not STYLE_PATTERN.match(str(value)):
                raise StudioError(f"{key} must be a style name such as gospel or mehldau (got {value!r})")
        if len(self.more_systems) > MAX_SYSTEMS - 2:
            raise StudioError(f"a test compares at most {MAX_SYSTEMS} systems "
                              f"(got {2 + len(self.more_systems)})")
        for entry in self.more_systems:
            model, _, style = str(entry).partition("@")
            if not model.strip():
                raise StudioError(f"more_systems holds an empty model ({entry!r}); "
                                  "write model or model@style")
            if style and not STYLE_PATTERN.match(style.strip()):
                raise StudioError(f"the style of {entry!r} must be a style name such as gospel "
                                  f"(got {style!r})")
        labels = self.labels
        if labels[0] == labels[1]:
            raise StudioError(f"both systems are {labels[0]}; pick two different systems "
                              "(or give system 2 another style with style_2)")
        for index, label in enumerate(labels[2:], start=3):
            if labels.index(label) < index - 1:
                raise StudioError(f"system {index} repeats system {labels.index(label) + 1} ({label}); "
                                  "every system must differ in model or style")
        for key in ("repeats", "catch_trials"):
            if not 0 <= getattr(self, key) <= MAX_CHECKS:
                raise StudioError(f"{key} must be 0-{MAX_CHECKS} (got {getattr(self, key)})")
        if not 0 <= self.min_play_s <= 120:
            raise StudioError(f"min_play_s must be 0-120 seconds, 0 meaning to the end "
                              f"(got {self.min_play_s})")
        if not 1 <= self.seeds_per_chart <= 16:
            raise StudioError(f"seeds_per_chart must be 1-16 (got {self.seeds_per_chart})")
        if not 1 <= self.bars <= 32:
            raise StudioError(f"bars must be 1-32 (got {self.bars})")
        if not 40 <= self.tempo_bpm <= 240:
            raise StudioError(f"tempo_bpm must be 40-240 (got {self.tempo_bpm})")
        if not 0 <= self.seed < 2**31:
            raise StudioError(f"seed must be 0-{2**31 - 1} (got {self.seed})")

    @property
    def models(self) -> tuple[str, ...]:
        """Every system's model string, in order."""
        extra = tuple(str(e).partition("@")[0].strip() for e in self.more_systems)
        return (self.system_1.strip(), self.system_2.strip(), *extra)

    @property
    def styles(self) -> tuple[str, ...]:
        """Every system's style, in order (a third system and on default to ``style``)."""
        extra = tuple(str(e).partition("@")[2].strip() or self.style for e in self.more_systems)
        return (self.style, self.style_2 or self.style, *extra)

    @property
    def labels(self) -> tuple[str, ...]:
        """How the systems are named in results: the model, with the style when styles differ or a
        model appears twice."""
        models, styles = self.models, self.styles
        if len(set(styles)) > 1 or len(set(models)) < len(models):
            return tuple(f"{model} ({style})" for model, style in zip(models, styles))
        return models

    @property
    def system_pairs(self) -> list[tuple[int, int]]:
        """Every pair of systems (by index), the round robin each chart and seed is heard in."""
        return list(combinations(range(len(self.models)), 2))


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
    """Refuse a test with more pairs than a listener can take, or too few for its hidden checks."""
    items = len(charts) * cfg.seeds_per_chart
    main = items * len(cfg.system_pairs)
    pairs = main + cfg.repeats + cfg.catch_trials
    if pairs > MAX_PAIRS:
        raise StudioError(f"{len(charts)} charts x {cfg.seeds_per_chart} seeds x {len(cfg.system_pairs)} "
                          f"pairs of systems, with {cfg.repeats + cfg.catch_trials} hidden checks, make "
                          f"{pairs} pairs; at most {MAX_PAIRS} are allowed, use fewer charts, seeds or "
                          "systems")
    if cfg.repeats > main:
        raise StudioError(f"repeats must be at most the {main} pairs there are to repeat (got {cfg.repeats})")
    if cfg.catch_trials > items:
        raise StudioError(f"catch_trials must be at most the {items} charts x seeds there are "
                          f"(got {cfg.catch_trials})")
