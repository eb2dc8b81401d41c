"""How well trained models play charts they never saw, beside the rules engines (JSON + a table; not a test).

Every chart of ``bench/charts_heldout.yaml`` (24 charts written for this bench, checked here to
appear in no training corpus) is played in its own style, meter and tempo with a few seeds by each
model: the default model plays all of them, a style adapter the charts of its own style. Trained
models play twice, at their default settings (the decoder's rules on) and at harmony strength 0
(the raw model's notes). Per model and setting, from the music core's metrics of the MIDI the
studio writes, over all takes:

- ``chord_tone_ratio_tension_aware`` (goal >= 0.95), ``bass_on_change`` (>= 0.95), ``guide_tones``
  (>= 0.9): means; ``silent_bars`` (0): summed; ``max_notes_per_onset``: the most; ``doubled_keys``:
  summed; ``failed``: takes the decoder refused (each with its sentence);
- ``shared_notes`` (<= 0.35): notes seeds 1 and 2 of one chart share, mean over charts;
- ``copied_4bar`` (<= 1 %): share of 4-bar windows found verbatim in the model's training data;
- ``styles_apart`` (>= 0.9): a 5-fold cross-validated logistic regression on 14 per-take features
  (notes per beat, notes per onset, pitch mean and spread, low-register share, inter-onset and duration
  statistics, velocity mean and spread, off-beat onset share) tells the model's Gospel takes from
  its Mehldau takes (adapters: the Gospel adapter's Gospel takes from the Mehldau adapter's). Each
  chart is played in its own style only, so the two classes are also different charts (both have
  4/4, 3/4 and 5/4 ones);
- ``apart_from_default`` (>= 0.8): the same classifier tells an adapter's takes from the default
  model's takes of the same charts.

    python bench/bench_model_quality.py [--models rules default checkpoints/gospel checkpoints/mehldau]
        [--seeds 2] [--charts bench/charts_heldout.yaml | examples] [--style gospel] [--strengths default 0]
        [--temperature T (default: the style's)] [--backend auto|torch|onnxruntime] [--json-out FILE]

A staged model folder (``build/models/default`` and its adapters beside it) is benched the same way:
an adapter whose recorded base sits beside it is played on that base (``loading.adapter_base``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
HELD_OUT = REPO / "bench" / "charts_heldout.yaml"
EXAMPLES = REPO / "assets" / "charts" / "examples.yaml"
MEANS = ("chord_tone_ratio_tension_aware", "bass_on_change", "guide_tones", "chord_accuracy_root",
         "notes_per_bar")
GOALS = {"chord_tone_ratio_tension_aware": ">= 0.95", "bass_on_change": ">= 0.95", "guide_tones": ">= 0.9",
         "silent_bars": "0", "styles_apart": ">= 0.9", "apart_from_default": ">= 0.8",
         "shared_notes": "<= 0.35", "copied_4bar": "<= 0.01"}
# the rule-engine corpora models were trained on, replayed by pipelines.generate.corpus.corpus_plan:
# (style, performances, seed, variety). The first shipped models: 60 a style, classic charts; the
# models of scripts/build_models.py (its full recipe): its rule_corpora.
RULE_CORPORA = [("gospel", 60, 0, "classic"), ("mehldau", 60, 0, "classic")]


def build_corpora() -> list[tuple]:
    """The rule-engine corpora of scripts/build_models.py's full recipe (the shipped models)."""
    from scripts.build_models import RECIPES, rule_corpora

    return [(s, int(n), int(seed), v) for s, n, seed, v in
            (c.split(":") for c in rule_corpora(RECIPES["full"]))]


