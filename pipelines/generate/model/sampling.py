"""The batched sampling loop: N rows in lockstep over one KV cache, forced tokens fed in chunks.

Each step, every row that needs a choice samples from the ids its ``RowConstraint`` allows
(temperature, then top-k, then top-p over the allowed ids only), then takes every token that is
forced after it (``POS_0 CHORD_x`` after ``BAR_START`` ...). The model is fed the shortest run of
decided tokens across the rows, so a row with forced tokens costs one forward pass for several
tokens when the others allow it. A ``Stepper`` hides the backend: torch (any Hugging Face causal
LM) or onnxruntime (the exported scratch model, :mod:`.onnx_backend`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from .constrain import RowConstraint


class Stepper(Protocol):
    def prefill(self, ids: np.ndarray) -> np.ndarray:
        """(B, L) prompt ids -> (B, V) next-token logits; starts a fresh cache."""

    def step(self, ids: np.ndarray) -> np.ndarray:
        """(B, m) next ids -> (B, V) logits after the last of them."""


class TorchStepper:
    """A Hugging Face causal LM with its KV cache (``past_key_values``)."""

    def __init__(self, model) -> None:
        self.model, self.past = model, None

    def _run(self, ids: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            ids_t = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).to(self.model.device)
            out = self.model(input_ids=ids_t, past_key_values=self.past, use_cache=True, logits_to_keep=1)
        self.past = out.past_key_values
        return out.logits[:, -1, :].float().cpu().numpy()

    def prefill(self, ids: np.ndarray) -> np.ndarray:
        self.past = None
        return self._run(ids)

    def step(self, ids: np.ndarray) -> np.ndarray:
        return self._run(ids)


@dataclass(frozen=True)
class Sampling:
    """Sampling controls; ``top_k`` 0 = off, ``top_p`` 1 = off."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0


def sample(logits: np.ndarray, allowed: np.ndarray, sampling: Sampling, rng: np.random.Generator,
           bias: np.ndarray | None = None) -> int:
    """One id from ``allowed`` (model ids) drawn from softmax(logits / temperature + bias), top-k and
    top-p applied. ``bias``: a log-probability added to each allowed id after the temperature (the
    harmony strength: it scales probabilities by the same factor whatever the temperature)."""
    if len(allowed) == 1:
        return int(allowed[0])
    scores = logits[allowed].astype(np.float64)
    scores *= 1.0 / sampling.temperature
    if bias is not None:
        scores += bias
    if 0 < sampling.top_k < len(scores):
        kth = np.partition(scores, -sampling.top_k)[-sampling.top_k]
        scores[scores < kth] = -np.inf
    probs = np.exp(scores - scores.max())
    order = allowed
    if sampling.top_p < 1.0:   # the fewest most likely ids whose mass reaches top_p
        ranked = np.argsort(-probs, kind="stable")
        cdf = np.cumsum(probs[ranked])
        cut = int(np.searchsorted(cdf, sampling.top_p * cdf[-1], side="left")) + 1
        order, cdf = allowed[ranked[:cut]], cdf[:cut]
    else:
        cdf = np.cumsum(probs)
    # inverse-CDF draw: one uniform number, like Generator.choice with p
    return int(order[min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)])


@dataclass
class LoopStats:
    generated_tokens: int
    forward_passes: int
    decode_s: float

    @property
    def tokens_per_s(self) -> float:
        return self.generated_tokens / self.decode_s if self.decode_s > 0 else 0.0


def run_rows(stepper: Stepper, prompt_ids: Sequence[int], rows: list[RowConstraint], sampling: Sampling,
             seeds: Sequence[int], pad_id: int,
             on_progress: Callable[[int, RowConstraint], None] | None = None) -> LoopStats:
    """Generate every row to its end (in place: ``row.out``); returns counts and time.
    ``on_progress(index, row)`` is called whenever a row reaches a new position or bar: every note
    that starts before it is final."""
    t0 = time.perf_counter()
    reached = [row.reached for row in rows]
    rngs = [np.random.default_rng(seed) for seed in seeds]
    logits = stepper.prefill(np.tile(np.asarray(prompt_ids, dtype=np.int64), (len(rows), 1)))
    inbox: list[list[int]] = [[] for _ in rows]
    passes = 1
    while True:
        # 1. each row that has fresh logits decides: one sampled or forced token, then every forced one
        for index, row in enumerate(rows):
            if row.done or inbox[index]:
                continue
            forced = row.forced()
            if forced is None:
                allowed, bias = row.choices()
                token = sample(logits[index], allowed, sampling, rngs[index], bias)
            else:
                token = forced
            row.push(token)
            inbox[index].append(token)
            while not row.done and row.forced() is not None:
                token = row.forced()
                row.push(token)
                inbox[index].append(token)
            if row.done:
                inbox[index] = []   # nothing after the end needs logits
            elif on_progress is not None and row.reached != reached[index]:
                reached[index] = row.reached
                on_progress(index, row)
        waiting = [len(box) for box, row in zip(inbox, rows) if box]
        if not waiting:
            break
        # 2. feed the shortest run of decided tokens; finished rows are fed padding
        width = min(waiting)
        feed = np.full((len(rows), width), pad_id, dtype=np.int64)
        for index, box in enumerate(inbox):
            if box:
                feed[index] = box[:width]
                inbox[index] = box[width:]
        logits = stepper.step(feed)
        passes += 1
    generated = sum(len(row.out) for row in rows)
    return LoopStats(generated, passes, time.perf_counter() - t0)
