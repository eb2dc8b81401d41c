"""What a checkpoint folder says about itself, read as plain JSON: its words, special ids and shape.

Generation needs a model's word -> id map (to bind the event language), its begin and pad ids, and
its shape (positions, output rows); all of it is in ``tokenizer.json``, ``tokenizer_config.json``
and ``config.json``. Reading them here rather than through transformers keeps a take that decodes
through an exported graph free of torch and transformers (a cold start of about a second instead
of several). A tokenizer shipped only as a sentencepiece model (no ``tokenizer.json``) is read by
transformers' ``AutoTokenizer``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TokenizerFile:
    """A tokenizer's vocabulary and special ids (the fields generation reads of a HF tokenizer)."""

    words: dict[str, int]        # every token -> id: the model's vocabulary and the added tokens
    added: dict[str, int]        # the added tokens alone (an LLM's music words live here)
    bos_token_id: int | None
    pad_token_id: int | None

    def __len__(self) -> int:
        return len(self.words)


def read_tokenizer(folder: Path) -> TokenizerFile:
    """The tokenizer of a checkpoint folder (``tokenizer.json``; else through transformers)."""
    folder = Path(folder)
    if not (folder / "tokenizer.json").is_file():
        return _auto_tokenizer(folder)
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = data.get("model", {}).get("vocab") or {}
    words = dict(vocab) if isinstance(vocab, dict) else {entry[0]: i for i, entry in enumerate(vocab)}
    added = {token["content"]: int(token["id"]) for token in data.get("added_tokens") or []}
    words.update(added)
    special = _special_tokens(folder)
    bos, pad = special.get("bos_token"), special.get("pad_token")
    return TokenizerFile(words, added, words.get(bos) if bos else None, words.get(pad) if pad else None)


def _special_tokens(folder: Path) -> dict[str, str]:
    """bos/pad/... token strings from tokenizer_config.json, else special_tokens_map.json."""
    out: dict[str, str] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):   # the config wins
        path = folder / name
        if path.is_file():
            for key, value in json.loads(path.read_text(encoding="utf-8")).items():
                if key.endswith("_token"):
                    out[key] = value.get("content") if isinstance(value, dict) else value
    return out


def _auto_tokenizer(folder: Path) -> TokenizerFile:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return TokenizerFile(tokenizer.get_vocab(), tokenizer.get_added_vocab(), tokenizer.bos_token_id,
                         tokenizer.pad_token_id)


def read_config(folder: Path) -> dict[str, Any]:
    """``config.json`` of a Hugging Face model folder ({} when there is none)."""
    path = Path(folder) / "config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
