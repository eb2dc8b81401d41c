"""Training figures: our launcher + callbacks against a bare Trainer, step-to-plot latency, tokens/s.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_train.py [--steps 60] [--repeats 2]

1. overhead: the same LoRA config trained (a) by a bare transformers Trainer with the same
   eval/save schedule and (b) by ``pipelines.train`` in the foreground (callbacks, status,
   metrics, step-N renames, best/, samples off); best-of-N wall time each, ratio b/a (goal <= 1.05).
2. step -> plot: a detached run polled the way the Train tab polls it (every POLL_S seconds:
   run report + matplotlib figure); seconds from a metrics line's timestamp to a figure that
   includes it (goal <= 2 s). The browser adds one websocket message on top.
3. tokens/s of the run, from its metrics.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_train.py --lifecycle [--repeats 2]

4. lifecycle: seconds from Stop & save to a checkpoint that loads (tiny LoRA and scratch_small's real
   shape), seconds for Check offline (a fresh CLI process, and in the app once warm), and after each
   kind of kill at a random step (the trainer -9, the supervisor -9 or TERM, the whole tree -9) the
   seconds until the run reads failed and until no process of it is left (goal: both <= 5 s).
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

    from train_fixtures import write_tiny_llama

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


def _until(predicate, timeout_s: float = 60.0, every_s: float = 0.02) -> float:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError("the run did not get there in time")
        time.sleep(every_s)
    return time.monotonic() - t0


def _started(cfg, at_step: int):
    from pipelines.train import launcher
    from pipelines.train.runs import read_status, run_path

    run_dir = run_path(launcher.start(cfg)["run_id"])
    _until(lambda: read_status(run_dir).get("state") == "running" and read_status(run_dir).get("step", 0)
           >= at_step, 300, 0.1)
    return run_dir


def stop_to_checkpoint(cfg) -> tuple[float, float]:
    """(seconds from Stop to a checkpoint that loads, seconds from Stop to the state stopped)."""
    import random

    from pipelines.train import launcher
    from pipelines.train.backends.torch_models import load_checkpoint
    from pipelines.train.runs import read_status

    run_dir = _started(cfg, random.randint(3, 8))
    t0 = time.monotonic()
    launcher.stop(run_dir.name)
    _until(lambda: read_status(run_dir).get("saved_step"))
    load_checkpoint(run_dir / "checkpoints" / f"step-{read_status(run_dir)['saved_step']}")
    loadable = time.monotonic() - t0
    _until(lambda: read_status(run_dir).get("state") == "stopped", 600, 0.1)
    return loadable, time.monotonic() - t0


def kill_to_state(cfg, kind: str) -> tuple[float, float, str]:
    """(seconds until the run reads failed, seconds until none of its processes is left, the error)."""
    import random
    import signal

    from pipelines.train.process import run_processes
    from pipelines.train.runs import read_status, reconcile

    run_dir = _started(cfg, random.randint(3, 8))
    status = read_status(run_dir)
    t0 = time.monotonic()
    if kind == "trainer -9":
        os.kill(status["trainer_pid"], signal.SIGKILL)
    elif kind == "supervisor -9":
        os.kill(status["pid"], signal.SIGKILL)
    elif kind == "supervisor TERM":
        os.kill(status["pid"], signal.SIGTERM)
    else:
        os.killpg(status["pid"], signal.SIGKILL)
    state_s = _until(lambda: reconcile(run_dir).get("state") == "failed")
    gone_s = _until(lambda: not run_processes(run_dir)) + state_s
    return state_s, max(gone_s, state_s), read_status(run_dir)["error"]


def check_offline_s() -> tuple[float, float, float]:
    """(a fresh `python -m pipelines.train check` process, first Check in a process, a warm Check)."""
    import subprocess

    argv = [sys.executable, "-m", "pipelines.train", "check", "qlora_fast", "--set", "dataset=tiny"]
    t0 = time.monotonic()
    subprocess.run(argv, cwd=ROOT, capture_output=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), check=False)
    cli = time.monotonic() - t0
    code = ("import time; from pipelines.train.config import load_train_config as l; "
            "from pipelines.train.status import check_config as c; cfg = l('qlora_fast', {'dataset': 'tiny'}); "
            "t = time.monotonic(); c(cfg); a = time.monotonic() - t; t = time.monotonic(); c(cfg); "
            "print(a, time.monotonic() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, HF_HUB_OFFLINE="1"), check=True).stdout.split()
    return cli, float(out[0]), float(out[1])


def lifecycle(repeats: int) -> None:
    import statistics

    from train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

    from pipelines.train.config import load_train_config

    home = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    os.environ["STUDIO_HOME"] = str(home)
    write_dataset(home, n_train=64, n_valid=8)
    base = write_tiny_llama(home / "base", hidden=64)
    tiny = load_train_config(None, tiny_overrides(base, max_steps=5000, eval_steps=3, sample_count=0))
    scratch = load_train_config("scratch_small", {"dataset": "tiny", "max_steps": 5000, "eval_steps": 1000,
                                                  "warmup_steps": 0, "logging_steps": 1,
                                                  "sample_count": 2, "render_audio": False})
    cli, first, warm = check_offline_s()
    print(f"Check offline (qlora_fast, hub model not cached): fresh CLI process {cli:.2f} s, "
          f"first in a process {first:.2f} s, warm {warm:.3f} s")
    for name, cfg in (("tiny LoRA", tiny), ("scratch_small (13M)", scratch)):
        runs = [stop_to_checkpoint(cfg) for _ in range(repeats)]
        print(f"Stop & save, {name}: loadable checkpoint after "
              f"{', '.join(f'{a:.2f}' for a, _ in runs)} s; stopped (evaluated and sampled) after "
              f"{', '.join(f'{b:.1f}' for _, b in runs)} s")
    for kind in ("trainer -9", "supervisor -9", "supervisor TERM", "tree -9"):
        runs = [kill_to_state(tiny, kind) for _ in range(repeats)]
        states, gones = [r[0] for r in runs], [r[1] for r in runs]
        print(f"kill {kind:15s}: state right after max {max(states):.2f} s (median "
              f"{statistics.median(states):.2f}), no process left after max {max(gones):.2f} s; "
              f"error: {runs[-1][2][:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lifecycle", action="store_true", help="only the lifecycle figures (4.)")
    args = parser.parse_args()
    if args.lifecycle:
        return lifecycle(args.repeats)
    from train_fixtures import tiny_overrides, write_dataset, write_tiny_llama

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
