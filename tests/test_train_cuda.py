"""The GPU tier: QLoRA with bf16 compute and a bf16 LoRA on CUDA (skipped without an NVIDIA GPU)."""

from __future__ import annotations

import pytest
import torch
from train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

from pipelines.train.config import load_train_config
from pipelines.train.launcher import run_foreground
from pipelines.train.runs import read_metrics, runs_dir

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")]


@pytest.mark.parametrize("method", ["qlora", "lora"])
def test_bf16_runs_on_the_gpu(method, studio_home, tmp_path):
    write_dataset(studio_home)
    base = write_tiny_llama(tmp_path / "base", hidden=64)
    cfg = load_train_config(
        "qlora_fast", tiny_overrides(base, method=method, device="cuda", precision="bf16")
    )
    summary = run_foreground(cfg)
    assert summary["state"] == "completed"
    metrics = read_metrics(runs_dir() / summary["run_id"])
    assert all(0 < m["peak_mem_gb"] < 10 for m in metrics if "loss" in m)
