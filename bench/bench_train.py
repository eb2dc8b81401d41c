"""Training figures: our launcher + callbacks against a bare Trainer, step-to-plot latency, tokens/s.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_train.py [--steps 60] [--repeats 2]

1. overhead: the same LoRA config trained (a) by a bare transformers Trainer with the same
   eval/save schedule and (b) by ``pipelines.train`` in the foreground (callbacks, status,
   metrics, step-N renames, best/, samples off); best-of-N wall time each, ratio b/a (goal <= 1.05).
2. step -> plot: a detached run polled the way the Train tab polls it (every POLL_S seconds:
   run report + matplotlib figure); seconds from a metrics line's timestamp to a figure that
   includes it (goal <= 2 s). The browser adds one websocket message on top.
3. tokens/s of the run, from its metrics.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def bare_trainer_s(cfg, out: Path) -> float:
    """The same model, data, schedule and saves, through a plain Trainer (no studio code in the loop)."""
    from transformers import Trainer

    from pipelines.train.backends.torch_backend import ListDataset, make_collator, training_arguments
    from pipelines.train.backends.torch_models import build_model
    from pipelines.train.data import encode_split, read_split, read_vocab

    t0 = time.perf_counter()
    model, tokenizer, codec, _ = build_model(cfg, read_vocab(cfg.dataset))
    train = ListDataset(encode_split(codec, read_split(cfg.dataset, "train"), cfg.max_seq_len))
    valid = ListDataset(
        encode_split(codec, read_split(cfg.dataset, "valid"), cfg.max_seq_len, cfg.eval_max_sequences)
    )
    args = training_arguments(cfg, out)
    args.save_total_limit = cfg.keep_checkpoints
    Trainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=valid,
        data_collator=make_collator(tokenizer.pad_token_id),
        processing_class=tokenizer,
    ).train()
    return time.perf_counter() - t0


def studio_s(cfg) -> float:
    from pipelines.train.launcher import run_foreground

    t0 = time.perf_counter()
    run_foreground(cfg)
    return time.perf_counter() - t0


def step_to_plot(cfg, poll_s: float) -> dict:
    """Start detached; poll like the UI; latency from each metrics line to a figure holding it."""
    from pipelines.train import launcher
    from pipelines.train.runs import read_metrics, read_status, run_path
    from pipelines.train.status import loss_figure, run_report

    run_id = launcher.start(cfg)["run_id"]
    run_dir = run_path(run_id)
    seen, latencies = 0, []
    deadline = time.time() + 300
    while time.time() < deadline and read_status(run_dir).get("state") not in (
        "completed",
        "failed",
        "stopped",
    ):
        report = run_report(run_id)
        if report["metrics_lines"] > seen:
            loss_figure(run_id)
            drawn = time.time()
            for record in read_metrics(run_dir)[seen:]:
                if record.get("loss") is not None:
                    latencies.append(drawn - record["time"])
            seen = report["metrics_lines"]
        time.sleep(poll_s)
    speeds = [m["tokens_per_s"] for m in read_metrics(run_dir) if m.get("tokens_per_s")]
    latencies.sort()
    return {
        "run": run_id,
        "points": len(latencies),
        "latency_mean_s": round(sum(latencies) / max(1, len(latencies)), 3),
        "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "tokens_per_s_median": sorted(speeds)[len(speeds) // 2] if speeds else None,
        "state": read_status(run_dir).get("state"),
    }


def gpu_memory(steps: int = 5) -> str:
    """Peak GPU memory of QLoRA (nf4) vs bf16 LoRA on a ~0.5B Llama built from a config (CUDA only)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from pipelines.train.backends.torch_models import build_model
    from pipelines.train.config import load_train_config

    if not torch.cuda.is_available():
        return "gpu memory        : skipped (no CUDA GPU here)"
    folder = Path(tempfile.mkdtemp(prefix="llama-0.5b-"))
    config = LlamaConfig(
        vocab_size=32000,
        hidden_size=1024,
        intermediate_size=4096,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=16,
        max_position_embeddings=2048,
    )
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)
    import shutil

    from test_train_fixtures import write_tiny_llama

    for file in write_tiny_llama(Path(tempfile.mkdtemp())).glob("tokenizer*"):  # a small tokenizer beside it
        shutil.copy(file, folder)
    peaks = {}
    for method in ("qlora", "lora"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        cfg = load_train_config(
            None,
            {
                "base_model": str(folder),
                "method": method,
                "precision": "bf16",
                "vocab_mode": "text",
                "gradient_checkpointing": True,
                "device": "cuda",
            },
        )
        model, _, _, _ = build_model(cfg, [])
        if method == "lora":
            model.to("cuda")  # QLoRA is placed on the GPU by its device_map
        optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        ids = torch.randint(0, 32000, (1, 1024), device="cuda")
        for _ in range(steps):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            optim.step()
            optim.zero_grad()
        peaks[method] = torch.cuda.max_memory_allocated() / 1e9
        del model, optim
    params = sum(p.numel() for p in LlamaForCausalLM(config).parameters()) / 1e9
    return (
        f"gpu memory        : {params:.2f}B-param Llama, seq 1024: "
        f"QLoRA {peaks['qlora']:.2f} GB vs bf16 LoRA "
        f"{peaks['lora']:.2f} GB = {peaks['qlora'] / peaks['lora']:.2f}x (goal <= 0.45x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    from test_train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

    from pipelines.train.config import load_train_config
    from studio.train_tab import POLL_S

    home = Path(tempfile.mkdtemp(prefix="bench-train-"))
    os.environ["STUDIO_HOME"] = str(home)
    write_dataset(home, n_train=64, n_valid=8)
    base = write_tiny_llama(home / "base", hidden=args.hidden)
    cfg = load_train_config(
        None,
        tiny_overrides(
            base,
            max_steps=args.steps,
            eval_steps=max(5, args.steps // 4),
            logging_steps=1,
            sample_count=0,
            method="lora",
        ),
    )
    bare, ours = [], []
    for _ in range(args.repeats):  # interleaved, best of N: the CPU is shared
        bare.append(bare_trainer_s(cfg, Path(tempfile.mkdtemp(prefix="bare-", dir=home))))
        ours.append(studio_s(cfg))
    print(
        f"model: tiny Llama hidden {args.hidden}, 2 layers, LoRA r4, {args.steps} steps, batch 4 x seq<=96, "
        f"eval+save every {cfg.eval_steps}"
    )
    print(f"bare Trainer      : best {min(bare):.2f} s  (runs {', '.join(f'{t:.2f}' for t in bare)})")
    print(f"studio run (fg)   : best {min(ours):.2f} s  (runs {', '.join(f'{t:.2f}' for t in ours)})")
    print(f"overhead ratio    : {min(ours) / min(bare):.3f}x  (goal <= 1.05x)")
    live = step_to_plot(
        load_train_config(
            None,
            tiny_overrides(
                base, max_steps=args.steps * 3, eval_steps=args.steps, logging_steps=1, sample_count=0
            ),
        ),
        POLL_S,
    )
    print(
        f"step -> plot      : mean {live['latency_mean_s']} s, p95 {live['latency_p95_s']} s, "
        f"max {live['latency_max_s']} s over {live['points']} logged steps (poll {POLL_S} s; goal <= 2 s)"
    )
    print(
        f"tokens/s          : median {live['tokens_per_s_median']} "
        f"(detached run {live['run']}, {live['state']})"
    )
    print(gpu_memory())


if __name__ == "__main__":
    main()
