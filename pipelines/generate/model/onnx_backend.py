"""The exported decoder at work: an onnxruntime ``Stepper`` and the choice of backend.

The KV cache lives in buffers of capacity C that ``OnnxStepper`` owns and binds (IO binding) as both
the past input and the present output of each layer, so attention writes the new keys and values in
place and nothing that grows with the piece is copied per step; the buffers double when they fill
(capped at the model's positions). GroupQueryAttention takes several new ids over a non-empty cache
only for batch 1, so the stepper feeds such a step one id at a time when the batch is larger.

``choose_backend`` exports once per checkpoint into ``<workspace>/.cache/onnx/``, times torch and every
graph on the same greedy decode, keeps a quantised graph only when its next-token distributions stay
within ``QUANTIZED_MAX_KL`` of the float graph's, and records the fastest faithful backend; generation
uses onnxruntime only when it won (``decision.json`` keeps the figures, and the graph's shape, so a
later process decodes from the cached graph without loading torch or the weights). An adapter on a
scratch base is exported merged into a copy of its base, under a folder named by both their weights.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ...common.files import atomic_write_json
from ...common.paths import workspace_dir
from .onnx_export import (GRAPH_VERSION, GRAPHS, QUANTIZED, cache_names, cache_scales, export_onnx, graph_shape,
                          int8_cache, quantize_int4, quantize_int8)

if TYPE_CHECKING:
    from .loading import LoadedModel

log = logging.getLogger(__name__)
QUANTIZED_MAX_KL = 0.02    # mean KL (nats) of next-token distributions, float vs quantised, to accept one


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
        for name, buffer in zip(cache_names(layers), fresh):
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
    """A loaded ONNX decoder; ``stepper()`` gives a fresh cache per call.

    Args:
        shape: ``graph_shape`` of the exported model (as decision.json keeps it), or the model itself.
    """

    def __init__(self, path: Path, shape) -> None:
        import onnxruntime as ort

        shape = shape if isinstance(shape, dict) else graph_shape(shape)
        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = decode_threads()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dims = (shape["layers"], shape["kv_heads"], shape["head_dim"])
        self.positions, self.vocab = shape["positions"], shape["vocab"]

    def stepper(self) -> OnnxStepper:
        return OnnxStepper(self.session, *self.dims, self.positions, self.vocab)


def decode_threads() -> int:
    """Threads onnxruntime decodes with: torch's setting when torch is loaded (so both backends are
    timed alike), else OMP_NUM_THREADS, else 0 (onnxruntime's default: one per physical core)."""
    if "torch" in sys.modules:
        return max(1, sys.modules["torch"].get_num_threads())
    text = os.environ.get("OMP_NUM_THREADS", "")
    return int(text) if text.isdigit() and int(text) > 0 else 0


def _folder_for(loaded: "LoadedModel") -> Path:
    """The cache folder of a checkpoint's graphs, named by its weights' files (an adapter's and its
    base's), so new weights make a new export."""
    folders = [loaded.path] + ([loaded.base_path] if loaded.base_path is not None else [])
    weights = [p for folder in folders for p in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))]
    stamp = "|".join(f"{p.resolve()}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in weights)
    digest = hashlib.sha1(f"{loaded.path.resolve()}|{stamp}".encode()).hexdigest()[:16]
    return workspace_dir() / ".cache" / "onnx" / digest


def choose_backend(loaded: "LoadedModel", trial_tokens: int = 256, force: bool = False,
                   report: Callable[[float, str], None] | None = None) -> dict:
    """Export (once), time torch and every graph on the same decode, and attach the fastest faithful
    graph when it beats torch (or when ``force``). ``report(fraction, message)`` hears of the export."""
    from .sampling import TorchStepper

    folder = _folder_for(loaded)
    decision_file = folder / "decision.json"
    decision = json.loads(decision_file.read_text(encoding="utf-8")) if decision_file.is_file() else {}
    if decision.get("graph_version") != GRAPH_VERSION or "shape" not in decision:
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
                         "graph_version": GRAPH_VERSION, "shape": graph_shape(loaded.model)})
        atomic_write_json(decision_file, decision)
        log.info("decoding backend for %s: %s", loaded.path, decision)
    if (force or decision["backend"] == "onnxruntime") and loaded.onnx is None:
        loaded.onnx = OnnxDecoder(folder / decision["graph"], decision["shape"])
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
