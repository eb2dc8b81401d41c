"""A take through an exported graph imports only what it uses: no torch, no transformers, no peft.

The graphs are exported in this process (which needs torch); the takes run in a fresh Python, as the
CLI and the app's first take do (the app's warm-up, then a take with audio), and report what they
imported.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from test_generate_model_adapters import write_adapter
from generate_model_fixtures import write_tiny_checkpoint

REPO = Path(__file__).resolve().parents[1]
CHART = "| Dm7 | G7 | Cmaj7 | A7 |"
TAKE = """
import json, sys
from pipelines.generate.__main__ import main
from pipelines.generate.model.takes import warm_up
assert "error" not in warm_up(sys.argv[2])          # what the app does at start
summary = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "transformers", "peft", "onnx"})
print(json.dumps({"engine": summary["decoding"]["engine"], "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("fast")
    base = write_tiny_checkpoint(root / "base")
    return base, write_adapter(base, root / "gospel", 3, "gospel", whole_embeddings=True)


def _cli(model, out, *extra: str) -> list[str]:
    return ["--model", str(model), "--style", "gospel", "--chords", CHART, "--seed", "3", "--tempo", "96",
            "--out", str(out), *extra]


@pytest.mark.parametrize("which", ["base", "adapter"])
def test_a_take_through_a_cached_graph_imports_neither_torch_nor_transformers(models, which, tmp_path):
    from pipelines.generate.__main__ import main

    model = models[0] if which == "base" else models[1]
    exported = main(_cli(model, tmp_path / "first.mid", "--backend", "onnxruntime"))  # exports, in this process
    assert exported["decoding"]["backend"] == "onnxruntime"
    done = subprocess.run([sys.executable, "-c", TAKE, *_cli(model, tmp_path / "cold.mid", "--backend", "onnxruntime",
                                                           "--wav", str(tmp_path / "cold.wav"))],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [] and report["engine"] == exported["decoding"]["engine"]
    first, cold = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("first", "cold"))
    assert cold["tokens"] == first["tokens"] and len(cold["tokens"]) > 40   # the same take, with or without torch
    assert (tmp_path / "cold.wav").stat().st_size > 44


def test_a_checkpoints_words_read_from_its_files_equal_what_transformers_reads(models):
    from transformers import AutoTokenizer

    from pipelines.common.paths import checkpoints_dir
    from pipelines.generate.model.checkpoint_files import read_tokenizer

    shipped = [p for p in sorted(checkpoints_dir().glob("*")) if (p / "tokenizer.json").is_file()]
    for folder in [*models, *shipped]:
        ours, theirs = read_tokenizer(folder), AutoTokenizer.from_pretrained(str(folder))
        assert ours.words == theirs.get_vocab() and ours.added == theirs.get_added_vocab(), folder.name
        assert (ours.bos_token_id, ours.pad_token_id, len(ours)) == \
            (theirs.bos_token_id, theirs.pad_token_id, len(theirs)), folder.name
