"""What the rule engines play, checked as a pianist would (printed, not asserted).

Every trial chart (pipelines/generate/rules/charts.py: jazz and gospel moves, slash chords, N.C.
bars, 3/4 5/4 7/4, 4-32 bars) plus ``--random`` random charts, in both styles, each at one tempo
with ``--seeds`` seeds. Per style: takes with a key struck twice at one onset, with two chords
smeared into one onset, with a dense cluster below C3; the most notes at one onset; Gospel takes
outside MIDI 28-100; silent bars; the harmony figures (tension-aware chord-tone ratio over all
notes; the recogniser's chord accuracy, bass on the change, 3rd and 7th heard, as means over
takes); the notes two seeds of one chart share (pipelines/music/playing.py:
shared_note_share), mean, 90th percentile and worst.

    .venv/bin/python bench/bench_rules.py [--random 32] [--seeds 3] [--json]
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOSPEL_REGISTER = (28, 100)


def style_figures(style: str, charts: list, seeds: int) -> dict:
    from pipelines.generate.rules import DEFAULT_TEMPO_RANGES, perform_chart
    from pipelines.generate.rules.checks import take_report
    from pipelines.music.playing import shared_note_share
    from pipelines.music.chords import parse_chart
    from pipelines.music.metrics import chord_accuracy, chord_tone_ratio

    reports, shares, accuracies, ctr_hits, ctr_notes = [], [], [], 0.0, 0
    t0 = time.perf_counter()
    for index, trial in enumerate(charts):
        tempo = random.Random(f"bench-tempo:{index}").randint(*DEFAULT_TEMPO_RANGES[style])
        takes = [perform_chart(parse_chart(trial.chart), style, tempo, seed, trial.time_signature)
                 for seed in range(1, seeds + 1)]
        for piece in takes:
            reports.append(take_report(piece))
            accuracies.append(chord_accuracy(piece))
            ctr = chord_tone_ratio(piece, tension_aware=True)
            heard = sum(piece.chord_at(n.start) is not None for n in piece.notes)
            if ctr is not None:
                ctr_hits, ctr_notes = ctr_hits + ctr * heard, ctr_notes + heard
        shares += [shared_note_share(a, b) for a, b in itertools.combinations(takes, 2)]
    low, high = GOSPEL_REGISTER
    return {
        "takes": len(reports),
        "ms_per_take": round(1000 * (time.perf_counter() - t0) / len(reports), 1),
        "takes_with_doubled_key": sum(r["doubled_keys"] > 0 for r in reports),
        "takes_with_smeared_onset": sum(r["smeared_onsets"] > 0 for r in reports),
        "takes_with_low_cluster": sum(r["low_clusters"] > 0 for r in reports),
        "most_notes_at_one_onset": max(r["largest_onset"] for r in reports),
        "takes_outside_28_100": sum(r["lowest"] < low or r["highest"] > high for r in reports),
        "off_grid_notes": sum(r["off_grid_notes"] for r in reports),
        "silent_bars": sum(r["silent_bars"] for r in reports),
        "chord_tone_ratio_tension_aware": round(ctr_hits / max(ctr_notes, 1), 4),
        "chord_accuracy_root": _mean(a["root"] for a in accuracies),
        "chord_accuracy_root_quality": _mean(a["root_quality"] for a in accuracies),
        "chord_accuracy_root_worst": _worst(a["root"] for a in accuracies),
        "bass_on_changes": _mean(r["bass_on_changes"] for r in reports),
        "bass_on_changes_worst": _worst(r["bass_on_changes"] for r in reports),
        "guide_tones": _mean(r["guide_tones"] for r in reports),
        "guide_tones_worst": _worst(r["guide_tones"] for r in reports),
        "shared_notes_two_seeds_mean": _mean(shares),
        "shared_notes_two_seeds_p90": round(sorted(shares)[int(0.9 * len(shares))], 4),
        "shared_notes_two_seeds_worst": round(max(shares), 4),
        "pairs_sharing_over_a_third": sum(s > 1 / 3 for s in shares),
        "pairs": len(shares),
    }


def _mean(values) -> float:
    values = [v for v in values if v is not None]
    return round(statistics.mean(values), 4)


def _worst(values) -> float:
    return round(min(v for v in values if v is not None), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--random", type=int, default=32, help="random charts beside the trial charts")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per chart (pairs of seeds are compared)")
    parser.add_argument("--chart-seed", type=int, default=2026, help="seed of the random charts")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    args = parser.parse_args()
    from pipelines.generate.rules.charts import TRIAL_CHARTS, random_charts

    charts = list(TRIAL_CHARTS) + random_charts(args.random, args.chart_seed)
    figures = {style: style_figures(style, charts, args.seeds) for style in ("gospel", "mehldau")}
    if args.json:
        print(json.dumps({"charts": len(charts), "seeds": args.seeds, **figures}, indent=2))
        return
    print(f"{len(charts)} charts x {args.seeds} seeds per style")
    for style, values in figures.items():
        for key, value in values.items():
            print(f"rules {style}: {key} = {value}")


if __name__ == "__main__":
    main()
