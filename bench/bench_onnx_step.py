"""Per-token decoding cost of the ONNX decoder vs torch (prints JSON; not a test).

A scratch_small-sized Llama with random weights (vocab 2233, hidden 320, MLP 1280, 8 layers, 8 heads,
512 positions, tied embeddings). Per backend: milliseconds per single-token step (batch 1) with 50, 150,
300 and 450 tokens already cached (the median step of a round, best of the rounds; the rounds go through
the backends in turn). Backends: torch; the float, int8 and 4-bit graphs; the last two also with the
cache in int8 (``_kv8``, calibrated on a sampled decode). Per graph: its node count as written and after
onnxruntime's own fusions; for the quantised ones, mean KL and top-1 agreement with the float graph over
a greedy decode of 256 tokens.

    python bench/bench_onnx_step.py [--threads 1] [--steps 40] [--repeats 8]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CACHED = (50, 150, 300, 450)


def scratch_small():
    """The random scratch_small-sized model."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=2233, hidden_size=320, intermediate_size=1280, num_hidden_layers=8,
                         num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=512,
                         tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def ms_per_step(stepper, cached: int, steps: int) -> float:
    """Median milliseconds of ``steps`` single-token steps after ``cached`` tokens."""
    rng = np.random.default_rng(cached)
    stepper.prefill(rng.integers(0, 2233, (1, cached)))
    times = []
    for token in rng.integers(0, 2233, (steps, 1, 1)):
        t0 = time.perf_counter()
        stepper.step(token)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def best_per_step(steppers: dict, steps: int, repeats: int) -> dict[str, dict[str, float]]:
    """Per stepper and cache length, the best of ``repeats`` rounds of ``ms_per_step``; the rounds go
    through every stepper in turn, so a busy spell on a shared machine does not favour one of them."""
    rounds: dict[str, dict[int, list[float]]] = {kind: {n: [] for n in CACHED} for kind in steppers}
    for _ in range(repeats):
        for kind, stepper in steppers.items():
            for n in CACHED:
                rounds[kind][n].append(ms_per_step(stepper, n, steps))
    return {kind: {str(n): round(min(times), 3) for n, times in by_n.items()}
            for kind, by_n in rounds.items()}


def node_counts(path: Path, threads: int) -> dict[str, int]:
    """Nodes in the file, and after onnxruntime's graph optimisations."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.optimized_model_filepath = str(path.with_suffix(".optimized.onnx"))
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    optimized = onnx.load(options.optimized_model_filepath, load_external_data=False)
    return {"file": len(onnx.load(str(path), load_external_data=False).graph.node),
            "optimized": len(optimized.graph.node)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from pipelines.generate.model.onnx_backend import OnnxDecoder, _agreement, _sampled_decode, _time_decode
    from pipelines.generate.model.onnx_export import (GRAPHS, QUANTIZED, cache_scales, export_onnx, int8_cache,
                                                      quantize_int4, quantize_int8)
    from pipelines.generate.model.sampling import TorchStepper

    model = scratch_small()
    folder = Path(tempfile.mkdtemp(prefix="bench_onnx_step_"))
    prompt = np.array([[1, 2]])
    graphs = {"float": export_onnx(model, folder / GRAPHS["float"])}
    calibration = OnnxDecoder(graphs["float"], model).stepper()
    _sampled_decode(calibration, prompt, 256)
    scales = cache_scales(calibration)
    for kind, quantize in (("int8", quantize_int8), ("int4", quantize_int4)):
        graphs[kind] = quantize(graphs["float"], folder / GRAPHS[kind])
        graphs[f"{kind}_kv8"] = int8_cache(graphs[kind], folder / GRAPHS[f"{kind}_kv8"], scales)
    steppers = {"torch": TorchStepper(model),
                **{kind: OnnxDecoder(path, model).stepper() for kind, path in graphs.items()}}
    per_step = best_per_step(steppers, args.steps, args.repeats)
    _, ids, reference = _time_decode(steppers["float"], prompt, 256)
    fidelity = {}
    for kind in QUANTIZED:
        kl, agree = _agreement(reference, _time_decode(steppers[kind], prompt, 256, ids)[2])
        fidelity[kind] = {"mean_kl_vs_float": round(kl, 6), "top1_agreement_vs_float": round(agree, 4)}
    print(json.dumps({"model": "scratch_small-sized, random weights", "threads": args.threads, "batch": 1,
                      "ms_per_step_at_cached_tokens": per_step,
                      "nodes": {kind: node_counts(path, args.threads) for kind, path in graphs.items()},
                      "fidelity": fidelity, "load_average": os.getloadavg()[0]}, indent=2))


if __name__ == "__main__":
    main()
