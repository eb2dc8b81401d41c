"""ONNX decoding of a scratch (Llama) model under onnxruntime, kept only where it is faster.

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

T ids are cached, m are new. The cache lives in buffers of capacity C that ``OnnxStepper`` owns and
binds (IO binding) as both the past input and the present output of each layer, so attention writes the
new keys and values in place and nothing that grows with the piece is copied per step; the buffers
double when they fill (capped at the model's positions). q and k are rotated with the model's own cos
and sin (``model.model.rotary_emb``, scaling rules included) in the rotate-half layout: inside
GroupQueryAttention when the head size is a multiple of 16 (its kernel's condition), otherwise by
RotaryEmbedding nodes from ``position_ids`` (padding heads to 16k would read more cache per token than
the three extra nodes cost). The MLP is SiLU-gated, as every Llama's is. GroupQueryAttention takes several new ids over a non-empty cache only for
batch 1, so the stepper feeds such a step one id at a time when the batch is larger.

Quantised copies of the float graph: ``quantize_int8`` (MatMul weights per output channel, activations
at run time), ``quantize_int4`` (``MatMulNBits``: 4-bit weights in blocks of ``INT4_BLOCK``, int8
activations) and ``int8_cache`` on either (the cache in int8 with per-channel scales calibrated on a
sampled decode by ``cache_scales``: a quarter of the bytes that attention reads per cached token).
``choose_backend`` exports once per checkpoint into ``<workspace>/.cache/onnx/``, times torch and every
graph on the same greedy decode, keeps a quantised graph only when its next-token distributions stay
within ``QUANTIZED_MAX_KL`` of the float graph's, and records the fastest faithful backend; generation
uses onnxruntime only when it won (``decision.json`` keeps the figures).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ...common.files import atomic_write_json
from ...common.paths import workspace_dir

if TYPE_CHECKING:
    from .loading import LoadedModel

log = logging.getLogger(__name__)
OPSET = 17
IR_VERSION = 8             # what opset 17 needs; onnx writes newer ones than onnxruntime reads
GRAPH_VERSION = 3          # bump when the graph changes: cached exports of older versions are redone
QUANTIZED_MAX_KL = 0.02    # mean KL (nats) of next-token distributions, float vs quantised, to accept one
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


def _cache_dims(model) -> tuple[int, int, int]:
    return model.config.num_hidden_layers, model.config.num_key_value_heads, _head_dim(model)


def _positions(model) -> int:
    return int(getattr(model.config, "max_position_embeddings", 2048))


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


def _cache_names(layers: int) -> list[str]:
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
    layers, kv_heads, dim = _cache_dims(model)
    cos, sin = rotary_table(model, _positions(model))
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
              *(tensor(f"past_{n}", TensorProto.FLOAT, cache) for n in _cache_names(layers))]
    if dim % 16:
        inputs.append(tensor("position_ids", TensorProto.INT64, [1]))
    outputs = [tensor("logits", TensorProto.FLOAT, ["batch", cfg.vocab_size]),
               *(tensor(f"present_{n}", TensorProto.FLOAT, cache) for n in _cache_names(layers))]
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
    weights along the input dimension, one float scale each; activations computed in int8)."""
    import onnx
    from onnx import helper, numpy_helper
    from onnxruntime.capi._pybind_state import quantize_matmul_4bits

    proto = onnx.load(str(source))
    weights = {w.name: w for w in proto.graph.initializer}
    nodes = []
    for node in proto.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(weights.pop(node.input[1])).astype(np.float32)
        rows, cols = weight.shape
        blocks = -(-rows // INT4_BLOCK)
        weight = np.pad(weight, ((0, blocks * INT4_BLOCK - rows), (0, 0)))
        packed = np.zeros((cols, blocks, INT4_BLOCK // 2), dtype=np.uint8)
        scales = np.zeros((cols, blocks), dtype=np.float32)
        quantize_matmul_4bits(packed, weight, scales, np.zeros((cols, -(-blocks // 2)), dtype=np.uint8),
                              INT4_BLOCK, cols, rows, True)
        name = node.input[1]
        weights[f"{name}.q4"] = numpy_helper.from_array(packed, f"{name}.q4")
        weights[f"{name}.scales"] = numpy_helper.from_array(scales, f"{name}.scales")
        nodes.append(helper.make_node("MatMulNBits", [node.input[0], f"{name}.q4", f"{name}.scales"],
                                      list(node.output), name=node.name, domain="com.microsoft", K=rows,
                                      N=cols, bits=4, block_size=INT4_BLOCK, accuracy_level=4))
    del proto.graph.node[:], proto.graph.initializer[:]
    proto.graph.node.extend(nodes)
    proto.graph.initializer.extend(weights.values())
    onnx.save(proto, str(target))
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


class OnnxStepper:
    """The graph under onnxruntime with everything but the new ids bound once (IO binding): the KV cache
    in buffers that are both past and present (doubling when they fill), the lengths and the logits in
    small arrays updated in place."""

    def __init__(self, session, layers: int, kv_heads: int, dim: int, positions: int, vocab: int) -> None:
        self.session, self.shape = session, (layers, kv_heads, dim)
        self.positions, self.vocab = positions, vocab
        names = {i.name: i.type for i in session.get_inputs()}
        self.rotates = "position_ids" in names
        self.dtype = np.int8 if names["past_key_0"] == "tensor(int8)" else np.float32
        self.binding = session.io_binding()
        self.buffers: list[np.ndarray] = []
        self.lengths: dict[str, np.ndarray] = {}
        self.logits = np.zeros((0, 0), dtype=np.float32)
        self.ids = np.zeros((0, 0), dtype=np.int64)
        self.filled = 0

    def _bind(self, name: str, array: np.ndarray, output: bool = False) -> None:
        import onnxruntime as ort

        value = ort.OrtValue.ortvalue_from_numpy(array)
        (self.binding.bind_ortvalue_output if output else self.binding.bind_ortvalue_input)(name, value)

    def _reserve(self, batch: int, needed: int) -> None:
        """Buffers for ``needed`` positions (the filled ones copied over) and, for a new batch size, the
        lengths and the logits, all bound to the session."""
        capacity = self.buffers[0].shape[2] if self.buffers else 0
        if needed <= capacity:
            return
        layers, kv_heads, dim = self.shape
        grown = min(self.positions, max(64, 2 * capacity, needed))
        fresh = [np.zeros((batch, kv_heads, grown, dim), dtype=self.dtype) for _ in range(2 * layers)]
        for old, new in zip(self.buffers, fresh):
            new[:, :, :self.filled] = old[:, :, :self.filled]
        self.buffers = fresh
        for name, buffer in zip(_cache_names(layers), fresh):
            self._bind(f"past_{name}", buffer)
            self._bind(f"present_{name}", buffer, output=True)
        if self.logits.shape[0] != batch:
            self.logits = np.zeros((batch, self.vocab), dtype=np.float32)
            self._bind("logits", self.logits, output=True)
            self.lengths = {"seqlens_k": np.zeros(batch, dtype=np.int32),
                            "total_sequence_length": np.zeros((), dtype=np.int32),
                            **({"position_ids": np.zeros(1, dtype=np.int64)} if self.rotates else {})}
            for name, array in self.lengths.items():
                self._bind(name, array)

    def prefill(self, ids: np.ndarray) -> np.ndarray:
        self.buffers, self.filled = [], 0
        return self.step(ids)

    def step(self, ids: np.ndarray) -> np.ndarray:
        batch, new = ids.shape
        if new > 1 and batch > 1 and self.filled:   # more than GroupQueryAttention takes in one run
            for column in range(new):
                logits = self._run(ids[:, column:column + 1])
            return logits
        return self._run(ids)

    def _run(self, ids: np.ndarray) -> np.ndarray:
        batch, new = ids.shape
        end = self.filled + new
        if end > self.positions:
            raise ValueError(f"the sequence outgrows the model's {self.positions} positions")
        self._reserve(batch, end)
        self.lengths["seqlens_k"][:] = end - 1
        self.lengths["total_sequence_length"][...] = end
        if self.rotates:
            self.lengths["position_ids"][0] = self.filled
        self.ids = np.ascontiguousarray(ids, dtype=np.int64)   # the binding reads it during the run
        self.binding.bind_cpu_input("input_ids", self.ids)
        self.session.run_with_iobinding(self.binding)
        self.filled = end
        return self.logits.copy()


class OnnxDecoder:
    """A loaded ONNX decoder; ``stepper()`` gives a fresh cache per call."""

    def __init__(self, path: Path, model) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if _torch_threads() <= 1 else _torch_threads()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dims, self.positions, self.vocab = _cache_dims(model), _positions(model), model.config.vocab_size

    def stepper(self) -> OnnxStepper:
        return OnnxStepper(self.session, *self.dims, self.positions, self.vocab)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _folder_for(checkpoint: Path) -> Path:
    weights = sorted(checkpoint.glob("*.safetensors")) + sorted(checkpoint.glob("*.bin"))
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in weights)
    digest = hashlib.sha1(f"{checkpoint.resolve()}|{stamp}".encode()).hexdigest()[:16]
    return workspace_dir() / ".cache" / "onnx" / digest


def choose_backend(loaded: "LoadedModel", trial_tokens: int = 256, force: bool = False,
                   report: Callable[[float, str], None] | None = None) -> dict:
    """Export (once), time torch and every graph on the same decode, and attach the fastest faithful
    graph when it beats torch (or when ``force``). ``report(fraction, message)`` hears of the export."""
    from .sampling import TorchStepper

    folder = _folder_for(loaded.path)
    decision_file = folder / "decision.json"
    decision = json.loads(decision_file.read_text(encoding="utf-8")) if decision_file.is_file() else {}
    if decision.get("graph_version") != GRAPH_VERSION:
        if report is not None:
            report(0.08, "exporting this checkpoint to onnxruntime and timing the decoders (once per checkpoint)")
        trial_tokens = min(trial_tokens, loaded.context_tokens - 2)
        prompt = np.array([[loaded.bos_id or 0] + [loaded.space.id("BAR_START")]], dtype=np.int64)

        def stepper(kind: str) -> OnnxStepper:
            return OnnxDecoder(folder / GRAPHS[kind], loaded.model).stepper()

        source = export_onnx(loaded.model, folder / GRAPHS["float"])
        calibration = stepper("float")
        _sampled_decode(calibration, prompt, trial_tokens)
        scales = cache_scales(calibration)
        for kind, quantize in (("int8", quantize_int8), ("int4", quantize_int4)):
            int8_cache(quantize(source, folder / GRAPHS[kind]), folder / GRAPHS[f"{kind}_kv8"], scales)
        seconds, ids, reference = _time_decode(stepper("float"), prompt, trial_tokens)
        torch_s, _, _ = _time_decode(TorchStepper(loaded.model), prompt, trial_tokens, ids)
        decision = {"torch_s": round(torch_s, 4), "onnxruntime_s": round(seconds, 4), "tokens": trial_tokens}
        graph, onnx_s = GRAPHS["float"], seconds
        for kind in QUANTIZED:
            seconds, _, approx = _time_decode(stepper(kind), prompt, trial_tokens, ids)
            kl, agree = _agreement(reference, approx)
            decision.update({f"onnxruntime_{kind}_s": round(seconds, 4), f"{kind}_mean_kl": round(kl, 5),
                             f"{kind}_top1_agreement": round(agree, 4), f"{kind}_max_kl": QUANTIZED_MAX_KL})
            if kl <= QUANTIZED_MAX_KL and seconds < onnx_s:
                graph, onnx_s = GRAPHS[kind], seconds
        decision.update({"graph": graph, "backend": "onnxruntime" if onnx_s < torch_s else "torch",
                         "graph_version": GRAPH_VERSION})
        atomic_write_json(decision_file, decision)
        log.info("decoding backend for %s: %s", loaded.path, decision)
    if (force or decision["backend"] == "onnxruntime") and loaded.onnx is None:
        loaded.onnx = OnnxDecoder(folder / decision["graph"], loaded.model)
    return decision


def _sampled_decode(stepper, prompt: np.ndarray, tokens: int, seed: int = 0) -> None:
    """Feed ``stepper`` ``tokens`` ids drawn from its own next-token distributions (temperature 1)."""
    rng = np.random.default_rng(seed)
    logits = stepper.prefill(prompt)
    for _ in range(tokens):
        probs = np.exp(_log_softmax(logits))
        logits = stepper.step(np.array([[rng.choice(len(row), p=row / row.sum())] for row in probs]))


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


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64) - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _agreement(reference: np.ndarray, approx: np.ndarray) -> tuple[float, float]:
    """Mean KL(reference || approx) of the next-token distributions, and how often their argmax agrees."""
    ref, app = _log_softmax(reference), _log_softmax(approx)
    kl = float((np.exp(ref) * (ref - app)).sum(axis=-1).mean())
    return kl, float((reference.argmax(-1) == approx.argmax(-1)).mean())