def take_features(piece) -> list[float]:
    """14 simple per-take features of a Piece (times in beats; per beat, not per bar, so that the meter
    does not tell the styles apart)."""
    notes = sorted(piece.notes, key=lambda n: (n.start, n.pitch))
    if not notes:
        return [0.0] * 14
    pitches = [n.pitch for n in notes]
    onsets = sorted({round(n.start, 4) for n in notes})
    iois = [b - a for a, b in zip(onsets, onsets[1:])] or [0.0]
    durations = [n.duration for n in notes]
    velocities = [n.velocity for n in notes]
    per_onset = len(notes) / len(onsets)
    beats = max(1.0, piece.bars * piece.beats_per_bar)
    return [len(notes) / beats, per_onset, statistics.fmean(pitches), statistics.pstdev(pitches),
            sum(p < 48 for p in pitches) / len(notes), sum(p >= 72 for p in pitches) / len(notes),
            statistics.fmean(iois), statistics.pstdev(iois), statistics.fmean(durations),
            statistics.pstdev(durations), statistics.fmean(velocities), statistics.pstdev(velocities),
            sum(abs(o - round(o)) > 1e-3 for o in onsets) / len(onsets),
            sum(abs(o * 2 - round(o * 2)) > 1e-3 for o in onsets) / len(onsets)]


