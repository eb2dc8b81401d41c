"""Trained models for generation: which exist, what a ``--model`` names, and one cache of loaded ones.

A model is a checkpoint folder written by ``pipelines.train`` (``studio_checkpoint.json`` beside
the Hugging Face weights or a peft adapter), shipped in ``checkpoints/`` or made by a run in
``runs/<id>/checkpoints/<step-N|best>``. ``--model`` accepts ``default`` (``checkpoints/default``),
``checkpoints/<name>``, ``runs/<id>/<checkpoint>``, or a folder path; an adapter's base comes from
its card (or ``adapter_config.json``) unless one is given. ``ModelCache`` keys bases by (path, device)
and reads only a checkpoint's JSON files up front; weights load when a take first needs torch. An
adapter on a scratch base decodes merged into a copy of it (the base itself stays untouched, so it
keeps its own exported graph); adapters on an LLM base attach to it by name through peft.
"""
from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ...common.errors import StudioError
from ...common.paths import REPO_ROOT, checkpoints_dir, workspace_dir
from .checkpoint_files import TokenizerFile, read_config, read_tokenizer
from .events import EventSpace, event_space

log = logging.getLogger(__name__)
CARD = "studio_checkpoint.json"
MAX_CONTEXT_TOKENS = 4096   # an LLM's window is far longer than anything it saw in music training
_KIND_PREFIXES = ("STYLE_", "TEMPO_", "TIMESIG_", "KEY_", "POS_", "CHORD_", "PEDAL_", "NOTE_", "DUR_",
                  "VEL_", "SONG_", "BAR_")
_LABEL_RE = re.compile(r"^([A-Z][A-Z0-9]*)_([A-Za-z0-9][A-Za-z0-9_\-]{0,31})$")


def _is_model_folder(path: Path) -> bool:
    return path.is_dir() and ((path / CARD).is_file() or (path / "adapter_config.json").is_file()
                              or (path / "config.json").is_file())


def list_models() -> list[tuple[str, str]]:
    """(label, value) for the model dropdown: rules, default, shipped checkpoints, the workspace's
    exported models (``models/<name>``, what the Train tab's Export writes), run checkpoints."""
    out = [("rules (rule-based engines)", "rules")]
    shipped = checkpoints_dir()
    if _is_model_folder(shipped / "default"):
        out.append(("default (checkpoints/default)", "default"))
    if shipped.is_dir():
        for path in sorted(p for p in shipped.iterdir() if p.name != "default" and _is_model_folder(p)):
            kind = "adapter" if (path / "adapter_config.json").is_file() else "model"
            out.append((f"{path.name} (shipped {kind})", f"checkpoints/{path.name}"))
    exported = workspace_dir() / "models"
    if exported.is_dir():
        out += [(f"{p.name} (exported)", f"models/{p.name}") for p in sorted(exported.iterdir()) if _is_model_folder(p)]
    runs = workspace_dir() / "runs"
    if runs.is_dir():
        for run in sorted((p for p in runs.iterdir() if (p / "checkpoints").is_dir()), reverse=True):
            for ckpt in sorted(p for p in (run / "checkpoints").iterdir() if _is_model_folder(p)):
                out.append((f"{run.name} · {ckpt.name}", f"runs/{run.name}/{ckpt.name}"))
    return out


def resolve_model(name: str) -> Path:
    """The checkpoint folder ``name`` refers to; a sentence naming what exists when there is none."""
    text = str(name).strip()
    if text == "default":
        path = checkpoints_dir() / "default"
        if not _is_model_folder(path):
            raise StudioError("no default model is shipped in checkpoints/default; pick rules or a trained "
                              "checkpoint")
        return path
    candidates = [Path(text)]
    if text.startswith("checkpoints/"):
        candidates.insert(0, checkpoints_dir() / text[len("checkpoints/"):])
    if text.startswith("runs/") and text.count("/") == 2:
        _, run, ckpt = text.split("/")
        candidates.insert(0, workspace_dir() / "runs" / run / "checkpoints" / ckpt)
    candidates += [workspace_dir() / text, REPO_ROOT / text]
    for path in candidates:
        if _is_model_folder(path):
            return path.resolve()
    known = ", ".join(v for _, v in list_models())
    raise StudioError(f"model must be one of {known}, or a checkpoint folder (got {text!r})")


