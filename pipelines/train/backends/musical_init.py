"""What a scratch model knows about the event words before its first step.

A word-level embedding starts as unrelated random vectors: ``NOTE_60`` and ``NOTE_72`` are as far
apart as ``NOTE_60`` and ``NOTE_61``, and ``CHORD_Ab9`` has to learn from its own few examples which
notes it holds. Here each pitch class gets one random vector: a note word's embedding is its pitch
class's plus its octave's, a chord word's the sum of its tones' (the tensions its family allows at
half weight, the slash bass too), each with a share of the usual random init. With the output layer
tied to the embedding, a hidden state that carries the sounding chord's vector already scores that
chord's notes higher, and what the model learns about one chord reaches every transposition of it.
Only the start point is set; training moves every vector freely.
"""
from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)
NOTE_PREFIX = "NOTE_"
OCTAVE_WEIGHT = 0.5   # an octave's vector against a pitch class's
TENSION_WEIGHT = 0.5  # an allowed tension's pitch class in a chord word, against a chord tone's
RANDOM_SHARE = 0.5    # of the usual random init kept in each word set here


def word_pitch_classes(token: str) -> tuple[dict[int, float], int | None] | None:
    """(pitch class -> weight, octave) a note or chord word stands for; None for any other word."""
    from ...common.errors import StudioError
    from ...data.chord_vocab import CHORD_PREFIX, NO_CHORD_TOKEN, chord_of_token

    if token.startswith(NOTE_PREFIX) and token[len(NOTE_PREFIX):].isdigit():
        pitch = int(token[len(NOTE_PREFIX):])
        return {pitch % 12: 1.0}, pitch // 12
    if token.startswith(CHORD_PREFIX) and token != NO_CHORD_TOKEN:
        try:
            chord = chord_of_token(token)
        except StudioError:
            return None
        weights = {pc: TENSION_WEIGHT for pc in chord.allowed_tensions}
        weights.update({pc: 1.0 for pc in chord.pitch_classes})
        return weights, None
    return None


def musical_embeddings(model: Any, tokenizer: Any, seed: int = 0) -> int:
    """Set the input (and tied output) embedding rows of ``model``'s note and chord words as the
    module says; returns how many words were set (0 for a vocabulary without event words)."""
    import torch

    weight = model.get_input_embeddings().weight
    hidden = weight.shape[1]
    std = float(getattr(model.config, "initializer_range", 0.02))
    generator = torch.Generator().manual_seed(seed)
    pitch_class = torch.randn(12, hidden, generator=generator) * std
    octave = torch.randn(11, hidden, generator=generator) * std * OCTAVE_WEIGHT
    count = 0
    with torch.no_grad():
        for token, index in tokenizer.get_vocab().items():
            meaning = word_pitch_classes(token)
            if meaning is None or index >= weight.shape[0]:
                continue
            weights, octave_index = meaning
            vector = sum(w * pitch_class[pc] for pc, w in weights.items())
            vector = vector / math.sqrt(sum(w * w for w in weights.values()))
            if octave_index is not None:
                vector = vector + octave[min(octave_index, 10)]
            weight[index] = vector.to(weight.dtype) + RANDOM_SHARE * weight[index]
            count += 1
    log.info("musical init: %d note and chord words start from their pitch classes", count)
    return count
