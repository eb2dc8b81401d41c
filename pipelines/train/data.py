"""A tokenized dataset as training sees it, and the codecs that turn event tokens into model ids.

Contract with pipelines/data: ``datasets/<name>/tokens/{train,valid,test}.jsonl`` lines hold
``{"text": "STYLE_gospel TEMPO_90 ... NOTE_60 DUR_4 ...", "ids": [...], "style", "source"}``;
``datasets/<name>/tokenizer.json`` holds the vocabulary in id order; ``mlx/{train,valid}.jsonl``
hold ``{"text"}``. Three codecs put events in front of a model:

- ``added_tokens``: every event word becomes one new token of the LM's tokenizer (short sequences,
  new embedding rows that must be trained);
- ``text``: events are spelled as plain text by the LM's own tokenizer (no new rows, several tokens
  per event);
- ``scratch``: a word-level tokenizer over the dataset vocabulary for a model trained from nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.errors import StudioError
from ..common.paths import workspace_dir

SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")


def dataset_dir(name: str) -> Path:
    """``datasets/<name>`` with its token splits; a missing one names what exists."""
    root = workspace_dir() / "datasets"
    if not name:
        raise StudioError(
            "no dataset chosen: set dataset to one of "
            + (
                ", ".join(list_datasets())
                or "(none yet: tokenize one in the Data tab or with python -m pipelines.data tokenize)"
            )
        )
    path = root / name
    if not (path / "tokens" / "train.jsonl").is_file():
        known = ", ".join(list_datasets()) or "none yet; tokenize one in the Data tab"
        raise StudioError(f"dataset {name!r} has no tokens yet; tokenize it in the Data tab first",
                          local_detail=f"no tokens/train.jsonl under {root}; datasets: {known}")
    return path


def list_datasets() -> list[str]:
    root = workspace_dir() / "datasets"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "tokens" / "train.jsonl").is_file())


def read_split(name: str, split: str) -> list[dict[str, Any]]:
    """The records of one split (``train``, ``valid`` or ``test``); a missing split is empty."""
    path = dataset_dir(name) / "tokens" / f"{split}.jsonl"
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise StudioError(f"{path} line {number} is not JSON") from None
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise StudioError(f'{path} line {number} has no "text" of event tokens')
        rows.append(row)
    return rows


def read_vocab(name: str) -> list[str]:
    """The dataset's event vocabulary in id order (from tokenizer.json, else from the texts)."""
    path = dataset_dir(name) / "tokenizer.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        vocab = data.get("vocab", data) if isinstance(data, dict) else data
        if isinstance(vocab, dict):
            return [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
        if isinstance(vocab, list) and all(isinstance(t, str) for t in vocab):
            return list(vocab)
        raise StudioError(
            f"{path} holds no vocabulary (expected a list or a token->id mapping under 'vocab')"
        )
    words: dict[str, None] = {}
    for split in ("train", "valid", "test"):
        for row in read_split(name, split):
            words.update(dict.fromkeys(row["text"].split()))
    return list(words)


@dataclass
class Codec:
    """Events <-> model ids for one vocab mode, around a Hugging Face tokenizer."""

    tokenizer: Any
    mode: str  # added_tokens | text | scratch

    def encode(self, text: str) -> list[int]:
        """Event text -> ids with BOS first and EOS last."""
        tok = self.tokenizer
        if self.mode == "text":
            ids = tok(text, add_special_tokens=False)["input_ids"]
        else:
            ids = tok.convert_tokens_to_ids(text.split())
        head = [tok.bos_token_id] if tok.bos_token_id is not None else []
        tail = [tok.eos_token_id] if tok.eos_token_id is not None else []
        return head + list(ids) + tail

    def events(self, ids: list[int]) -> list[str]:
        """Model ids -> event words (special and non-event tokens dropped)."""
        tok = self.tokenizer
        special = set(tok.all_special_ids)
        ids = [i for i in ids if i not in special]
        if self.mode == "text":
            return tok.decode(ids, skip_special_tokens=True).split()
        return [t for t in tok.convert_ids_to_tokens(ids) if t]


def scratch_tokenizer(vocab: list[str]):
    """A word-level fast tokenizer over ``vocab`` (ids 0-3: <pad> <s> </s> <unk>), saved with the model."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = list(SPECIALS) + [w for w in vocab if w not in SPECIALS]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def add_music_tokens(tokenizer: Any, vocab: list[str]) -> int:
    """Add every event word missing from ``tokenizer`` as one whole token; returns how many were added."""
    from tokenizers import AddedToken

    existing = tokenizer.get_vocab()
    new = [AddedToken(w, single_word=True, normalized=False) for w in vocab if w not in existing]
    return tokenizer.add_tokens(new) if new else 0


def windows(ids: list[int], max_len: int) -> list[list[int]]:
    """Cut a long sequence into windows of at most ``max_len`` tokens (no overlap; the tail kept if ≥ 8)."""
    if len(ids) <= max_len:
        return [ids]
    out = [ids[i : i + max_len] for i in range(0, len(ids), max_len)]
    return [w for w in out if len(w) >= min(8, max_len)]


def encode_split(codec: Codec, rows: list[dict[str, Any]], max_len: int, limit: int = 0) -> list[list[int]]:
    """Encode and window a split; ``limit`` > 0 keeps the first that many windows."""
    out: list[list[int]] = []
    for row in rows:
        out.extend(windows(codec.encode(row["text"]), max_len))
        if limit and len(out) >= limit:
            return out[:limit]
    return out


def sequence_length_report(rows: list[dict[str, Any]], lm_tokenizer: Any | None) -> dict[str, Any]:
    """The dataset check: mean/max tokens per sequence for each vocab mode (the cost of each choice)."""
    events = [len(r["text"].split()) for r in rows]
    report: dict[str, Any] = {
        "sequences": len(rows),
        "events_mean": _mean(events),
        "events_max": max(events, default=0),
        "added_tokens_mean": _mean(events) + 2,
    }
    if lm_tokenizer is not None:
        spelled = [len(lm_tokenizer(r["text"], add_special_tokens=False)["input_ids"]) + 2 for r in rows]
        report.update(
            text_mean=_mean(spelled),
            text_max=max(spelled, default=0),
            text_cost_x=round(_mean(spelled) / max(1.0, _mean(events) + 2), 2),
        )
    return report


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0
