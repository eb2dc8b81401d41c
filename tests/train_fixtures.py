"""Tiny real things for the train tests: a music-token dataset in the data contract and tiny Llama models.

Imported by the tests/test_train_*.py files (no tests here). The dataset follows pipelines/data's
contract: datasets/<name>/tokens/{train,valid,test}.jsonl, tokenizer.json, mlx/{train,valid}.jsonl.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CHORDS = {"Cmaj7": [48, 52, 55, 59], "Am7": [45, 48, 52, 55], "Dm7": [50, 53, 57, 60], "G7": [43, 47, 50, 53]}
HEADER_WORDS = [
    "STYLE_gospel",
    "STYLE_jazz",
    "TEMPO_90",
    "TEMPO_120",
    "TIMESIG_4/4",
    "KEY_Cmaj",
    "SONG_START",
    "SONG_END",
    "BAR_START",
]


def vocabulary() -> list[str]:
    words = list(HEADER_WORDS)
    words += [f"POS_{i}" for i in range(16)] + [f"CHORD_{c}" for c in CHORDS]
    words += [f"NOTE_{p}" for p in range(36, 84)] + [f"DUR_{d}" for d in (1, 2, 4, 8)]
    words += [f"VEL_{v}" for v in range(1, 9)]
    return words


def sequence(rng: random.Random, bars: int = 2) -> str:
    """A short, regular piece: each bar a chord then its tones as an up-arpeggio on quarter notes."""
    style = rng.choice(["gospel", "jazz"])
    words = [f"STYLE_{style}", rng.choice(["TEMPO_90", "TEMPO_120"]), "TIMESIG_4/4", "KEY_Cmaj", "SONG_START"]
    progression = ["Cmaj7", "Am7", "Dm7", "G7"]
    start = rng.randrange(4)
    for bar in range(bars):
        chord = progression[(start + bar) % 4]
        words += ["BAR_START", "POS_0", f"CHORD_{chord}"]
        for beat, pitch in enumerate(CHORDS[chord]):
            words += [f"POS_{beat * 4}", f"NOTE_{pitch + 12}", "DUR_4", "VEL_5"]
    return " ".join(words + ["SONG_END"])


def real_tokenizer_rows(rng: random.Random, counts: dict[str, int]):
    """(tokenizer, {split: rows}) encoded by pipelines.data's studio tokenizer, or None without it."""
    try:
        from pipelines.data import Header, TokenizerConfig, build_tokenizer
        from pipelines.music.chords import parse_chord
        from pipelines.music.piece import ChordEvent, Note, Piece
    except ImportError:
        return None
    tok = build_tokenizer(TokenizerConfig(), ["gospel", "jazz"], [])
    progression = list(CHORDS)
    out = {}
    for split, count in counts.items():
        rows = []
        for k in range(count):
            start, style = rng.randrange(4), rng.choice(["gospel", "jazz"])
            notes, chords = [], []
            for bar in range(2):
                name = progression[(start + bar) % 4]
                chords.append(ChordEvent(bar * 4.0, 4.0, parse_chord(name)))
                notes += [
                    Note(bar * 4.0 + beat, pitch + 12, 1.0, 80) for beat, pitch in enumerate(CHORDS[name])
                ]
            piece = Piece(notes=notes, tempo_bpm=rng.choice([90, 120]), chords=chords)
            tokens = tok.encode(piece, Header(style=style))
            rows.append(
                {
                    "text": " ".join(tokens),
                    "ids": tok.ids(tokens),
                    "style": style,
                    "source": f"{split}{k:04d}",
                }
            )
        out[split] = rows
    return tok, out


def write_dataset(home: Path, name: str = "tiny", n_train: int = 40, n_valid: int = 8, seed: int = 0) -> Path:
    """datasets/<name>/ in the data contract, under the workspace ``home`` (pipelines.data's real
    tokenizer when that package is importable, else hand-written tokens of the same shape)."""
    rng = random.Random(seed)
    real = real_tokenizer_rows(rng, {"train": n_train, "valid": n_valid, "test": 4})
    if real is not None:
        from pipelines.data import save_tokenizer

        tok, splits = real
        root = Path(home) / "datasets" / name
        (root / "tokens").mkdir(parents=True, exist_ok=True)
        (root / "mlx").mkdir(parents=True, exist_ok=True)
        for split, rows in splits.items():
            (root / "tokens" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
            if split != "test":
                (root / "mlx" / f"{split}.jsonl").write_text(
                    "".join(json.dumps({"text": r["text"]}) + "\n" for r in rows)
                )
        save_tokenizer(tok, root / "tokenizer.json")
        return root
    root = Path(home) / "datasets" / name
    (root / "tokens").mkdir(parents=True, exist_ok=True)
    (root / "mlx").mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    index = {w: i for i, w in enumerate(vocab)}
    splits = {"train": n_train, "valid": n_valid, "test": 4}
    for split, count in splits.items():
        rows = []
        for k in range(count):
            text = sequence(rng)
            rows.append(
                {
                    "text": text,
                    "ids": [index[w] for w in text.split()],
                    "style": text.split()[0][6:],
                    "source": f"{split}{k:04d}",
                }
            )
        (root / "tokens" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        if split != "test":
            (root / "mlx" / f"{split}.jsonl").write_text(
                "".join(json.dumps({"text": r["text"]}) + "\n" for r in rows)
            )
    (root / "tokenizer.json").write_text(json.dumps({"vocab": vocab}))
    return root


def write_tiny_llama(folder: Path, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """A 2-layer Llama with a small byte-level BPE tokenizer trained on music text, saved like a hub model."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    core = Tokenizer(models.BPE(unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator([sequence(rng) for _ in range(50)] + ["hello world"], trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>"
    )
    tok.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        tie_word_embeddings=False,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def tiny_overrides(base: Path | None, dataset: str = "tiny", **extra) -> dict:
    """Overrides that make any preset tiny and fast on a CPU."""
    out = {
        "dataset": dataset,
        "max_steps": 10,
        "batch_size": 4,
        "grad_accum": 1,
        "max_seq_len": 96,
        "logging_steps": 1,
        "eval_steps": 5,
        "keep_checkpoints": 2,
        "eval_max_sequences": 8,
        "sample_count": 1,
        "sample_max_new_tokens": 16,
        "render_audio": False,
        "learning_rate": 5e-3,
        "warmup_steps": 0,
        "precision": "fp32",
        "device": "cpu",
        "lora_rank": 4,
        "lora_alpha": 8,
        "gradient_checkpointing": False,
        "num_processes": 1,
    }
    if base is not None:
        out["base_model"] = str(base)
    out.update(extra)
    return out
