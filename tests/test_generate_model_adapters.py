"""Style adapters: merged into a copy of a scratch base and decoded by its exported graph, the base left
untouched; attached by name on an LLM base; each generating valid takes; the style they play."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.generate.model import loading
from generate_model_fixtures import write_tiny_checkpoint

EVERY_LAYER = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def write_adapter(base, folder, seed: int, dataset: str = "", whole_embeddings: bool = False):
    """A random LoRA (B not zero, so it changes the logits) saved as the trainer saves one.

    Args:
        whole_embeddings: also train the embeddings and the head whole, as the shipped adapters do.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=EVERY_LAYER if whole_embeddings else ["q_proj", "v_proj"],
                      modules_to_save=["embed_tokens", "lm_head"] if whole_embeddings else None,
                      init_lora_weights=False, task_type="CAUSAL_LM")
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(base)), lora)
    if whole_embeddings:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "modules_to_save" in name:
                    param.add_(0.05 * torch.randn_like(param))
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(folder))
    card = {"method": "lora", "backend": "torch", "base_model": str(base), "vocab_mode": "added_tokens",
            "dataset": dataset}
    (folder / "studio_checkpoint.json").write_text(json.dumps(card))
    return folder


def peft_model(base, adapter):
    """The adapter as peft runs it (unmerged, on a fresh copy of its base): what the merged copy must equal."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base)), str(adapter)).eval()


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    base = write_tiny_checkpoint(root / "base")
    return (base, write_adapter(base, root / "gospel", 1, "gospel", whole_embeddings=True),
            write_adapter(base, root / "mehldau", 2, "mehldau"))


@pytest.fixture
def cache(monkeypatch):
    """A fresh model cache for the test, counting reads of weights from disk."""
    fresh = loading.ModelCache()
    fresh.loads = []
    real = loading._load_weights
    monkeypatch.setattr(loading, "_load_weights",
                        lambda folder, device: fresh.loads.append(folder) or real(folder, device))
    monkeypatch.setattr(loading, "model_cache", lambda: fresh)
    return fresh


def _prompt(loaded) -> np.ndarray:
    return np.array([[loaded.bos_id, loaded.space.id("STYLE_gospel"), loaded.space.id("TEMPO_100"),
                      loaded.space.id("BAR_START")]])


def test_adapters_on_a_scratch_base_decode_merged_and_leave_the_base_untouched(adapters, cache):
    from pipelines.generate.model.sampling import TorchStepper

    base, gospel, mehldau = adapters
    first, second, plain = cache.get(str(gospel)), cache.get(str(mehldau)), cache.get(str(base))
    assert cache.loads == [] and first.merged and second.merged and first.exportable  # nothing read yet
    prompt = _prompt(first)
    for loaded, adapter in ((first, gospel), (second, mehldau)):
        merged = TorchStepper(loaded.model).prefill(prompt)
        unmerged = TorchStepper(peft_model(base, adapter)).prefill(prompt)
        assert np.abs(merged - unmerged).max() < 1e-4, adapter.name
    assert len(cache.loads) == 1 and first.model is not second.model   # one read of the base, one copy each
    assert not hasattr(plain.model, "peft_config") and plain.model is cache.get(str(base)).model
    alone = TorchStepper(loading.ModelCache().get(str(base)).model).prefill(prompt)
    assert np.abs(TorchStepper(plain.model).prefill(prompt) - alone).max() < 1e-6   # the base is as it was
    assert np.abs(TorchStepper(first.model).prefill(prompt) - alone).max() > 1e-3   # the adapter is not


def test_an_adapters_graph_decodes_the_same_tokens_as_torch(adapters, cache):
    """The float graph of the merged adapter and peft's own unmerged model, sampled on one seed."""
    from pipelines.generate.model.onnx_backend import OnnxDecoder, _folder_for, choose_backend
    from pipelines.generate.model.onnx_export import GRAPHS
    from pipelines.generate.model.sampling import Sampling, TorchStepper, sample

    base, gospel, _ = adapters
    loaded = cache.get(str(gospel))
    decision = choose_backend(loaded, trial_tokens=32, force=True)
    graph = OnnxDecoder(_folder_for(loaded) / GRAPHS["float"], decision["shape"]).stepper()
    reference = TorchStepper(peft_model(base, gospel))
    every = np.arange(decision["shape"]["vocab"])
    runs = []
    for stepper in (graph, reference):
        rng, logits, tokens = np.random.default_rng(7), stepper.prefill(_prompt(loaded)), []
        for _ in range(120):
            tokens.append(sample(logits[0], every, Sampling(1.0), rng))
            logits = stepper.step(np.array([[tokens[-1]]]))
        runs.append((tokens, logits))
    assert runs[0][0] == runs[1][0]
    assert np.abs(runs[0][1] - runs[1][1]).max() < 1e-3


def test_using_an_adapter_keeps_the_base_on_onnxruntime(adapters, cache, tmp_path):
    from pipelines.generate.api import GenerateConfig, generate
    from pipelines.generate.model.onnx_backend import _folder_for

    base, gospel, mehldau = adapters

    def take(model: str, backend: str):
        return generate(GenerateConfig(chords="| Cmaj7 | G7 |", model=model, backend=backend, render_audio=False,
                                       out_dir=str(tmp_path / model.replace("/", "-")))).decoding

    before = take(str(base), "onnxruntime")
    for adapter in (gospel, mehldau):
        assert take(str(adapter), "onnxruntime")["backend"] == "onnxruntime"
        assert take(str(adapter), "auto")["backend"] in ("onnxruntime", "torch")
    after = take(str(base), "auto")
    decided = json.loads((_folder_for(cache.get(str(base))) / "decision.json").read_text())
    assert after["backend"] == decided["backend"] and before["engine"] == take(str(base), "onnxruntime")["engine"]
    assert not hasattr(cache.get(str(base)).model, "peft_config")
    folders = {_folder_for(cache.get(str(m))) for m in (base, gospel, mehldau)}
    assert len(folders) == 3   # each adapter has its own graph, the base keeps its own


