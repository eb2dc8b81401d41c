"""ONNX export of a scratch (Llama) model for decoding under onnxruntime, and its quantised copies.

``export_onnx`` builds the Llama forward node by node from the model's weights (no tracing), with
onnxruntime's fused CPU operators (domain ``com.microsoft``) and no shape arithmetic, 10 to 13 nodes a
layer (and an Add after each projection that has a bias)::

    Gather(embed, input_ids)
    per layer: [Skip]SimplifiedLayerNormalization (RMSNorm; the skip form adds the residual)
               -> MatMul (q, k and v in one) [-> Split -> RotaryEmbedding on q and on k]
               -> GroupQueryAttention ([rotary,] cache update, causal attention) -> MatMul (o)
               -> SkipSimplifiedLayerNormalization -> MatMul (gate and up in one) -> Split
               -> QuickGelu (alpha 1: SiLU) -> Mul (by up) -> MatMul (down)
    SkipSimplifiedLayerNormalization -> Gather (last position only) -> MatMul (lm head)

    inputs:  input_ids (B, m), seqlens_k (B,) = T + m - 1, total_sequence_length () = T + m,
             [position_ids (1,) = T,] past_key_i, past_value_i (B, KV, C, D) for each layer i
    outputs: logits (B, V) after the last id, present_key_i, present_value_i (the same buffers)

T ids are cached, m are new, C is the capacity of the cache buffers the caller binds as both past and
present (``.onnx_backend.OnnxStepper``). q and k are rotated with the model's own cos and sin
(``model.model.rotary_emb``, scaling rules included) in the rotate-half layout: inside
GroupQueryAttention when the head size is a multiple of 16 (its kernel's condition), otherwise by
RotaryEmbedding nodes from ``position_ids`` (padding heads to 16k would read more cache per token than
the three extra nodes cost). The MLP is SiLU-gated, as every Llama's is.

Quantised copies of the float graph: ``quantize_int8`` (MatMul weights per output channel, activations
at run time), ``quantize_int4`` (``MatMulNBits``: 4-bit weights in blocks of ``INT4_BLOCK``, int8
activations) and ``int8_cache`` on either (the cache in int8 with per-channel scales calibrated on a
sampled decode by ``cache_scales``: a quarter of the bytes that attention reads per cached token).
``.onnx_backend`` times them and keeps the fastest faithful one.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .onnx_backend import OnnxStepper

OPSET = 17
IR_VERSION = 8             # what opset 17 needs; onnx writes newer ones than onnxruntime reads
GRAPH_VERSION = 3          # bump when the graph changes: cached exports of older versions are redone
INT4_BLOCK = 32            # weights per 4-bit block (one scale each) along a MatMul's input dimension
KV_HEADROOM = 2.0          # int8 cache range over the largest key or value seen while calibrating
QUANTIZED = ("int8", "int4", "int8_kv8", "int4_kv8")   # weights int8 or 4-bit; _kv8: the cache in int8 too
GRAPHS = {"float": "decoder.onnx", **{kind: f"decoder_{kind}.onnx" for kind in QUANTIZED}}
WEIGHTS = {"float": "float weights", "int8": "int8 weights", "int4": "4-bit weights"}


def describe(graph: str) -> str:
    """``decoder_int4_kv8.onnx`` -> ``4-bit weights, int8 cache`` (what the metrics panel shows)."""
    kind = next(k for k, name in GRAPHS.items() if name == Path(graph).name)
    return WEIGHTS[kind.removesuffix("_kv8")] + (", int8 cache" if kind.endswith("_kv8") else "")


class _Graph:
    """The nodes and initializers of a graph being built."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.weights: list = []

    def weight(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str] | int = 1, domain: str = "", **attrs
             ) -> list[str]:
        """Add ``op``; returns its output names: ``outputs`` itself, or that many fresh ones."""
        from onnx import helper

        index = len(self.nodes)
        names = outputs if isinstance(outputs, list) else [f"{op}_{index}_{k}" for k in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, names, name=f"{op}_{index}", domain=domain, **attrs))
        return names

    def linear(self, x: str, parts: list[tuple[np.ndarray, np.ndarray | None]], name: str) -> str:
        """x @ W for the (weight (out, in), bias) parts side by side (one MatMul), plus any biases."""
        (y,) = self.node("MatMul", [x, self.weight(name, np.concatenate([w for w, _ in parts]).T)])
        if all(b is None for _, b in parts):
            return y
        bias = np.concatenate([b if b is not None else np.zeros(len(w), np.float32) for w, b in parts])
        return self.node("Add", [y, self.weight(f"{name}.bias", bias)])[0]

    def norm(self, branch: str, residual: str | None, rms, name: str) -> tuple[str, str]:
        """RMSNorm of ``residual + branch``: (normalised, the new residual stream)."""
        scale = self.weight(name, rms.weight.detach().float().numpy())
        eps = float(rms.variance_epsilon)
        if residual is None:
            return self.node("SimplifiedLayerNormalization", [branch, scale], axis=-1, epsilon=eps)[0], branch
        normed, _, _, total = self.node("SkipSimplifiedLayerNormalization", [branch, residual, scale], 4,
                                        domain="com.microsoft", epsilon=eps)
        return normed, total