def read_card(folder: Path) -> dict[str, Any]:
    """What the trainer recorded about a checkpoint (method, base_model, vocab_mode, dataset ...)."""
    card: dict[str, Any] = {}
    if (folder / CARD).is_file():
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    adapter = folder / "adapter_config.json"
    if adapter.is_file():
        card.setdefault("method", "lora")
        card["adapter_base"] = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path", "")
    card.setdefault("method", "full")
    card.setdefault("vocab_mode", "scratch" if card["method"] == "scratch" else "added_tokens")
    return card


def model_style(model: str) -> str | None:
    """The style a model plays by itself: an adapter's (its card's ``style``, else its dataset when that
    names a style the model knows), a full model's recorded ``style``; None for rules and for models
    that play every style they know (the Style control then decides)."""
    if str(model).strip() == "rules":
        return None
    folder = resolve_model(model)
    return recorded_style(folder, read_card(folder), read_tokenizer(folder).words)


def recorded_style(folder: Path, card: dict[str, Any], words: dict[str, int]) -> str | None:
    """``model_style`` of a checkpoint already read: its card's style, an adapter's dataset, or None."""
    style = card.get("style") or (card.get("dataset") if (folder / "adapter_config.json").is_file() else None)
    return str(style) if style and f"STYLE_{style}" in words else None


def adapter_base(folder: Path, card: dict[str, Any], base: str = "") -> Path:
    """The local base model folder of an adapter (the one given, else the recorded one): a path, a
    folder of that name beside the adapter (a staged build's ``models/default``), a shipped model."""
    recorded = base or card.get("base_model") or card.get("adapter_base") or ""
    for candidate in (Path(recorded), folder.parent / recorded, checkpoints_dir() / recorded, REPO_ROOT / recorded):
        if recorded and _is_model_folder(candidate):
            return candidate.resolve()
    raise StudioError(f"the adapter {folder.name} was trained on the base model {recorded or '(none recorded)'!r}, "
                      f"which is not a model folder on this machine: copy that model's folder to "
                      f"checkpoints/{Path(recorded).name or '<name>'} or name its folder with --base")


@dataclass
class LoadedModel:
    """A model ready to decode: its words, event space and card. The weights load on first use of
    ``model`` (an adapter: merged into a copy of its base), so a take decoded by an exported graph
    never imports torch."""

    source: "_Base"                  # holds (or will load) the weights
    tokenizer: TokenizerFile
    space: EventSpace
    card: dict[str, Any]
    path: Path
    context_tokens: int
    config: dict[str, Any]           # config.json of the weights (the base's, for an adapter)
    adapter: str | None = None       # this adapter's name on its base; None: the base itself
    base_path: Path | None = None    # an adapter's base folder
    merged: bool = False             # an adapter decoded merged into a copy of its (scratch) base
    exportable: bool = False         # a Llama on the CPU that onnxruntime may decode (see .onnx_backend)
    onnx: Any = None                 # an OnnxDecoder when the exported graph decodes faster
    corpus: Any = None               # (profile, NoveltyIndex) of the training corpus, once read

    @property
    def model(self):
        """The torch model (loaded, and an adapter merged or attached, on first use)."""
        return self.source.model_for(self)

    def activate(self) -> None:
        """Make this model's adapter the active one where several share one base through peft."""
        self.source.activate(self)

    @property
    def bos_id(self) -> int | None:
        return self.tokenizer.bos_token_id

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return int(pad if pad is not None else self.space.id("SONG_END"))


