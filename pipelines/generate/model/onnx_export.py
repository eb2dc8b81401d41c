"""ONNX export of a scratch (Llama) model and an onnxruntime ``Stepper``, kept only where it is faster.

The exported graph is the Llama forward for decoding, shaped so that one step copies nothing that
grows with the piece::

    (input_ids (B, m), cos, sin (m, D), mask (m, C + m), past_k_i, past_v_i (B, H, C, D) for each layer i)
        -> (logits (B, V) after the last id, k_i, v_i (B, H, m, D) of the new ids only)

The cache lives in buffers of capacity C that the stepper owns: the graph reads them (masked past the
``T`` filled positions, causal among the new ids), returns only the new keys and values, and the
stepper writes those into place. (A graph that concatenates and returns the whole cache copies it
three times a step: at 400 tokens that was half the step.) q, k and v are one matrix product, as are
the MLP's gate and up projections. ``choose_backend`` exports once per checkpoint into
``<workspace>/.cache/onnx/``, also makes an int8 copy (weights quantised per output channel,
activations at run time), times torch and both graphs on the same decode, checks that the int8 graph's
next-token distributions stay within ``INT8_MAX_KL`` of the float model's, and records the fastest
faithful backend; generation uses onnxruntime only when it won (``decision.json`` keeps the figures).
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
GRAPH_VERSION = 2          # bump when the graph's inputs change: cached exports of older versions are redone
INT8_MAX_KL = 0.02         # mean KL (nats) of next-token distributions, float vs int8, to accept int8
MASKED = np.float32(-1e9)


def _decoder_module(model):
    """The Llama forward over caller-owned KV buffers (a torch module that the exporter can trace)."""
    import torch

    class Decoder(torch.nn.Module):
        def __init__(self, hf) -> None:
            super().__init__()
            self.core, self.head, cfg = hf.model, hf.lm_head, hf.config
            self.heads, self.kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
            self.dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
            self.qkv = torch.nn.ModuleList(_fused([l.self_attn.q_proj, l.self_attn.k_proj, l.self_attn.v_proj])
                                           for l in self.core.layers)
            self.gate_up = torch.nn.ModuleList(_fused([l.mlp.gate_proj, l.mlp.up_proj]) for l in self.core.layers)

        def forward(self, input_ids, cos, sin, mask, *past):
            batch, new = input_ids.shape
            capacity = past[0].shape[2]
            q_size, kv_size = self.heads * self.dim, self.kv_heads * self.dim
            x = self.core.embed_tokens(input_ids)
            cos, sin = cos.unsqueeze(0).unsqueeze(0), sin.unsqueeze(0).unsqueeze(0)
            outputs = []
            for index, layer in enumerate(self.core.layers):
                attn, h = layer.self_attn, layer.input_layernorm(x)
                q, k, v = self.qkv[index](h).split([q_size, kv_size, kv_size], dim=-1)
                q = q.view(batch, new, self.heads, self.dim).transpose(1, 2)
                k = k.view(batch, new, self.kv_heads, self.dim).transpose(1, 2)
                v = v.view(batch, new, self.kv_heads, self.dim).transpose(1, 2)
                q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
                outputs += [k, v]
                past_k, past_v = past[2 * index], past[2 * index + 1]
                groups = self.heads // self.kv_heads
                if groups > 1:
                    past_k, past_v = past_k.repeat_interleave(groups, 1), past_v.repeat_interleave(groups, 1)
                    k, v = k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1)
                scores = torch.cat([q @ past_k.transpose(-1, -2), q @ k.transpose(-1, -2)], dim=-1)
                weights = torch.softmax(scores * (self.dim ** -0.5) + mask, dim=-1)
                o = weights[..., :capacity] @ past_v + weights[..., capacity:] @ v
                x = x + attn.o_proj(o.transpose(1, 2).reshape(batch, new, q_size))
                gate, up = self.gate_up[index](layer.post_attention_layernorm(x)).chunk(2, dim=-1)
                x = x + layer.mlp.down_proj(layer.mlp.act_fn(gate) * up)
            logits = self.head(self.core.norm(x[:, -1, :]))
            return (logits, *outputs)

    return Decoder(model).eval()


def _fused(linears):
    """One Linear computing several (same input) Linears side by side."""
    import torch

    bias = all(l.bias is not None for l in linears)
    fused = torch.nn.Linear(linears[0].in_features, sum(l.out_features for l in linears), bias=bias)
    with torch.no_grad():
        fused.weight.copy_(torch.cat([l.weight for l in linears]))
        if bias:
            fused.bias.copy_(torch.cat([l.bias for l in linears]))
    return fused


def _rotate_half(x):
    import torch

    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def _cache_dims(model) -> tuple[int, int, int]:
    cfg = model.config
    dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return cfg.num_hidden_layers, cfg.num_key_value_heads, dim


def rotary_table(model, positions: int) -> tuple[np.ndarray, np.ndarray]:
    """cos, sin (positions, D) of the model's rotary embedding (its own scaling rules included)."""
    import torch

    with torch.no_grad():
        probe = torch.zeros((1, positions, model.config.hidden_size))
        cos, sin = model.model.rotary_emb(probe, torch.arange(positions).unsqueeze(0))
    return cos[0].float().numpy(), sin[0].float().numpy()


