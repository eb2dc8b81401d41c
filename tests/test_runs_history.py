"""The run history: one row per run with its preset, two runs' loss curves overlaid and their
config diff, read from run folders written by the real run store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipelines.common.errors import StudioError
from pipelines.train.config import load_train_config
from pipelines.train.history import compare_figure, compare_runs, config_diff, history_rows
from pipelines.train.launcher import create_run
from pipelines.train.runs import append_metrics, write_status


def _run(preset: str, losses: list[float], **overrides) -> str:
    run_dir = create_run(load_train_config(preset, {"dataset": "tiny", **overrides}), preset=preset)
    for step, loss in enumerate(losses, 1):
        append_metrics(run_dir, {"step": step, "loss": loss})
    append_metrics(run_dir, {"step": len(losses), "eval_loss": min(losses)})
    write_status(run_dir, state="completed", step=len(losses), best_eval_loss=min(losses),
                 started=1000.0, finished=1125.0)
    return run_dir.name


def test_history_rows_compare_and_config_diff():
    first = _run("scratch_small", [3.0, 2.5, 2.0])
    second = _run("scratch_small", [3.2, 2.2, 1.5, 1.2], learning_rate=5e-4, batch_size=8)
    rows = {row[0]: row for row in history_rows()}
    assert rows[second][1:6] == ["completed", "4/2000", "1.2000", "2m05s", "scratch_small"]
    headers, diff = config_diff([first, second])
    assert headers == ["setting", first, second]
    assert {r[0]: r[1:] for r in diff} == {"batch_size": ["16", "8"], "learning_rate": ["0.001", "0.0005"]}
    summary = compare_runs([first, second])
    assert summary["runs"][second]["best_eval_loss"] == 1.2 and summary["runs"][first]["last_train_loss"] == 2.0
    figure = compare_figure([first, second], smoothing=0.0)
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert list(lines[f"{second} train"].get_ydata()) == pytest.approx([3.2, 2.2, 1.5, 1.2])
    assert f"{first} eval" in lines
    with pytest.raises(StudioError, match="two or more runs"):
        config_diff([first])


def test_checkpoint_choices_list_every_loadable_checkpoint_newest_run_first():
    from pipelines.train.runs import checkpoint_choices

    first = _run("scratch_small", [3.0, 2.0])
    second = _run("scratch_small", [2.5])
    from pipelines.train.runs import runs_dir

    for run_id, names in ((first, ("step-2", "best")), (second, ("step-1", "step-3"))):
        for name in names:
            folder = runs_dir() / run_id / "checkpoints" / name
            folder.mkdir(parents=True)
            (folder / "studio_checkpoint.json").write_text("{}")
    (runs_dir() / second / "checkpoints" / "step-9").mkdir()  # being written: no card yet
    values = [value for _, value in checkpoint_choices()]
    assert values[:2] == [f"runs/{second}/step-3", f"runs/{second}/step-1"]
    assert values[2:] == [f"runs/{first}/best", f"runs/{first}/step-2"]


def test_loss_figures_leave_pyplot_alone():
    """The UI draws from worker threads, so the figures are plain ``Figure``s: pyplot (one global
    state for every thread) is never imported."""
    first = _run("scratch_small", [3.0, 2.5, 2.0])
    second = _run("scratch_small", [3.2, 2.2, 1.5])
    code = ("import sys\n"
            "from pipelines.train.history import compare_figure\n"
            "from pipelines.train.status import loss_figure\n"
            f"figures = [compare_figure({[first, second]!r}), loss_figure({first!r})]\n"
            "assert all(f.axes[0].get_lines() for f in figures)\n"
            "print('matplotlib.pyplot' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ), cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "False"