class _Base:
    """One base model's weights (loaded on first use) and the adapters on it: merged copies for a
    scratch base, adapters attached by name through peft for an LLM base."""

    def __init__(self, path: Path, device: str) -> None:
        self.path, self.device = path, device
        self.weights: Any = None
        self.adapters: dict[str, LoadedModel] = {}
        self.plain: LoadedModel | None = None
        self.merged_models: dict[str, Any] = {}
        self.attached: set[str] = set()

    def base_weights(self):
        if self.weights is None:
            self.weights = _load_weights(self.path, self.device)
        return self.weights

    def model_for(self, loaded: LoadedModel):
        if loaded.adapter is None:
            return self.base_weights()   # the PeftModel once LLM adapters joined (activate turns them off)
        if loaded.merged:
            if loaded.adapter not in self.merged_models:
                self.merged_models[loaded.adapter] = _merged_adapter(self.base_weights(), loaded.path,
                                                                     len(loaded.tokenizer))
            return self.merged_models[loaded.adapter]
        if loaded.adapter not in self.attached:
            self.weights = _attach_adapter(self.base_weights(), loaded.path, loaded.adapter, len(loaded.tokenizer))
            self.attached.add(loaded.adapter)
        return self.weights

    def activate(self, loaded: LoadedModel) -> None:
        if loaded.merged or not hasattr(self.weights, "peft_config"):
            return   # merged copies and an untouched base need no switching
        if loaded.adapter is not None:
            self.model_for(loaded)
        tuner = self.weights.base_model
        if loaded.adapter is None:
            tuner.disable_adapter_layers()
        else:
            tuner.enable_adapter_layers()
            self.weights.set_adapter(loaded.adapter)


class ModelCache:
    """Bases keyed by (path, device), least recently used dropped beyond ``size``; an adapter joins
    its base's entry, so its base is read from disk once."""

    def __init__(self, size: int = 2) -> None:
        self.size, self._bases = size, OrderedDict()

    def get(self, model: str, base: str = "", device: str = "cpu") -> LoadedModel:
        folder = resolve_model(model)
        card = read_card(folder)
        if card["vocab_mode"] == "text":
            raise StudioError(f"{folder.name} spells the event words as plain text (vocab_mode text); constrained "
                              "generation needs one token per event word: train with vocab_mode added_tokens")
        is_adapter = (folder / "adapter_config.json").is_file()
        base_path = adapter_base(folder, card, base) if is_adapter else folder
        key = (str(base_path), device)
        entry = self._bases.get(key)
        if entry is None:
            entry = self._bases[key] = _Base(base_path, device)
            while len(self._bases) > self.size:
                self._bases.popitem(last=False)
        self._bases.move_to_end(key)
        if not is_adapter:
            if entry.plain is None:
                entry.plain = _bind(entry, folder, card, None, device)
            return entry.plain
        if str(folder) not in entry.adapters:  # a new adapter joins the base under its own name
            entry.adapters[str(folder)] = _bind(entry, folder, card, f"adapter{len(entry.adapters)}", device)
        return entry.adapters[str(folder)]

    def clear(self) -> None:
        self._bases.clear()


@functools.cache
def model_cache() -> ModelCache:
    """The process's one model cache."""
    return ModelCache()


_IN_USE = threading.Lock()


@contextmanager
def models_in_use(report: Callable[[float, str], None] | None = None) -> Iterator[None]:
    """Trained models load, export and decode one take at a time: adapters switch on a shared base,
    an export writes shared files, and two decodes on two cores would only halve each other's speed."""
    if not _IN_USE.acquire(blocking=False):
        if report is not None:
            report(0.03, "waiting for the take being generated to finish")
        _IN_USE.acquire()
    try:
        yield
    finally:
        _IN_USE.release()


def _load_weights(folder: Path, device: str):
    import torch
    from transformers import AutoModelForCausalLM

    if device == "cuda" and not torch.cuda.is_available() or device == "mps" and not torch.backends.mps.is_available():
        raise StudioError(f"device {device} is not available on this machine; pick cpu")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise StudioError(f"{folder} holds no loadable model ({type(exc).__name__}: {str(exc)[:160]})") from None
    return model.to(device).eval()


