"""A Llama with all its weights in the checkpoint (trained from scratch, or fully fine-tuned from such
a model, as the shipped default is) decodes through the exported graph, and so do adapters on it."""
from __future__ import annotations

import json

import pytest

from generate_model_fixtures import write_tiny_checkpoint
from pipelines.common.paths import checkpoints_dir
from pipelines.generate.model.loading import model_cache, read_card


def _set_card(folder, **fields) -> None:
    card = json.loads((folder / "studio_checkpoint.json").read_text())
    (folder / "studio_checkpoint.json").write_text(json.dumps({**card, **fields}))


@pytest.mark.parametrize("method, base, exportable", [
    ("scratch", "", True),
    ("full", "", True),                     # a shipped card without the builder's path (the default)
    ("full", "stage1", True),               # fully fine-tuned from a scratch checkpoint
    ("full", "Qwen/Qwen2.5-0.5B", False),   # a fine-tuned hub LLM keeps torch
    ("qlora", "Qwen/Qwen2.5-0.5B", False),
])
def test_a_studio_llama_is_exportable_whatever_trained_its_weights(tmp_path, studio_home, method, base, exportable):
    if base == "stage1":
        base = str(write_tiny_checkpoint(tmp_path / "stage1"))
    folder = write_tiny_checkpoint(tmp_path / method)
    _set_card(folder, method=method, base_model=base)
    assert model_cache().get(str(folder)).exportable is exportable


def test_the_shipped_models_decode_through_the_graph(studio_home):
    shipped = [p for p in sorted(checkpoints_dir().iterdir()) if (p / "studio_checkpoint.json").is_file()]
    assert {p.name for p in shipped} >= {"default", "gospel", "mehldau"}
    for folder in shipped:
        loaded = model_cache().get(str(folder))
        assert loaded.exportable, f"{folder.name} ({read_card(folder)['method']}) would decode in torch only"
