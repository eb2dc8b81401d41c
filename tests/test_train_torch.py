"""One real CPU run of each torch training path on a tiny Llama: LoRA, QLoRA (4-bit), scratch, full."""

from __future__ import annotations

import json

import pytest
import torch
from train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

from pipelines.train.backends.torch_models import load_checkpoint
from pipelines.train.config import load_train_config
from pipelines.train.launcher import continue_config, run_foreground
from pipelines.train.runs import list_runs, read_metrics, runs_dir
from pipelines.train.status import check_config


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny_llama"))


@pytest.fixture
def dataset(studio_home):
    return write_dataset(studio_home)


def train_losses(run_dir):
    return [m["loss"] for m in read_metrics(run_dir) if m.get("loss") is not None]


def generate(model, codec, prompt: str, new_tokens: int = 12) -> list[str]:
    ids = codec.encode(prompt)[:-1]
    torch.manual_seed(0)
    out = model.generate(
        input_ids=torch.tensor([ids]),
        do_sample=True,
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        pad_token_id=codec.tokenizer.pad_token_id,
    )
    return codec.events(out[0].tolist())


def test_lora_ten_steps_loss_falls_adapter_reloads_and_generates(tiny_base, dataset):
    cfg = load_train_config("qlora_fast", tiny_overrides(tiny_base, method="lora"))
    summary = run_foreground(cfg)
    run_dir = runs_dir() / summary["run_id"]
    losses = train_losses(run_dir)
    assert summary["state"] == "completed" and summary["step"] == 10 and len(losses) == 10
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.1, losses
    metrics = read_metrics(run_dir)
    evals = [m for m in metrics if "eval_loss" in m]
    assert evals and all(m["perplexity"] > 1 for m in evals)
    assert any("tokens_per_s" in m for m in metrics) and all("peak_mem_gb" in m for m in metrics)
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert ckpts == ["best", "step-10", "step-5"]
    assert (run_dir / "checkpoints" / "best" / "adapter_model.safetensors").is_file()
    samples = json.loads((run_dir / "samples" / "step-10" / "samples.json").read_text())
    assert samples["samples"] and samples["decoded_share"] is not None  # measured with pipelines.data
    model, tokenizer, codec = load_checkpoint(run_dir / "checkpoints" / "best")
    events = generate(model, codec, "STYLE_gospel TEMPO_88 TIMESIG_4/4")
    assert len(events) > 3
    assert any(
        len(tokenizer.tokenize(w)) == 1 for w in ("NOTE_60", "BAR_START")
    )  # music words are single tokens
    assert list_runs()[0]["state"] == "completed"
    stage2 = continue_config(
        summary["run_id"], "stage2_gospel", tiny_overrides(None, max_steps=2, eval_steps=2)
    )
    second = run_foreground(stage2)  # LoRA continued from stage 1's best adapter
    first_loss = train_losses(runs_dir() / second["run_id"])[0]
    assert second["state"] == "completed" and first_loss < losses[0] - 0.1


def test_qlora_trains_4bit_nf4_on_cpu(tmp_path_factory, dataset):
    bnb = pytest.importorskip("bitsandbytes")
    from pipelines.train.backends.torch_models import build_model

    # bitsandbytes' CPU kernels (on processors with AVX-512 BF16) repack 4-bit weights in blocks of 64
    # input features, so the layers must be at least that wide
    base = write_tiny_llama(tmp_path_factory.mktemp("tiny_llama_64"), hidden=64)
    cfg = load_train_config(
        "qlora_fast", tiny_overrides(base, max_steps=4, eval_steps=4, vocab_mode="text")
    )
    model, _, _, _ = build_model(cfg, ["NOTE_60"])
    quantized = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quantized and quantized[0].weight.quant_type == "nf4"
    assert quantized[0].weight.quant_state.nested  # double quantisation
    summary = run_foreground(cfg)
    assert summary["state"] == "completed" and summary["step"] == 4
    adapter = runs_dir() / summary["run_id"] / "checkpoints" / "best" / "adapter_config.json"
    assert json.loads(adapter.read_text())["r"] == 4
    assert not json.loads(adapter.read_text())["modules_to_save"]  # text mode: no new embedding rows to train


