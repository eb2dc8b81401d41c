"""How well trained models follow the chart, beside the rules engines (prints JSON; not a test).

Every example chart of ``assets/charts/examples.yaml`` is played in its own style with a few seeds
by each model; the figures are the music core's metrics of the MIDI the studio writes, averaged:
chord accuracy (root, root + quality: can the requested chord be recognised from the notes?),
the tension-aware chord-tone ratio, and notes per bar.

    python bench/bench_model_quality.py [--models rules default checkpoints/gospel ...] [--seeds 3] [--style gospel]
                                        [--backend auto|torch|onnxruntime]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FIGURES = ("chord_accuracy_root", "chord_accuracy_root_quality", "chord_tone_ratio_tension_aware", "notes_per_bar")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["rules", "default"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--style", default=None, help="only the example charts of this style")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import yaml

    from pipelines.generate.api import GenerateConfig, generate

    examples = yaml.safe_load((REPO / "assets" / "charts" / "examples.yaml").read_text(encoding="utf-8"))
    examples = {name: e for name, e in examples.items() if args.style in (None, e["style"])}
    out = Path(tempfile.mkdtemp(prefix="bench_quality_"))
    report: dict = {"charts": len(examples), "seeds": args.seeds, "temperature": args.temperature,
                    "backend": args.backend, "models": {}}
    for model in args.models:
        rows = []
        for name, example in examples.items():
            for seed in range(1, args.seeds + 1):
                result = generate(GenerateConfig(chords=example["chart"], style=example["style"], model=model,
                                                 tempo_bpm=example["tempo_bpm"], seed=seed,
                                                 temperature=args.temperature, backend=args.backend,
                                                 out_dir=str(out / model.replace("/", "_")),
                                                 render_audio=False))
                rows.append({"chart": name, **{k: result.metrics[k] for k in FIGURES}})
        means = {k: round(sum(r[k] for r in rows if r[k] is not None) / max(1, sum(r[k] is not None for r in rows)), 4)
                 for k in FIGURES}
        worst = min(rows, key=lambda r: r["chord_accuracy_root"] or 0.0)
        report["models"][model] = {"takes": len(rows), "mean": means,
                                   "lowest_root_accuracy": {"chart": worst["chart"],
                                                            "value": worst["chord_accuracy_root"]}}
        print(f"{model}: {means}", file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