def told_apart(a: list[list[float]], b: list[list[float]]) -> float | None:
    """5-fold cross-validated accuracy of a logistic regression telling feature rows ``a`` from ``b``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if min(len(a), len(b)) < 5:
        return None
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(classifier, a + b, [0] * len(a) + [1] * len(b), cv=folds)
    return round(float(scores.mean()), 4)


def _bar_keys(chart, mapper) -> list[tuple[str, ...]]:
    return [tuple(mapper.nearest(chord)[0] for chord in bar) for bar in chart.bars]


def _contains(haystack: list, needle: list) -> bool:
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def training_charts(extra_corpora: list[tuple]) -> dict[str, list[list[tuple[str, ...]]]]:
    """Bar-by-bar chord words of every training corpus this bench knows: the rule-engine corpora
    (replayed) and every tokenized dataset of the workspace (whatever a model was trained on here,
    music21 pieces with recognised chords included)."""
    from pipelines.common.paths import workspace_dir
    from pipelines.data.chord_vocab import ChordMapper, chord_tokens
    from pipelines.generate.corpus import corpus_plan
    from pipelines.music.chords import parse_chart

    mapper = ChordMapper(chord_tokens())
    sources: dict[str, list] = {}
    for style, n, seed, variety in dict.fromkeys(RULE_CORPORA + build_corpora() + extra_corpora):
        plan = corpus_plan(style, n, seed, variety)
        charts = [_bar_keys(parse_chart(p["chart"]), mapper) for p in plan]
        sources[f"rules:{style}:{n}:{seed}:{variety}"] = charts
    for train in sorted((workspace_dir() / "datasets").glob("*/tokens/train.jsonl")):
        sequences = []
        for line in train.read_text(encoding="utf-8").splitlines():
            bars: list[tuple[str, ...]] = []
            for word in json.loads(line)["text"].split() if line.strip() else []:
                if word == "BAR_START":
                    bars.append(())
                elif word.startswith("CHORD_") and bars:
                    bars[-1] += (word,)
            sequences.append(bars)
        sources[f"dataset:{train.parent.parent.name}"] = sequences
    return sources


def check_held_out(charts: dict, extra_corpora: list[tuple]) -> dict:
    """Assert no chart appears verbatim (every bar's chord words, in order) in a training corpus;
    report the share of its 4-bar windows that do."""
    from pipelines.data.chord_vocab import ChordMapper, chord_tokens
    from pipelines.music.chords import parse_chart

    mapper = ChordMapper(chord_tokens())
    sources = training_charts(extra_corpora)
    windows_found = windows = 0
    for name, entry in charts.items():
        keys = _bar_keys(parse_chart(entry["chart"]), mapper)
        for source, sequences in sources.items():
            assert not any(_contains(seq, keys) for seq in sequences), f"held-out chart {name} is in {source}"
        for start in range(len(keys) - 3):
            windows += 1
            window = keys[start:start + 4]
            windows_found += any(_contains(seq, window) for seqs in sources.values() for seq in seqs)
    return {"sources": {k: len(v) for k, v in sources.items()}, "charts_found_verbatim": 0,
            "windows_4bar_found": f"{windows_found} of {windows}"}


def play_model(model: str, charts: dict, seeds: int, strength: float | None, args, out: Path) -> list[dict]:
    """Every chart x seed played by ``model``: metrics, features, novelty, or the refusal."""
    from pipelines.common.errors import StudioError
    from pipelines.generate.api import GenerateConfig, generate

    rows = []
    for name, entry in charts.items():
        for seed in range(1, seeds + 1):
            cfg = GenerateConfig(chords=entry["chart"], style=entry["style"], model=model, seed=seed,
                                 tempo_bpm=entry["tempo_bpm"], meter=entry.get("meter", "4/4"),
                                 temperature=args.temperature, backend=args.backend,
                                 harmony_strength=strength, render_audio=False,
                                 out_dir=str(out / model.replace("/", "_") / str(strength)))
            try:
                result = generate(cfg)
            except StudioError as error:
                rows.append({"chart": name, "style": entry["style"], "seed": seed, "failed": str(error)})
                continue
            take = result.takes[0]
            rows.append({"chart": name, "style": entry["style"], "seed": seed, "metrics": result.metrics,
                         "piece": take.piece, "features": take_features(take.piece),
                         "copied_4bar": (take.novelty or {}).get("copied_4bar_share")})
    return rows


def summarise(rows: list[dict]) -> dict:
    """The figures of one model and setting over its takes."""
    from pipelines.music.playing import shared_note_share

    played = [r for r in rows if "metrics" in r]
    out: dict = {"takes": len(rows), "failed": len(rows) - len(played)}
    for key in MEANS:
        values = [r["metrics"][key] for r in played if r["metrics"].get(key) is not None]
        out[key] = round(statistics.fmean(values), 4) if values else None
    out["silent_bars"] = sum(r["metrics"]["silent_bars"] for r in played)
    out["max_notes_per_onset"] = max((r["metrics"]["max_notes_per_onset"] for r in played), default=None)
    out["doubled_keys"] = sum(r["metrics"]["doubled_keys"] for r in played)
    by_chart: dict[str, list] = {}
    for r in played:
        by_chart.setdefault(r["chart"], []).append(r["piece"])
    shares = [shared_note_share(p[0], p[1]) for p in by_chart.values() if len(p) >= 2]
    out["shared_notes"] = round(statistics.fmean(shares), 4) if shares else None
    copied = [r["copied_4bar"] for r in played if r["copied_4bar"] is not None]
    out["copied_4bar"] = round(statistics.fmean(copied), 4) if copied else None
    out["refusals"] = [f"{r['chart']} seed {r['seed']}: {r['failed']}" for r in rows if "failed" in r][:5]
    return out


def _style_features(rows: list[dict], style: str) -> list[list[float]]:
    return [r["features"] for r in rows if "features" in r and r["style"] == style]


def discrimination(played: dict, models: list[str], styles: dict[str, str | None]) -> None:
    """Adds styles_apart and apart_from_default to each summary of ``played[(model, setting)]``."""
    settings = {setting for _, setting in played}
    for setting in settings:
        adapters = {styles[m]: m for m in models if styles[m] and (m, setting) in played}
        for model in models:
            if (model, setting) not in played:
                continue
            summary = played[(model, setting)]["summary"]
            rows = played[(model, setting)]["rows"]
            if styles[model] is None:
                summary["styles_apart"] = told_apart(_style_features(rows, "gospel"),
                                                     _style_features(rows, "mehldau"))
            elif {"gospel", "mehldau"} <= set(adapters):
                summary["styles_apart"] = told_apart(
                    _style_features(played[(adapters["gospel"], setting)]["rows"], "gospel"),
                    _style_features(played[(adapters["mehldau"], setting)]["rows"], "mehldau"))
            defaults = [m for m in models if m != "rules" and styles[m] is None and (m, setting) in played]
            default = defaults[0] if defaults else None
            if styles[model] and default:
                summary["apart_from_default"] = told_apart(
                    _style_features(rows, styles[model]),
                    _style_features(played[(default, setting)]["rows"], styles[model]))


def table(report: dict) -> str:
    """The figures as a readable table (one row per model and setting)."""
    columns = ["chord_tone_ratio_tension_aware", "bass_on_change", "guide_tones", "silent_bars",
               "styles_apart", "apart_from_default", "shared_notes", "copied_4bar", "max_notes_per_onset",
               "doubled_keys", "failed"]
    short = ["ct_ratio", "bass", "guides", "silent", "styles", "vs_dflt", "shared", "copied", "max_on",
             "doubled", "failed"]
    lines = [f"{'model':<28}{'setting':<10}" + "".join(f"{s:>9}" for s in short),
             f"{'goal':<38}" + "".join(f"{GOALS.get(c, ''):>9}" for c in columns)]
    for key, summary in report["models"].items():
        model, setting = key.rsplit(" @ ", 1)
        cells = [summary.get(c) for c in columns]
        lines.append(f"{model[-27:]:<28}{setting:<10}" + "".join(
            f"{'' if v is None else (f'{v:.3f}' if isinstance(v, float) else v):>9}" for v in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+",
                        default=["rules", "default", "checkpoints/gospel", "checkpoints/mehldau"])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=None,
                        help="trained models' sampling temperature (default: each chart's style's, "
                             "pipelines.generate.api.STYLE_RULES)")
    parser.add_argument("--charts", default=str(HELD_OUT), help="a charts YAML, or 'examples'")
    parser.add_argument("--style", default=None, help="only the charts of this style")
    parser.add_argument("--strengths", nargs="+", default=["default", "0"],
                        help="harmony strengths of trained models: 'default' (the style's) and/or 0-1")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"))
    parser.add_argument("--rule-corpus", nargs="*", default=[], metavar="STYLE:N:SEED:VARIETY",
                        help="more rule-engine corpora the models were trained on, for the held-out check")
    parser.add_argument("--json-out", default=None, help="also write the JSON report here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import yaml

    from pipelines.generate.model.loading import model_style

    path = EXAMPLES if args.charts == "examples" else Path(args.charts)
    charts = yaml.safe_load(path.read_text(encoding="utf-8"))
    charts = {name: e for name, e in charts.items() if args.style in (None, e["style"])}
    extra = [(s, int(n), int(seed), v) for s, n, seed, v in (c.split(":") for c in args.rule_corpus)]
    held_out = check_held_out(charts, extra) if path == HELD_OUT else None
    out = Path(tempfile.mkdtemp(prefix="bench_quality_"))
    styles = {m: model_style(m) for m in args.models}
    report: dict = {"charts": str(path.relative_to(REPO) if path.is_relative_to(REPO) else path),
                    "n_charts": len(charts), "seeds": args.seeds,
                    "temperature": "the style's" if args.temperature is None else args.temperature,
                    "backend": args.backend, "held_out_check": held_out, "goals": GOALS, "models": {}}
    played: dict = {}
    for model in args.models:
        own = {n: e for n, e in charts.items() if styles[model] in (None, e["style"])}
        for setting in (["default"] if model == "rules" else args.strengths):
            t0 = time.perf_counter()
            strength = None if setting == "default" else float(setting)
            rows = play_model(model, own, args.seeds, strength, args, out)
            wall_s = round(time.perf_counter() - t0, 1)
            summary = {**summarise(rows), "style": styles[model], "wall_s": wall_s}
            played[(model, setting)] = {"rows": rows, "summary": summary}
            print(f"{model} @ {setting}: {played[(model, setting)]['summary']}", file=sys.stderr, flush=True)
    discrimination(played, args.models, styles)
    for (model, setting), value in played.items():
        report["models"][f"{model} @ {setting}"] = value["summary"]
    text = json.dumps(report, indent=2)
    print(text)
    print(table(report), file=sys.stderr)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
        Path(args.json_out).with_suffix(".txt").write_text(table(report) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