def _head_dim(model) -> int:
    cfg = model.config
    return getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads


def cache_dims(model) -> tuple[int, int, int]:
    return model.config.num_hidden_layers, model.config.num_key_value_heads, _head_dim(model)


def model_positions(model) -> int:
    return int(getattr(model.config, "max_position_embeddings", 2048))


def graph_shape(model) -> dict[str, int]:
    """What a stepper must know of the exported model (kept in decision.json, so a cached graph decodes
    without the weights): layers, kv heads, head size, positions and output rows."""
    layers, kv_heads, dim = cache_dims(model)
    return {"layers": layers, "kv_heads": kv_heads, "head_dim": dim, "positions": model_positions(model),
            "vocab": int(model.get_output_embeddings().weight.shape[0])}


def _params(linear) -> tuple[np.ndarray, np.ndarray | None]:
    """(weight (out, in), bias or None) of a Linear as float32 arrays."""
    bias = None if linear.bias is None else linear.bias.detach().float().numpy()
    return linear.weight.detach().float().numpy(), bias


def rotary_table(model, positions: int) -> tuple[np.ndarray, np.ndarray]:
    """cos, sin (positions, D) of the model's rotary embedding (its own scaling rules included)."""
    import torch

    with torch.no_grad():
        probe = torch.zeros((1, positions, model.config.hidden_size))
        cos, sin = model.model.rotary_emb(probe, torch.arange(positions).unsqueeze(0))
    return cos[0].float().numpy(), sin[0].float().numpy()


def cache_names(layers: int) -> list[str]:
    return [f"{kind}_{i}" for i in range(layers) for kind in ("key", "value")]


def _attention(g: _Graph, h: str, index: int, attn, rotary: list[str], heads: tuple[int, int, int]) -> str:
    """q, k, v in one MatMul, rotated, attended over the layer's cache (written in place), then o;
    ``heads``: query heads, kv heads, head size."""
    heads, kv_heads, dim = heads
    qkv = g.linear(h, [_params(attn.q_proj), _params(attn.k_proj), _params(attn.v_proj)], f"qkv_{index}")
    cache = [f"past_key_{index}", f"past_value_{index}", "seqlens_k", "total_sequence_length"]
    outputs = [f"attention_{index}", f"present_key_{index}", f"present_value_{index}"]
    gqa = {"domain": "com.microsoft", "num_heads": heads, "kv_num_heads": kv_heads,
           "scale": float(attn.scaling)}
    if dim % 16 == 0:   # GroupQueryAttention rotates q and k itself (its kernel wants heads of 16k)
        o = g.node("GroupQueryAttention", [qkv, "", "", *cache, *rotary], outputs, do_rotary=1,
                   rotary_interleaved=0, **gqa)[0]
    else:
        sizes = g.weight(f"qkv_sizes_{index}", np.array([heads * dim, kv_heads * dim, kv_heads * dim]))
        q, k, v = g.node("Split", [qkv, sizes], 3, axis=-1)
        q, k = (g.node("RotaryEmbedding", [x, "position_ids", *rotary], domain="com.microsoft", num_heads=n,
                       rotary_embedding_dim=dim, interleaved=0)[0] for x, n in ((q, heads), (k, kv_heads)))
        o = g.node("GroupQueryAttention", [q, k, v, *cache], outputs, **gqa)[0]
    return g.linear(o, [_params(attn.o_proj)], f"o_{index}")


