"""Ship a trained checkpoint in ``checkpoints/<name>``: the model files, its training corpus's profile
(so the metrics panel and novelty work without the dataset) and a model card.

    python -m pipelines.generate ship runs/<run>/best --name default --dataset piano
"""
from __future__ import annotations

import json
import math
import shutil
from typing import Any, Sequence

from ...common.errors import StudioError
from ...common.files import atomic_write_json
from ...common.paths import checkpoints_dir
from .corpus_profile import PROFILE_FILE, build_profile, dataset_train_file

MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "adapter_config.json",
               "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
               "studio_checkpoint.json")


def ship_checkpoint(source: str, name: str, dataset: str, notes: str = "", base_name: str = "",
                    also_from: Sequence[str] = ()) -> dict[str, Any]:
    """Copy ``source`` (any --model form) to checkpoints/<name> with corpus_profile.json and README.md.

    Args:
        base_name: for an adapter, the shipped base it records (``default`` = checkpoints/default),
            so it loads on any machine.
        also_from: other datasets the model learned from (an adapter's base's corpora, a pass before
            the last): their bars join the novelty index, so a take copied from them counts as copied.
    """
    from .loading import model_cache, resolve_model

    folder = resolve_model(source)
    train_files = [dataset_train_file(d) for d in (dataset, *also_from)]
    for name_of, train_file in zip((dataset, *also_from), train_files):
        if train_file is None:
            raise StudioError(f"dataset {name_of!r} has no tokens/train.jsonl in this workspace; the shipped "
                              "model needs its training corpus to carry the corpus figures and the novelty index")
    dest = checkpoints_dir() / name
    dest.mkdir(parents=True, exist_ok=True)
    copied = [f for f in MODEL_FILES if (folder / f).is_file()]
    for file in copied:
        shutil.copy2(folder / file, dest / file)
    card = json.loads((dest / "studio_checkpoint.json").read_text(encoding="utf-8"))
    card["dataset"] = dataset  # the profile below stands in for it where the dataset is absent
    if also_from:
        card["also_trained_on"] = list(also_from)
    if base_name:
        card["base_model"] = base_name
    if (dest / "adapter_config.json").is_file():
        adapter = json.loads((dest / "adapter_config.json").read_text(encoding="utf-8"))
        card["lora_rank"] = adapter.get("r")
        if base_name:  # no path of the training machine in a shipped file
            atomic_write_json(dest / "adapter_config.json", {**adapter, "base_model_name_or_path": base_name})
    atomic_write_json(dest / "studio_checkpoint.json", card)
    loaded = model_cache().get(str(dest))
    profile = build_profile(train_files[0], loaded.space.vocab.decode, train_files[1:])
    profile["source"] = f"datasets/{dataset}/tokens/train.jsonl"
    if also_from:
        profile["also_from"] = [f"datasets/{d}/tokens/train.jsonl" for d in also_from]
    atomic_write_json(dest / PROFILE_FILE, profile)
    if len(profile["styles"]) == 1 and loaded.adapter is not None:  # the Style control follows this adapter
        card["style"] = next(iter(profile["styles"]))
        atomic_write_json(dest / "studio_checkpoint.json", card)
    params = sum(p.numel() for p in loaded.model.parameters())
    if loaded.adapter is not None:
        params = _adapter_parameters(dest / "adapter_model.safetensors")
    (dest / "README.md").write_text(_card_text(name, card, loaded.model.config, params, profile, notes),
                                    encoding="utf-8")
    for file in dest.iterdir():  # readable by the app in any container (temp files are private by default)
        file.chmod(0o644)
    return {"checkpoint": str(dest), "files": copied + [PROFILE_FILE, "README.md"], "parameters": params}


def _adapter_parameters(path) -> int:
    """How many numbers an adapter file holds (its LoRA matrices and any modules it saves whole)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as weights:
        return sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys())


def _card_text(name: str, card: dict, config, params: int, profile: dict, notes: str) -> str:
    metrics = "\n".join(f"| {k} | {v} |" for k, v in profile["metrics"].items())
    lora = card.get("method") in ("lora", "qlora")
    also = (f"\n  The novelty index also holds every bar of {', '.join(f'`{d}`' for d in card['also_trained_on'])}, "
            "which it learned from too." if card.get("also_trained_on") else "")
    what = (f"a LoRA adapter (rank {card.get('lora_rank', '?')}) on the base model `{card.get('base_model')}`" if lora
            else "a Llama-style decoder trained from scratch")
    return f"""# {name}: studio checkpoint

- **What**: {what}, on the studio event language
  (`STYLE_ TEMPO_ TIMESIG_ KEY_ BAR_START POS_ CHORD_ NOTE_ DUR_ VEL_ ...`), {params:,} {'adapter ' if lora else ''}parameters
  ({config.num_hidden_layers} layers x {config.hidden_size} hidden, {config.num_attention_heads} heads,
  context {config.max_position_embeddings} tokens).
- **Trained on**: dataset `{card.get('dataset')}`, {profile['sequences']} training sequences
  ({profile['source']}). Step {card.get('step', '?')}, eval loss {card.get('eval_loss', '?')}.{also}
- **Use**: `python -m pipelines.generate --chords "| Dm7 | G7 | Cmaj7 |" --style gospel --model {name}
  --out take.mid`, or pick it in the Generate tab. The chart's chords are forced into the sequence
  and the grammar constrains every token, so every take decodes to MIDI.
- **Files**: Hugging Face weights (safetensors) and word-level tokenizer, `studio_checkpoint.json`
  (how it was trained), `{PROFILE_FILE}` (mean metrics of the training corpus and the bar index for
  the novelty figures).

{notes}

## Training corpus, mean metrics

| metric | value |
|---|---|
{metrics}
"""
