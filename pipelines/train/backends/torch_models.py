"""Build the model a torch run trains: a base LM with LoRA / QLoRA / full, or a scratch decoder.

Every checkpoint this produces carries ``studio_checkpoint.json`` (how it was made) and its
tokenizer, so ``load_checkpoint`` can bring it back for generation with nothing else.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ...common.errors import StudioError
from ..config import TrainConfig
from ..data import Codec, add_music_tokens, scratch_tokenizer
from .musical_init import musical_embeddings

log = logging.getLogger(__name__)
CARD = "studio_checkpoint.json"


def _offline_error(name: str, exc: Exception) -> StudioError:
    return StudioError(
        f"base model {name!r} is not a local model folder and could not be fetched from the Hugging Face hub "
        f"(offline, or the name is wrong: {type(exc).__name__}); download it once on a connected machine "
        "(huggingface-cli download NAME) or give a local folder, or pick method scratch"
    )


def load_tokenizer(source: str):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise _offline_error(source, exc) from None
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    return tok


def load_base(source: str, cfg: TrainConfig, quantize: bool):
    """A causal LM from a folder or hub id, 4-bit nf4 with double quantisation when ``quantize``."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    kwargs: dict[str, Any] = {
        "dtype": {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.precision, torch.float32)
    }
    if quantize:
        on_gpu = torch.cuda.is_available() and cfg.device != "cpu"
        compute = torch.bfloat16 if (on_gpu and cfg.precision == "bf16") else torch.float32
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
        kwargs["device_map"] = {"": _local_device(cfg)}
    try:
        return AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as exc:
        raise _offline_error(source, exc) from None


def _local_device(cfg: TrainConfig) -> Any:
    import os

    import torch

    if torch.cuda.is_available() and cfg.device in ("auto", "cuda"):
        return int(os.environ.get("LOCAL_RANK", "0"))
    return "cpu"


def build_model(cfg: TrainConfig, vocab: list[str]) -> tuple[Any, Any, Codec, dict[str, Any]]:
    """(model, tokenizer, codec, info) for ``cfg``; ``cfg.init_from`` starts from an earlier checkpoint."""
    if cfg.method == "scratch":
        return _build_scratch(cfg, vocab)
    init = Path(cfg.init_from) if cfg.init_from else None
    init_card = _read_card(init) if init else {}
    tokenizer = load_tokenizer(
        str(init) if init and (init / "tokenizer_config.json").is_file() else cfg.base_model
    )
    added = add_music_tokens(tokenizer, vocab) if cfg.vocab_mode == "added_tokens" else 0
    full_init = init is not None and init_card.get("method") in ("full", "scratch")
    model = load_base(str(init) if full_init else cfg.base_model, cfg, quantize=cfg.method == "qlora")
    if model.get_input_embeddings().weight.shape[0] < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer), mean_resizing=True)
    if cfg.method == "full":
        if cfg.gradient_checkpointing:
            model.gradient_checkpointing_enable()
        return model, tokenizer, Codec(tokenizer, cfg.vocab_mode), {"added_tokens": added}
    from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training

    if cfg.method == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    elif cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    if init is not None and not full_init:
        model = PeftModel.from_pretrained(model, str(init), is_trainable=True)
    else:
        lora = LoraConfig(
            r=cfg.lora_rank,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=_targets(model, cfg.lora_target_modules),
            task_type="CAUSAL_LM",
            modules_to_save=_embedding_modules(model) if cfg.vocab_mode == "added_tokens" else None,
        )
        model = get_peft_model(model, lora)
    return model, tokenizer, Codec(tokenizer, cfg.vocab_mode), {"added_tokens": added}


def _targets(model: Any, wanted: list[str]) -> list[str]:
    """The LoRA target names that exist in ``model``; none found -> which linear layers there are."""
    import torch

    names = {
        n.rsplit(".", 1)[-1]
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) or type(m).__name__ in ("Linear4bit", "Conv1D")
    }
    found = [w for w in wanted if w in names]
    if not found:
        raise StudioError(
            f"lora_target_modules {wanted} match no layer of this model; its linear layers are "
            f"{', '.join(sorted(names - {'lm_head'}))}"
        )
    return found


def _embedding_modules(model: Any) -> list[str]:
    """Input embedding and output head names, trained in full so the new music tokens learn."""
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings()
    out = []
    for name, module in model.named_modules():
        if module is emb or module is head:
            out.append(name.rsplit(".", 1)[-1])
    return out


def _build_scratch(cfg: TrainConfig, vocab: list[str]):
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    if cfg.init_from:
        tokenizer = PreTrainedTokenizerFast.from_pretrained(cfg.init_from)
        model = AutoModelForCausalLM.from_pretrained(cfg.init_from)
    else:
        tokenizer = scratch_tokenizer(vocab)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=cfg.scratch_hidden,
            intermediate_size=cfg.scratch_intermediate,
            num_hidden_layers=cfg.scratch_layers,
            num_attention_heads=cfg.scratch_heads,
            num_key_value_heads=cfg.scratch_heads,
            max_position_embeddings=max(cfg.max_seq_len, 64),
            tie_word_embeddings=True,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        model = LlamaForCausalLM(config)
        musical_embeddings(model, tokenizer, cfg.seed)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    return model, tokenizer, Codec(tokenizer, "scratch"), {"vocab_size": len(tokenizer)}


def write_card(folder: Path, cfg: TrainConfig, codec: Codec, **extra: Any) -> None:
    """studio_checkpoint.json: what generation needs to load and decode this checkpoint."""
    card = {
        "method": cfg.method,
        "backend": cfg.backend,
        "base_model": cfg.base_model,
        "vocab_mode": codec.mode,
        "dataset": cfg.dataset,
        "init_from": cfg.init_from,
        **extra,
    }
    (Path(folder) / CARD).write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")


def _read_card(folder: Path | None) -> dict[str, Any]:
    path = Path(folder or "") / CARD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_checkpoint(folder: str | Path, device: str = "cpu") -> tuple[Any, Any, Codec]:
    """(model, tokenizer, codec) from any checkpoint a torch run wrote (adapter or full weights)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(folder)
    card = _read_card(folder)
    if not card:
        raise StudioError(f"{folder} is not a studio checkpoint (no {CARD})")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if card["method"] in ("full", "scratch"):
        model = AutoModelForCausalLM.from_pretrained(str(folder))
    else:
        from peft import PeftModel

        try:
            base = AutoModelForCausalLM.from_pretrained(card["base_model"])
        except OSError as exc:
            raise _offline_error(card["base_model"], exc) from None
        if base.get_input_embeddings().weight.shape[0] != len(tokenizer):
            base.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        model = PeftModel.from_pretrained(base, str(folder))
    model.to(device).eval()
    return model, tokenizer, Codec(tokenizer, card["vocab_mode"])
