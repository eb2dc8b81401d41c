"""Trained models in the Generate tab: loading (base + adapter cache), chord-forced grammar-constrained
decoding, continuation and regeneration, novelty against the training corpus, ONNX decoding.

Heavy imports (torch, transformers, peft, onnxruntime) happen inside the functions that need them.
"""
