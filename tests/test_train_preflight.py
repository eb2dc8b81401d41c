"""Before Start: the default preset fits the machine, every preset states its memory and time here,
and Check answers within 3 s offline with every blocker and its fix."""

from __future__ import annotations

import time

import pytest
from train_fixtures import tiny_overrides, write_dataset

from pipelines.train.checks import Machine
from pipelines.train.config import list_presets, load_train_config
from pipelines.train.preflight import default_preset, estimate
from pipelines.train.status import check_config

CPU_ONLY = Machine(cuda_devices=0, mps=False, cpu_bf16=False, has_bitsandbytes=True, has_peft=True,
                   has_mlx=False, has_torchrun=True)


def test_the_default_preset_is_one_this_machine_can_run():
    assert default_preset(CPU_ONLY) == "scratch_small"
    gpu = Machine(**{**CPU_ONLY.__dict__, "cuda_devices": 1})
    assert default_preset(gpu) == "qlora_fast"
    assert default_preset(Machine(**{**gpu.__dict__, "has_bitsandbytes": False})) == "scratch_small"


def test_check_lists_every_blocker_with_its_fix_within_3_s_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = load_train_config("qlora_fast", {"dataset": "nowhere", "base_model": "nobody/not-cached-0.5B",
                                           "device": "cpu", "precision": "fp16"})
    t0 = time.monotonic()
    report = check_config(cfg)
    assert time.monotonic() - t0 < 3.0
    blockers = report["blockers"]
    assert not report["runnable"] and len(blockers) == 3, blockers
    assert any("fp16" in b and "pick precision fp32" in b for b in blockers)
    assert any("nowhere" in b and "tokenize one in the Data tab" in b for b in blockers)
    assert any("nobody/not-cached-0.5B" in b and "huggingface-cli download" in b and "scratch_small" in b
               for b in blockers)
    assert "500.0M parameters" in report["estimate"]  # the size read from the name, before any download


def test_every_preset_states_memory_and_time_here(studio_home):
    write_dataset(studio_home)
    for preset in list_presets():
        result = estimate(load_train_config(preset, {"dataset": "tiny"}), CPU_ONLY)
        assert result["text"], preset
        if result["known"]:
            assert result["memory_gb"] > 0 and result["step_s"] > 0 and "GB of RAM" in result["text"], preset
    scratch = estimate(load_train_config("scratch_small", {"dataset": "tiny"}), CPU_ONLY)
    assert scratch["known"] and scratch["total_s"] == pytest.approx(scratch["step_s"] * 2000, rel=0.01)


def test_the_parameter_estimate_matches_the_model_the_backend_builds(studio_home):
    from pipelines.train.backends.torch_models import build_model
    from pipelines.train.data import read_vocab

    write_dataset(studio_home)
    cfg = load_train_config("scratch_small", tiny_overrides(None, method="scratch", scratch_layers=2,
                                                            scratch_hidden=64, scratch_heads=4,
                                                            scratch_intermediate=128))
    vocab = read_vocab("tiny")
    model = build_model(cfg, vocab)[0]
    built = sum(p.numel() for p in model.parameters())
    assert estimate(cfg, CPU_ONLY, len(vocab))["parameters"] == pytest.approx(built, rel=0.03)