def test_adapters_on_an_llm_base_switch_by_name_and_never_reload_it(adapters, cache, tmp_path):
    """A base that is not a scratch model (an LLM) keeps peft's attach-by-name: one copy of the weights."""
    import shutil

    from pipelines.generate.api import GenerateConfig, generate
    from pipelines.generate.model.sampling import TorchStepper

    root = tmp_path / "llm"
    base = shutil.copytree(adapters[0], root / "base")
    (base / "studio_checkpoint.json").write_text(json.dumps({"method": "full", "vocab_mode": "added_tokens",
                                                             "base_model": "Qwen/Qwen2.5-0.5B"}))
    gospel, mehldau = write_adapter(base, root / "gospel", 1), write_adapter(base, root / "mehldau", 2)
    first, second = cache.get(str(gospel)), cache.get(str(mehldau))
    assert not first.merged and not first.exportable
    prompt = _prompt(first)
    first.activate()
    a = TorchStepper(first.model).prefill(prompt)
    second.activate()
    b = TorchStepper(second.model).prefill(prompt)
    assert len(cache.loads) == 1 and first.model is second.model and np.abs(a - b).max() > 1e-4
    for adapter in (gospel, mehldau, gospel):
        result = generate(GenerateConfig(chords="| Cmaj7 | G7 |", model=str(adapter), out_dir=str(tmp_path),
                                         render_audio=False))
        assert result.piece.bars == 2 and result.decoding["backend"] == "torch"
    plain = cache.get(str(base))
    plain.activate()
    assert len(cache.loads) == 1 and plain.model is first.model   # the base alone is the same weights, adapters off
    alone = loading.ModelCache().get(str(base)).model
    assert np.abs(TorchStepper(plain.model).prefill(prompt) - TorchStepper(alone).prefill(prompt)).max() < 1e-5
    second.activate()
    assert np.abs(TorchStepper(second.model).prefill(prompt) - b).max() < 1e-5


def test_an_adapter_whose_base_is_missing_says_what_to_do(adapters, cache, tmp_path):
    import shutil

    from pipelines.common.errors import StudioError

    orphan = shutil.copytree(adapters[2], tmp_path / "orphan")
    card = json.loads((orphan / "studio_checkpoint.json").read_text())
    (orphan / "studio_checkpoint.json").write_text(json.dumps({**card, "base_model": "gone-base"}))
    (orphan / "adapter_config.json").write_text(json.dumps(
        {**json.loads((orphan / "adapter_config.json").read_text()), "base_model_name_or_path": "gone-base"}))
    with pytest.raises(StudioError) as error:
        cache.get(str(orphan))
    message = str(error.value)
    assert "'gone-base'" in message and "checkpoints/gone-base" in message and "--base" in message
    assert "\n" not in message and message.count(". ") == 0   # one sentence
    assert cache.get(str(orphan), base=str(adapters[0])).merged   # given a base, it plays


def test_model_style_follows_the_adapter(adapters, tmp_path):
    import shutil

    from pipelines.generate.model.loading import model_style

    base, gospel, mehldau = adapters
    assert [model_style(str(m)) for m in (gospel, mehldau, base)] == ["gospel", "mehldau", None]
    assert model_style("rules") is None
    other = shutil.copytree(mehldau, tmp_path / "trio")
    card = json.loads((other / "studio_checkpoint.json").read_text())
    (other / "studio_checkpoint.json").write_text(json.dumps({**card, "dataset": "my_trio"}))
    assert model_style(str(other)) is None     # a dataset name that is no style: the Style control decides
    (other / "studio_checkpoint.json").write_text(json.dumps({**card, "dataset": "my_trio", "style": "gospel"}))
    assert model_style(str(other)) == "gospel"
    assert model_style("checkpoints/gospel") == "gospel" and model_style("default") is None


def test_an_adapter_played_in_another_style_says_so(adapters, cache, tmp_path):
    """The header follows the Style control; a take of an adapter in another style carries a note."""
    from pipelines.generate.api import GenerateConfig, generate

    _, _, mehldau = adapters
    for style, note in (("mehldau", False), ("gospel", True)):
        result = generate(GenerateConfig(chords="| Cmaj7 | G7 |", model=str(mehldau), style=style, render_audio=False,
                                         backend="onnxruntime", out_dir=str(tmp_path / style)))
        assert result.takes[0].tokens[0] == f"STYLE_{style}"
        assert ("style_note" in result.decoding) == note
    assert "trained on mehldau" in result.decoding["style_note"]


def test_an_adapters_base_is_the_folder_beside_it_before_the_shipped_one(tmp_path, monkeypatch):
    """A staged build (``models/default`` beside ``models/gospel``) plays its adapters on its own
    default, not on the one installed in checkpoints/; an adapter without one beside it uses checkpoints/."""
    from pipelines.generate.model import loading

    shipped, staged = tmp_path / "checkpoints", tmp_path / "build" / "models"
    for folder in (shipped / "default", staged / "default", staged / "gospel", tmp_path / "run" / "best"):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(loading, "checkpoints_dir", lambda: shipped)
    card = {"base_model": "default"}
    assert loading.adapter_base(staged / "gospel", card) == (staged / "default").resolve()
    assert loading.adapter_base(tmp_path / "run" / "best", card) == (shipped / "default").resolve()
