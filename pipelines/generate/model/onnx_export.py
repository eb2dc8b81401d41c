"""ONNX export of a scratch (Llama) model and an onnxruntime ``Stepper``, kept only where it is faster.

The exported graph is the Llama forward with the KV cache as plain tensors::

    (input_ids (B, m), past_k (L, B, H, T, D), past_v) -> (logits (B, V) after the last id, k, v (L, B, H, T+m, D))

so the decoding loop drives it exactly like the torch model. ``choose_backend`` exports once per
checkpoint into ``<workspace>/.cache/onnx/``, times the same decode with both backends and records
the faster; generation then uses onnxruntime only when it won (``decision.json`` keeps the figures).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...common.files import atomic_write_json
from ...common.paths import workspace_dir

if TYPE_CHECKING:
    from .loading import LoadedModel

log = logging.getLogger(__name__)
OPSET = 17


def _decoder_module(model):
    """The Llama forward over explicit KV tensors (a torch module that the exporter can trace)."""
    import torch

    class Decoder(torch.nn.Module):
        def __init__(self, hf) -> None:
            super().__init__()
            self.core, self.head, cfg = hf.model, hf.lm_head, hf.config
            self.heads, self.kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
            self.dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads

        def forward(self, input_ids, past_k, past_v):
            batch, new = input_ids.shape
            past = past_k.shape[3]
            positions = (torch.arange(new, dtype=torch.long) + past).unsqueeze(0).expand(batch, new)
            x = self.core.embed_tokens(input_ids)
            cos, sin = self.core.rotary_emb(x, positions)
            cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
            keys = torch.arange(new + past).unsqueeze(0)
            queries = (torch.arange(new) + past).unsqueeze(1)
            mask = torch.zeros(queries.shape[0], keys.shape[1]).masked_fill(keys > queries, float("-inf"))
            out_k, out_v = [], []
            for index, layer in enumerate(self.core.layers):
                attn, h = layer.self_attn, layer.input_layernorm(x)
                q = attn.q_proj(h).view(batch, new, self.heads, self.dim).transpose(1, 2)
                k = attn.k_proj(h).view(batch, new, self.kv_heads, self.dim).transpose(1, 2)
                v = attn.v_proj(h).view(batch, new, self.kv_heads, self.dim).transpose(1, 2)
                q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
                k, v = torch.cat([past_k[index], k], dim=2), torch.cat([past_v[index], v], dim=2)
                out_k.append(k)
                out_v.append(v)
                groups = self.heads // self.kv_heads
                kk = k.repeat_interleave(groups, dim=1) if groups > 1 else k
                vv = v.repeat_interleave(groups, dim=1) if groups > 1 else v
                scores = q @ kk.transpose(-1, -2) / (self.dim ** 0.5) + mask
                o = (torch.softmax(scores, dim=-1) @ vv).transpose(1, 2).reshape(batch, new, self.heads * self.dim)
                x = x + attn.o_proj(o)
                x = x + layer.mlp(layer.post_attention_layernorm(x))
            logits = self.head(self.core.norm(x[:, -1, :]))
            return logits, torch.stack(out_k), torch.stack(out_v)

    return Decoder(model).eval()


def _rotate_half(x):
    import torch

    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def _cache_dims(model) -> tuple[int, int, int]:
    cfg = model.config
    dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return cfg.num_hidden_layers, cfg.num_key_value_heads, dim


def export_onnx(model, path: Path) -> Path:
    """Write the decoder graph of a Llama ``model`` to ``path`` (dynamic batch, new and past lengths)."""
    import torch

    layers, kv_heads, dim = _cache_dims(model)
    ids = torch.zeros((1, 3), dtype=torch.long)
    past = torch.zeros((layers, 1, kv_heads, 2, dim))
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(_decoder_module(model), (ids, past, past.clone()), str(path), dynamo=False,
                          input_names=["input_ids", "past_k", "past_v"], output_names=["logits", "k", "v"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "new"}, "past_k": {1: "batch", 3: "past"},
                                        "past_v": {1: "batch", 3: "past"}, "k": {1: "batch", 3: "total"},
                                        "v": {1: "batch", 3: "total"}}, opset_version=OPSET)
    return path


class OnnxStepper:
    """The exported graph under onnxruntime, with the KV cache as numpy arrays."""

    def __init__(self, session, layers: int, kv_heads: int, dim: int) -> None:
        self.session, self.shape = session, (layers, kv_heads, dim)
        self.k = self.v = None

    def prefill(self, ids: np.ndarray) -> np.ndarray:
        layers, kv_heads, dim = self.shape
        empty = np.zeros((layers, ids.shape[0], kv_heads, 0, dim), dtype=np.float32)
        self.k, self.v = empty, empty.copy()
        return self.step(ids)

    def step(self, ids: np.ndarray) -> np.ndarray:
        logits, self.k, self.v = self.session.run(None, {"input_ids": ids.astype(np.int64), "past_k": self.k,
                                                         "past_v": self.v})
        return logits


class OnnxDecoder:
    """A loaded ONNX decoder; ``stepper()`` gives a fresh cache per call."""

    def __init__(self, path: Path, model) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if _torch_threads() <= 1 else _torch_threads()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dims = _cache_dims(model)

    def stepper(self) -> OnnxStepper:
        return OnnxStepper(self.session, *self.dims)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _folder_for(checkpoint: Path) -> Path:
    weights = sorted(checkpoint.glob("*.safetensors")) + sorted(checkpoint.glob("*.bin"))
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in weights)
    digest = hashlib.sha1(f"{checkpoint.resolve()}|{stamp}".encode()).hexdigest()[:16]
    return workspace_dir() / ".cache" / "onnx" / digest


def choose_backend(loaded: "LoadedModel", trial_tokens: int = 96, force: bool = False) -> dict:
    """Export (once), time torch and onnxruntime on the same decode, attach ONNX when it is faster
    (or when ``force``)."""
    from .sampling import TorchStepper

    folder = _folder_for(loaded.path)
    decision_file = folder / "decision.json"
    if decision_file.is_file():
        decision = json.loads(decision_file.read_text(encoding="utf-8"))
    else:
        path = export_onnx(loaded.model, folder / "decoder.onnx")
        onnx = OnnxDecoder(path, loaded.model)
        prompt = np.array([[loaded.bos_id or 0] + [loaded.space.id("BAR_START")]], dtype=np.int64)
        torch_s = _time_decode(TorchStepper(loaded.model), prompt, trial_tokens)
        onnx_s = _time_decode(onnx.stepper(), prompt, trial_tokens)
        decision = {"torch_s": round(torch_s, 4), "onnxruntime_s": round(onnx_s, 4), "tokens": trial_tokens,
                    "backend": "onnxruntime" if onnx_s < torch_s else "torch"}
        atomic_write_json(decision_file, decision)
        log.info("decoding backend for %s: %s", loaded.path, decision)
    if (force or decision["backend"] == "onnxruntime") and loaded.onnx is None:
        loaded.onnx = OnnxDecoder(folder / "decoder.onnx", loaded.model)
    return decision


def _time_decode(stepper, prompt: np.ndarray, tokens: int) -> float:
    """Seconds for ``tokens`` single-token steps (greedy), best of two."""
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        logits = stepper.prefill(prompt)
        for _ in range(tokens):
            logits = stepper.step(np.argmax(logits, axis=-1)[:, None])
        best = min(best, time.perf_counter() - t0)
    return best
