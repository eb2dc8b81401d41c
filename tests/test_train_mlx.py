"""An MLX LoRA run on the same tiny Llama, driven through mlx-lm's trainer with our callback."""

from __future__ import annotations

import json

import pytest
from train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

from pipelines.train.checks import _mlx_importable
from pipelines.train.config import load_train_config
from pipelines.train.launcher import run_foreground
from pipelines.train.runs import read_metrics, runs_dir

pytestmark = [
    pytest.mark.mlx,
    pytest.mark.skipif(not _mlx_importable(), reason="mlx / mlx-lm cannot be imported here"),
]


def test_mlx_lora_run_logs_checkpoints_and_reloads(studio_home, tmp_path):
    write_dataset(studio_home)
    base = write_tiny_llama(tmp_path / "base")
    cfg = load_train_config("mlx_16gb", tiny_overrides(base, precision="fp32", vocab_mode="text"))
    summary = run_foreground(cfg)
    run_dir = runs_dir() / summary["run_id"]
    assert summary == {"run_id": run_dir.name, "state": "completed", "step": 10}
    metrics = read_metrics(run_dir)
    losses = [m["loss"] for m in metrics if m.get("loss") is not None]
    assert len(losses) == 10 and losses[-1] < losses[0]
    assert any(m.get("eval_loss") for m in metrics) and any(m.get("tokens_per_s") for m in metrics)
    best = run_dir / "checkpoints" / "best"
    assert json.loads((best / "studio_checkpoint.json").read_text())["backend"] == "mlx"
    samples = json.loads((run_dir / "samples" / "step-10" / "samples.json").read_text())
    assert samples["samples"][0]["tokens"].startswith(samples["samples"][0]["prompt"])

    from mlx_lm import generate, load

    model, tokenizer = load(str(base), adapter_path=str(best))  # mlx-lm's own loader accepts our checkpoint
    assert isinstance(generate(model, tokenizer, prompt="STYLE_gospel", max_tokens=4), str)

    from pipelines.train.export import export_run

    fused = export_run(run_dir.name, "tiny-mlx", out_dir=tmp_path / "fused")
    assert fused["merged"] and (tmp_path / "fused" / "README.md").is_file()
    model, tokenizer = load(str(tmp_path / "fused"))
    assert not any("lora" in n for n, _ in model.named_modules())


def test_mlx_qlora_quantizes_the_base_to_4_bits(studio_home, tmp_path):
    import mlx.nn as nn

    from pipelines.train.backends.mlx_backend import load_model, prepare

    write_dataset(studio_home)
    base = write_tiny_llama(tmp_path / "base")
    cfg = load_train_config(
        "mlx_16gb", tiny_overrides(base, precision="fp32", vocab_mode="text", method="qlora")
    )
    model, _ = load_model(cfg)
    prepare(model, cfg)
    assert any(isinstance(m, nn.QuantizedLinear) and m.bits == 4 for _, m in model.named_modules())
    summary = run_foreground(
        load_train_config(
            "mlx_16gb",
            tiny_overrides(
                base, precision="fp32", vocab_mode="text", method="qlora", max_steps=3, eval_steps=3
            ),
        )
    )
    assert summary["state"] == "completed" and summary["step"] == 3
