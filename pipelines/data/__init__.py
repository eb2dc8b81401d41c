"""Datasets: ingest MIDI (files, zips), analyse, tokenize (studio event language, REMI, TSD), split.

Public entry points (each also a CLI verb of ``python -m pipelines.data``):
``ingest(paths, IngestConfig)``, ``tokenize_dataset(name, TokenizerConfig, AugmentConfig, SplitConfig)``,
``dataset_stats(name)``, ``round_trip_preview(name, file_hash)``, ``dataset_meta(name)``, and
``load_tokenizer(path)`` for the trainer and the decoder. (A dataset of rule-based performances is
the corpus generator's: ``pipelines.generate.bootstrap_dataset``.) The names in ``_EXPORTS`` are
imported on first use.
"""
from __future__ import annotations

from ..common.lazy_exports import lazy_exports
from .ingest import IngestConfig, ingest  # eager: the module is also named ingest
from .tokenizers import TOKENIZERS, TokenizerConfig, build_tokenizer, load_tokenizer, save_tokenizer
from .vocab import Header, Vocabulary

_EXPORTS = {
    "SplitConfig": ".build", "tokenize_dataset": ".build",
    "AugmentConfig": ".augment",
    "dataset_stats": ".analysis", "plot_lengths": ".analysis",
    "dataset_meta": ".dataset", "existing_dataset": ".dataset", "list_datasets": ".dataset",
    "read_manifest": ".dataset",
    "round_trip_preview": ".preview",
    "tokenizer_preset": ".tokenizer_base", "tokenizer_presets": ".tokenizer_base",
    "DEFAULT_STYLES": ".event_words",
}
__all__ = sorted(["IngestConfig", "TOKENIZERS", "Header", "TokenizerConfig", "Vocabulary", "build_tokenizer", "ingest",
                  "load_tokenizer", "save_tokenizer", *_EXPORTS])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
