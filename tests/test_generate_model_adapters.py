"""Style adapters on one base: loaded once, switched by name, each generating valid takes."""
from __future__ import annotations

import json

import pytest

from pipelines.generate.model import loading
from test_generate_model_fixtures import write_tiny_checkpoint


def write_adapter(base, folder, seed: int):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(base)),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                      init_lora_weights=False, task_type="CAUSAL_LM"))
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(folder))
    card = {"method": "lora", "backend": "torch", "base_model": str(base), "vocab_mode": "added_tokens",
            "dataset": ""}
    (folder / "studio_checkpoint.json").write_text(json.dumps(card))
    return folder


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    base = write_tiny_checkpoint(root / "base")
    return base, write_adapter(base, root / "gospel", 1), write_adapter(base, root / "mehldau", 2)


def test_switching_adapters_never_reloads_the_base(adapters, monkeypatch, tmp_path):
    import numpy as np

    from pipelines.generate.api import GenerateConfig, generate
    from pipelines.generate.model.sampling import TorchStepper

    base, gospel, mehldau = adapters
    loads = []
    real = loading._load_weights
    monkeypatch.setattr(loading, "_load_weights", lambda folder, device: loads.append(folder) or real(folder, device))
    cache = loading.ModelCache()
    monkeypatch.setattr(loading, "model_cache", lambda: cache)
    first, second = cache.get(str(gospel)), cache.get(str(mehldau))
    assert len(loads) == 1 and first.model is second.model and first.adapter != second.adapter
    prompt = np.array([[first.bos_id, first.space.id("STYLE_gospel"), first.space.id("TEMPO_100")]])
    first.activate()
    a = TorchStepper(first.model).prefill(prompt)
    second.activate()
    b = TorchStepper(second.model).prefill(prompt)
    assert np.abs(a - b).max() > 1e-4  # each adapter really is active in turn
    for adapter in (gospel, mehldau, gospel):
        result = generate(GenerateConfig(chords="| Cmaj7 | G7 |", model=str(adapter), out_dir=str(tmp_path),
                                         render_audio=False))
        assert result.piece.bars == 2 and result.decoding["backend"] == "torch"
    assert len(loads) == 1
    plain = cache.get(str(base))  # the base itself, adapters off
    assert len(loads) == 1 and plain.adapter is None
    plain.activate()
    alone = loading.ModelCache().get(str(base))
    assert np.abs(TorchStepper(plain.model).prefill(prompt) - TorchStepper(alone.model).prefill(prompt)).max() < 1e-5
    second.activate()
    assert np.abs(TorchStepper(second.model).prefill(prompt) - b).max() < 1e-5