def export_onnx(model, path: Path) -> Path:
    """Write the decoder graph of a Llama ``model`` to ``path`` (dynamic batch, new ids and capacity)."""
    import onnx
    from onnx import TensorProto, helper

    cfg, core = model.config, model.model
    if cfg.hidden_act != "silu":
        raise ValueError(f"the ONNX decoder computes SiLU MLPs, not {cfg.hidden_act}")
    layers, kv_heads, dim = cache_dims(model)
    cos, sin = rotary_table(model, model_positions(model))
    half = dim // 2
    if not (np.array_equal(cos[:, :half], cos[:, half:]) and np.array_equal(sin[:, :half], sin[:, half:])):
        raise ValueError("the model's rotary embedding is not in the rotate-half layout")
    g = _Graph()
    rotary = [g.weight("cos_cache", cos[:, :half]), g.weight("sin_cache", sin[:, :half])]
    embed = g.weight("embed", core.embed_tokens.weight.detach().float().numpy())
    (branch,) = g.node("Gather", [embed, "input_ids"])
    residual = None
    for i, layer in enumerate(core.layers):
        h, residual = g.norm(branch, residual, layer.input_layernorm, f"input_norm_{i}")
        attended = _attention(g, h, i, layer.self_attn, rotary, (cfg.num_attention_heads, kv_heads, dim))
        h, residual = g.norm(attended, residual, layer.post_attention_layernorm, f"post_norm_{i}")
        mlp = layer.mlp
        gate_up = g.linear(h, [_params(mlp.gate_proj), _params(mlp.up_proj)], f"gate_up_{i}")
        gate, up = g.node("Split", [gate_up], 2, axis=-1)
        (act,) = g.node("QuickGelu", [gate], domain="com.microsoft", alpha=1.0)
        branch = g.linear(g.node("Mul", [act, up])[0], [_params(mlp.down_proj)], f"down_{i}")
    h, _ = g.norm(branch, residual, core.norm, "final_norm")
    (last,) = g.node("Gather", [h, g.weight("last", np.array(-1, dtype=np.int64))], axis=1)
    head = g.weight("lm_head", model.lm_head.weight.detach().t().float().numpy())
    g.node("MatMul", [last, head], ["logits"])
    tensor, cache = helper.make_tensor_value_info, ["batch", kv_heads, "capacity", dim]
    inputs = [tensor("input_ids", TensorProto.INT64, ["batch", "new"]),
              tensor("seqlens_k", TensorProto.INT32, ["batch"]),
              tensor("total_sequence_length", TensorProto.INT32, []),
              *(tensor(f"past_{n}", TensorProto.FLOAT, cache) for n in cache_names(layers))]
    if dim % 16:
        inputs.append(tensor("position_ids", TensorProto.INT64, [1]))
    outputs = [tensor("logits", TensorProto.FLOAT, ["batch", cfg.vocab_size]),
               *(tensor(f"present_{n}", TensorProto.FLOAT, cache) for n in cache_names(layers))]
    graph = helper.make_graph(g.nodes, "llama_decoder", inputs, outputs, g.weights)
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)]
    proto = helper.make_model(graph, ir_version=IR_VERSION, opset_imports=opsets)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))
    return path


def quantize_int8(source: Path, target: Path) -> Path:
    """An int8 copy of the graph: MatMul weights per output channel, activations quantised at run time."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"], extra_options={"DefaultTensorType": TensorProto.FLOAT})
    return target


def quantize_int4(source: Path, target: Path) -> Path:
    """A 4-bit copy of the graph: each MatMul becomes ``MatMulNBits`` (symmetric blocks of ``INT4_BLOCK``
    weights along the input dimension, one float scale each; activations computed in int8), written by
    onnxruntime's own ``MatMulNBitsQuantizer``."""
    import logging

    import onnx

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    root.handlers[:] = handlers   # its import calls logging.basicConfig(level=INFO): undone
    root.setLevel(level)
    logging.getLogger(MatMulNBitsQuantizer.__module__).setLevel(logging.WARNING)  # a line per MatMul
    quantizer = MatMulNBitsQuantizer(onnx.load(str(source)), bits=4, block_size=INT4_BLOCK, is_symmetric=True,
                                     accuracy_level=4, op_types_to_quantize=("MatMul",))
    quantizer.process()
    onnx.save(quantizer.model.model, str(target))
    return target


def cache_scales(stepper: "OnnxStepper", headroom: float = KV_HEADROOM) -> list[np.ndarray]:
    """Int8 scales (1, KV, 1, D) for each cache buffer of a float graph's ``stepper`` after a decode:
    the largest magnitude per channel times ``headroom`` over 127. Keys take the largest length of each
    rotary pair (the rotation only turns it), so every position is covered."""
    scales = []
    for index, buffer in enumerate(stepper.buffers):
        seen = np.abs(buffer[:, :, :stepper.filled])
        if index % 2 == 0:
            half = seen.shape[-1] // 2
            pair = np.hypot(seen[..., :half], seen[..., half:])
            seen = np.concatenate([pair, pair], axis=-1)
        largest = seen.max(axis=(0, 2), keepdims=True)
        scales.append((np.maximum(largest, 1e-6) * headroom / 127).astype(np.float32))
    return scales


def int8_cache(source: Path, target: Path, scales: list[np.ndarray]) -> Path:
    """A copy of the graph whose cache holds int8 (``scales`` per channel, from ``cache_scales``):
    GroupQueryAttention quantises the new keys and values and attends over the int8 cache directly,
    a quarter of the bytes per cached token."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    proto = onnx.load(str(source))
    for node in proto.graph.node:
        if node.op_type != "GroupQueryAttention":
            continue
        layer = int(node.output[1].rsplit("_", 1)[1])
        names = [f"k_scale_{layer}", f"v_scale_{layer}"]
        proto.graph.initializer.extend(numpy_helper.from_array(scales[2 * layer + k], name)
                                       for k, name in enumerate(names))
        node.input.extend([""] * (12 - len(node.input)) + names)   # k_scale and v_scale are inputs 12 and 13
        node.attribute.extend([helper.make_attribute("k_quant_type", "PER_CHANNEL"),
                               helper.make_attribute("v_quant_type", "PER_CHANNEL"),
                               helper.make_attribute("kv_cache_bit_width", 8)])
    for value in [*proto.graph.input, *proto.graph.output]:
        if value.name.startswith(("past_", "present_")):
            value.type.tensor_type.elem_type = TensorProto.INT8
    onnx.save(proto, str(target))
    return target


