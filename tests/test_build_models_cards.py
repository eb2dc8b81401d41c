"""scripts/build_models.py --card-figures: the bench's figures land in each shipped model's card and README."""
from __future__ import annotations

import json


def test_bench_figures_go_into_each_measured_models_card_and_readme(tmp_path):
    from scripts.build_models import BENCH_HEADING, CARD, write_card_figures

    row = {"chord_tone_ratio_tension_aware": 0.97, "shared_notes": 0.3, "takes": 48, "unrelated": 1}
    report = {"charts": "bench/charts_heldout.yaml", "n_charts": 24, "seeds": 2, "temperature": "the style's",
              "goals": {"chord_tone_ratio_tension_aware": ">= 0.95", "shared_notes": "<= 0.35"},
              "models": {"checkpoints/default @ default": row, "checkpoints/default @ 0": {**row, "shared_notes": 0.2},
                         "checkpoints/gospel @ default": row, "rules @ default": row}}
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(report))
    models = tmp_path / "checkpoints"
    for name in ("default", "gospel", "mehldau"):
        (models / name).mkdir(parents=True)
        (models / name / CARD).write_text(json.dumps({"name": name}))
        (models / name / "README.md").write_text(f"# {name}\n\nWhat it learned.\n\n{BENCH_HEADING}\n\nold figures\n")
    written = write_card_figures(bench, models)
    assert written == [str(models / "default"), str(models / "gospel")]   # mehldau was not measured
    card = json.loads((models / "default" / CARD).read_text())
    assert card["name"] == "default" and card["bench"]["temperature"] == "the style's"
    assert card["bench"]["settings"]["0"]["shared_notes"] == 0.2 and "unrelated" not in card["bench"]["settings"]["0"]
    readme = (models / "default" / "README.md").read_text()
    assert readme.startswith("# default\n\nWhat it learned.") and "old figures" not in readme
    assert readme.count(BENCH_HEADING) == 1 and "gospel 1.3, mehldau 1.0" in readme
    assert "| shared_notes | <= 0.35 | 0.3 | 0.2 |" in readme
    assert (models / "mehldau" / "README.md").read_text().endswith("old figures\n")
