"""Tiny real models for the generate tests: a 2-layer Llama on the studio vocabulary, saved as a checkpoint.

Imported by tests/test_generate_model_*.py (no tests here). The folder is what ``pipelines.train``
writes for a scratch run: Hugging Face weights, the word-level tokenizer and ``studio_checkpoint.json``.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

# chord symbols of every family, slash chords and N.C., for random charts
SYMBOLS = ["Cmaj7", "Am7", "D7", "Dm7", "G7", "C6/9", "Ebmaj9", "F#m7b5", "B7alt", "Bb13", "Abmaj7#11", "E7#9",
           "Gsus4", "C/E", "Fm6", "Db7b9", "A7b13", "N.C.", "C7b9#11", "Gm(maj7)", "F9sus4", "Eb/G", "Bdim7",
           "C7#9/Bb"]


def random_chart(rng: random.Random, bars: int) -> str:
    """A chart of ``bars`` bars, one to three chords a bar drawn from SYMBOLS."""
    return "| " + " | ".join(" ".join(rng.choice(SYMBOLS) for _ in range(rng.choice([1, 1, 2, 3])))
                             for _ in range(bars)) + " |"


def write_tiny_checkpoint(folder: Path, hidden: int = 32, layers: int = 2, context: int = 1024, seed: int = 0,
                          styles: tuple[str, ...] = (), dataset: str = "", heads: int = 4,
                          intermediate: int | None = None) -> Path:
    """A random-weight scratch checkpoint on the full studio vocabulary."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from pipelines.data.vocab import Vocabulary
    from pipelines.train.data import scratch_tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = scratch_tokenizer(Vocabulary(styles=styles).tokens)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate or hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=context, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    card = {"method": "scratch", "backend": "torch", "base_model": "", "vocab_mode": "scratch",
            "dataset": dataset, "init_from": ""}
    (folder / "studio_checkpoint.json").write_text(json.dumps(card), encoding="utf-8")
    return folder