def _merged_adapter(base, folder: Path, rows: int):
    """A copy of ``base`` with the adapter in ``folder`` merged into its weights (the base untouched)."""
    import copy

    from peft import PeftModel

    model = copy.deepcopy(base)
    if model.get_input_embeddings().weight.shape[0] != rows:
        model.resize_token_embeddings(rows, mean_resizing=False)
    return PeftModel.from_pretrained(model, str(folder)).merge_and_unload().eval()


def _attach_adapter(model, folder: Path, name: str, rows: int):
    from peft import PeftModel

    base = model.get_base_model() if isinstance(model, PeftModel) else model
    if base.get_input_embeddings().weight.shape[0] != rows:
        if isinstance(model, PeftModel):
            raise StudioError(f"adapter {folder.name} has {rows} tokens but the adapters already on this base have "
                              f"{base.get_input_embeddings().weight.shape[0]}; load it on its own base")
        base.resize_token_embeddings(rows, mean_resizing=False)
    if isinstance(model, PeftModel):
        model.load_adapter(str(folder), adapter_name=name)
        return model
    return PeftModel.from_pretrained(model, str(folder), adapter_name=name).eval()


def studio_lineage(folder: Path, depth: int = 0) -> bool:
    """True for a model the studio built itself: trained from scratch, or fully fine-tuned from such
    a model (its card's base_model is that folder, or empty where a shipped card dropped the path of
    the machine that built it). A full fine-tune of a hub LLM names the LLM and is not one."""
    card = read_card(folder)
    if card["method"] == "scratch":
        return True
    if card["method"] != "full" or depth > 8:
        return False
    base = str(card.get("base_model") or "")
    return not base or (Path(base).is_dir() and studio_lineage(Path(base), depth + 1))


def _bind(source: _Base, folder: Path, card: dict[str, Any], adapter: str | None, device: str) -> LoadedModel:
    """Tokenizer + vocabulary + event space for one checkpoint, from its files (no weights read)."""
    tokenizer = read_tokenizer(folder)
    added = tokenizer.added  # an LLM's music words; a word-level tokenizer has them all in words
    vocab = vocabulary_for(added if any(w.startswith("STYLE_") for w in added) else tokenizer.words, folder.name)
    config = read_config(source.path)
    # an adapter's base is resized to the adapter's tokenizer; a model alone has its config's rows
    rows = len(tokenizer) if adapter is not None else int(config.get("vocab_size") or len(tokenizer))
    space = event_space(vocab, tokenizer.words, rows, folder.name)
    positions = config.get("max_position_embeddings") or MAX_CONTEXT_TOKENS
    trained = int(card.get("max_seq_len") or positions)
    # a studio Llama (trained from scratch, or fully fine-tuned from one) decodes through onnxruntime;
    # an adapter is merged into a copy of such a base first; an LLM base keeps peft's attach-by-name
    merged = adapter is not None and studio_lineage(source.path)
    exportable = device == "cpu" and config.get("model_type") == "llama" and \
        (studio_lineage(folder) if adapter is None else merged)
    return LoadedModel(source, tokenizer, space, card, folder, min(positions, trained, MAX_CONTEXT_TOKENS), config,
                       adapter, source.path if adapter is not None else None, merged, exportable)


def vocabulary_for(words: dict[str, int], source: str):
    """The studio Vocabulary whose styles and labels cover the model's event words."""
    from ...data.vocab import Vocabulary

    styles = [w[len("STYLE_"):] for w in words if w.startswith("STYLE_")]
    labels = []
    for word in words:
        match = _LABEL_RE.match(word)
        if match and not word.startswith(_KIND_PREFIXES):
            group, value = match.groups()
            labels.append(value if group == "LABEL" else f"{group.lower()}:{value}")
    try:
        return Vocabulary(styles=tuple(styles), labels=tuple(labels))
    except StudioError as exc:
        raise StudioError(f"{source} has event words the studio vocabulary cannot hold ({exc})") from None