def export_onnx(model, path: Path) -> Path:
    """Write the decoder graph of a Llama ``model`` to ``path`` (dynamic batch, new ids and capacity)."""
    import torch

    layers, kv_heads, dim = _cache_dims(model)
    new, capacity = 3, 4
    ids = torch.zeros((1, new), dtype=torch.long)
    rot = torch.zeros((new, dim))
    mask = torch.zeros((new, capacity + new))
    past = [torch.zeros((1, kv_heads, capacity, dim)) for _ in range(2 * layers)]
    names = [f"past_{kind}_{i}" for i in range(layers) for kind in "kv"]
    outs = [f"{kind}_{i}" for i in range(layers) for kind in "kv"]
    axes = {"input_ids": {0: "batch", 1: "new"}, "cos": {0: "new"}, "sin": {0: "new"}, "mask": {0: "new", 1: "span"},
            **{n: {0: "batch", 2: "capacity"} for n in names}, **{n: {0: "batch", 2: "new"} for n in outs}}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(_decoder_module(model), (ids, rot, rot.clone(), mask, *past), str(path), dynamo=False,
                          input_names=["input_ids", "cos", "sin", "mask", *names],
                          output_names=["logits", *outs], dynamic_axes=axes, opset_version=OPSET)
    return path


def quantize_int8(source: Path, target: Path) -> Path:
    """An int8 copy of the graph: MatMul weights per output channel, activations quantised at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gemm"])
    return target


class OnnxStepper:
    """The exported graph under onnxruntime; the KV cache in buffers that grow by doubling."""

    def __init__(self, session, layers: int, kv_heads: int, dim: int, cos: np.ndarray, sin: np.ndarray) -> None:
        self.session, self.shape, self.cos, self.sin = session, (layers, kv_heads, dim), cos, sin
        self.buffers: list[np.ndarray] = []
        self.filled = 0

    def _reserve(self, batch: int, needed: int) -> None:
        capacity = self.buffers[0].shape[2] if self.buffers else 0
        if needed <= capacity:
            return
        layers, kv_heads, dim = self.shape
        grown = max(64, 2 * capacity, needed)
        fresh = [np.zeros((batch, kv_heads, grown, dim), dtype=np.float32) for _ in range(2 * layers)]
        for old, new in zip(self.buffers, fresh):
            new[:, :, :self.filled] = old[:, :, :self.filled]
        self.buffers = fresh

    def prefill(self, ids: np.ndarray) -> np.ndarray:
        self.buffers, self.filled = [], 0
        return self.step(ids)

    def step(self, ids: np.ndarray) -> np.ndarray:
        batch, new = ids.shape
        start, end = self.filled, self.filled + new
        if end > len(self.cos):
            raise ValueError(f"the sequence outgrows the model's {len(self.cos)} positions")
        self._reserve(batch, end)
        capacity = self.buffers[0].shape[2]
        mask = np.full((new, capacity + new), MASKED, dtype=np.float32)
        mask[:, :start] = 0.0
        mask[:, capacity:] = np.triu(np.full((new, new), MASKED, dtype=np.float32), 1)
        feed = {"input_ids": ids.astype(np.int64, copy=False), "cos": self.cos[start:end], "sin": self.sin[start:end],
                "mask": mask}
        feed.update(zip(self.session_inputs, self.buffers))
        logits, *fresh = self.session.run(None, feed)
        for buffer, values in zip(self.buffers, fresh):
            buffer[:, :, start:end] = values
        self.filled = end
        return logits

    @property
    def session_inputs(self) -> list[str]:
        layers = self.shape[0]
        return [f"past_{kind}_{i}" for i in range(layers) for kind in "kv"]


class OnnxDecoder:
    """A loaded ONNX decoder; ``stepper()`` gives a fresh cache per call."""

    def __init__(self, path: Path, model) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if _torch_threads() <= 1 else _torch_threads()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dims = _cache_dims(model)
        self.cos, self.sin = rotary_table(model, int(getattr(model.config, "max_position_embeddings", 2048)))

    def stepper(self) -> OnnxStepper:
        return OnnxStepper(self.session, *self.dims, self.cos, self.sin)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _folder_for(checkpoint: Path) -> Path:
    weights = sorted(checkpoint.glob("*.safetensors")) + sorted(checkpoint.glob("*.bin"))
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in weights)
    digest = hashlib.sha1(f"{checkpoint.resolve()}|{stamp}".encode()).hexdigest()[:16]
    return workspace_dir() / ".cache" / "onnx" / digest


def choose_backend(loaded: "LoadedModel", trial_tokens: int = 256, force: bool = False) -> dict:
    """Export (once), time torch and the float and int8 graphs on the same decode, and attach the
    fastest faithful graph when it beats torch (or when ``force``)."""
    from .sampling import TorchStepper

    folder = _folder_for(loaded.path)
    decision_file = folder / "decision.json"
    decision = json.loads(decision_file.read_text(encoding="utf-8")) if decision_file.is_file() else {}
    if decision.get("graph_version") != GRAPH_VERSION:
        trial_tokens = min(trial_tokens, loaded.context_tokens - 2)
        fp32 = OnnxDecoder(export_onnx(loaded.model, folder / "decoder.onnx"), loaded.model)
        int8 = OnnxDecoder(quantize_int8(folder / "decoder.onnx", folder / "decoder_int8.onnx"), loaded.model)
        prompt = np.array([[loaded.bos_id or 0] + [loaded.space.id("BAR_START")]], dtype=np.int64)
        fp32_s, ids, reference = _time_decode(fp32.stepper(), prompt, trial_tokens)
        int8_s, _, approx = _time_decode(int8.stepper(), prompt, trial_tokens, ids)
        torch_s, _, _ = _time_decode(TorchStepper(loaded.model), prompt, trial_tokens, ids)
        kl, agree = _agreement(reference, approx)
        faithful = kl <= INT8_MAX_KL
        graph, onnx_s = ("decoder_int8.onnx", int8_s) if faithful and int8_s < fp32_s else ("decoder.onnx", fp32_s)
        decision = {"torch_s": round(torch_s, 4), "onnxruntime_s": round(fp32_s, 4),
                    "onnxruntime_int8_s": round(int8_s, 4), "int8_mean_kl": round(kl, 5),
                    "int8_top1_agreement": round(agree, 4), "int8_max_kl": INT8_MAX_KL, "tokens": trial_tokens,
                    "graph": graph, "backend": "onnxruntime" if onnx_s < torch_s else "torch",
                    "graph_version": GRAPH_VERSION}
        atomic_write_json(decision_file, decision)
        log.info("decoding backend for %s: %s", loaded.path, decision)
    if (force or decision["backend"] == "onnxruntime") and loaded.onnx is None:
        loaded.onnx = OnnxDecoder(folder / decision["graph"], loaded.model)
    return decision


def _time_decode(stepper, prompt: np.ndarray, tokens: int, ids: np.ndarray | None = None
                 ) -> tuple[float, np.ndarray, np.ndarray]:
    """Seconds for ``tokens`` single-token steps (best of two), the ids fed (greedy unless ``ids``
    are given) and the logits after each."""
    best, fed, seen = float("inf"), [], []
    for _ in range(2):
        fed, seen = [], []
        t0 = time.perf_counter()
        logits = stepper.prefill(prompt)
        for index in range(tokens):
            seen.append(logits)
            token = ids[:, index:index + 1] if ids is not None else np.argmax(logits, axis=-1)[:, None]
            fed.append(token)
            logits = stepper.step(token)
        best = min(best, time.perf_counter() - t0)
    return best, np.concatenate(fed, axis=1), np.stack(seen)


def _agreement(reference: np.ndarray, approx: np.ndarray) -> tuple[float, float]:
    """Mean KL(reference || approx) of the next-token distributions, and how often their argmax agrees."""
    def log_softmax(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64) - x.max(axis=-1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))

    ref, app = log_softmax(reference), log_softmax(approx)
    kl = float((np.exp(ref) * (ref - app)).sum(axis=-1).mean())
    return kl, float((reference.argmax(-1) == approx.argmax(-1)).mean())
