"""Datasets: ingest MIDI (files, zips), analyse, tokenize (studio event language, REMI, TSD), split.

Public entry points (each also a CLI verb of ``python -m pipelines.data``):
``ingest(paths, IngestConfig)``, ``tokenize_dataset(name, TokenizerConfig, AugmentConfig, SplitConfig)``,
``dataset_stats(name)``, ``bootstrap_dataset(name, style, n)``, and ``load_tokenizer(path)`` for
the trainer and the decoder.
"""
from __future__ import annotations

from .tokenizers import TOKENIZERS, TokenizerConfig, build_tokenizer, load_tokenizer, save_tokenizer
from .vocab import Header, Vocabulary

__all__ = ["TOKENIZERS", "Header", "TokenizerConfig", "Vocabulary", "build_tokenizer", "load_tokenizer",
           "save_tokenizer"]