def test_scratch_model_on_the_dataset_vocabulary(dataset):
    overrides = tiny_overrides(
        None,
        scratch_layers=2,
        scratch_hidden=32,
        scratch_heads=4,
        scratch_intermediate=64,
        learning_rate=3e-3,
    )
    summary = run_foreground(load_train_config("scratch_small", overrides))
    run_dir = runs_dir() / summary["run_id"]
    losses = train_losses(run_dir)
    assert summary["state"] == "completed" and losses[-1] < losses[0]
    model, tokenizer, codec = load_checkpoint(run_dir / "checkpoints" / "best")
    vocab = json.loads((dataset / "tokenizer.json").read_text())["vocab"]
    assert model.config.vocab_size == len(tokenizer) == len(vocab) + 4
    assert codec.encode("BAR_START POS_0")[1:3] == [
        tokenizer.convert_tokens_to_ids(t) for t in ("BAR_START", "POS_0")
    ]
    assert all(e in set(vocab) for e in generate(model, codec, "STYLE_gospel TEMPO_88"))


def test_full_finetune_then_continue_as_stage_two(tiny_base, dataset):
    cfg = load_train_config(
        "full_finetune", tiny_overrides(tiny_base, max_steps=4, eval_steps=2, learning_rate=1e-3)
    )
    first = run_foreground(cfg)
    assert first["state"] == "completed"
    stage2 = continue_config(
        first["run_id"], "stage2_gospel", tiny_overrides(None, max_steps=2, eval_steps=2)
    )
    assert stage2.method == "full" and stage2.init_from.endswith("checkpoints/best")
    assert stage2.learning_rate == 5e-3 and stage2.lora_dropout == 0.05  # the preset's, then the overrides
    second = run_foreground(stage2)
    assert second["state"] == "completed"
    model, _, _ = load_checkpoint(runs_dir() / second["run_id"] / "checkpoints" / "best")
    assert sum(p.numel() for p in model.parameters()) > 0


def test_dataset_check_reports_the_cost_of_each_vocab_mode(tiny_base, dataset):
    report = check_config(load_train_config(None, tiny_overrides(tiny_base)))
    lengths = report["sequence_lengths"]
    assert report["runnable"] and lengths["sequences"] == 40
    assert lengths["text_mean"] > 2 * lengths["added_tokens_mean"] and lengths["text_cost_x"] > 2


def test_export_merges_lora_with_a_model_card_and_refuses_offline_push(tiny_base, dataset, tmp_path,
                                                                        studio_home):
    from transformers import AutoModelForCausalLM

    from pipelines.common.errors import StudioError
    from pipelines.train.export import export_run, exported_models

    summary = run_foreground(load_train_config(None, tiny_overrides(tiny_base, max_steps=2, eval_steps=2)))
    result = export_run(summary["run_id"], "tiny-music")
    out = studio_home / "models" / "tiny-music"  # in the workspace, never the checkout's checkpoints/
    assert result["out_dir"] == str(out) and ("tiny-music (exported)", "models/tiny-music") in exported_models()
    assert result["merged"] and (out / "README.md").read_text().count("tiny-music") >= 1
    assert "best eval loss" in (out / "README.md").read_text()
    merged = AutoModelForCausalLM.from_pretrained(out)
    assert not any("lora" in n for n, _ in merged.named_parameters())
    model, _, _ = load_checkpoint(runs_dir() / summary["run_id"] / "checkpoints" / "best")
    ids = torch.tensor([[1, 5, 9, 300]])
    with torch.no_grad():  # the merged model computes what base + adapter computed
        assert torch.allclose(merged(ids).logits, model(ids).logits, atol=1e-4)
    with pytest.raises(StudioError, match="HF_HUB_OFFLINE is set"):
        export_run(summary["run_id"], "again", push_to="me/model", token="x", out_dir=tmp_path / "again")


def test_missing_or_offline_base_model_is_a_clear_message(dataset):
    from pipelines.common.errors import StudioError

    cfg = load_train_config(None, tiny_overrides(None, base_model="nobody/no-such-model"))
    with pytest.raises(StudioError, match="not a local model folder and could not be fetched"):
        run_foreground(cfg)
    assert list_runs()[0]["state"] == "failed" and "nobody/no-such-model" in list_runs()[0]["error"]
