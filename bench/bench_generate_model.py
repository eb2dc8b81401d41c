"""Figures for trained-model generation on the CPU (prints JSON; not a test).

1. chart -> 8 bars MIDI -> WAV through ``generate`` with a scratch_small-sized model (8 layers x 320
   hidden, 8 heads, MLP 1280, the studio vocabulary), model already loaded (goal <= 0.5 s);
2. the same number of new tokens three ways on that model: plain ``model.generate`` (sampling, no
   constraint), ``model.generate`` with the GrammarLogitsProcessor, and the studio's own constrained
   loop (goal: constrained <= 1.15 x plain).

3. cold command lines, each a fresh Python as a user types it, interleaved round by round, after one
   run each that exported the graphs: ``--model rules`` vs ``--model default`` (goal <= 2x) and each
   shipped adapter vs ``default`` (goal <= 1.3x), with the decoder each used.

    python bench/bench_generate_model.py [--checkpoint DIR] [--repeats 3] [--threads 2] [--cold-repeats 7]
    python bench/bench_generate_model.py --only cold     # part 3 alone

Without ``--checkpoint`` the model has random weights (made in a temp folder), so how many notes a
bar gets is chance within the per-bar token budget; a trained checkpoint gives the real figure
(train one of this shape: python -m pipelines.train run configs/train/scratch_small.yaml ...).
Figures: the best and the median of ``--repeats`` runs, and the CPU time of the best.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
CHART = "| Cmaj7 | Am7 D7 | Dm7 G7 | Cmaj7 | Fmaj7 | Bb7 | Em7 A7 | Dm7 G7 |"


def scratch_small(folder: Path) -> Path:
    """A random-weight model of configs/train/scratch_small.yaml's shape on the studio vocabulary."""
    import yaml
    from generate_model_fixtures import write_tiny_checkpoint

    shape = yaml.safe_load((REPO / "configs" / "train" / "scratch_small.yaml").read_text(encoding="utf-8"))
    return write_tiny_checkpoint(folder, hidden=shape["scratch_hidden"], layers=shape["scratch_layers"],
                                 heads=shape["scratch_heads"], intermediate=shape["scratch_intermediate"],
                                 context=shape["max_seq_len"])


CPU_S: dict[int, float] = {}
MEDIAN_S: dict[int, float] = {}


def best_of(fn, repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls; the process CPU time of that call is kept in CPU_S (on a
    shared machine CPU time is the steadier figure: it leaves out the time other programs ran) and
    the median wall time in MEDIAN_S."""
    times, out = [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    wall, cpu = min(times)
    CPU_S[id(fn)] = cpu
    MEDIAN_S[id(fn)] = sorted(t for t, _ in times)[len(times) // 2]
    return wall, out


COLD_MODELS = ("rules", "default", "checkpoints/gospel", "checkpoints/mehldau")


def cold_cli(workspace: Path, threads: int, repeats: int) -> dict:
    """Median wall time of ``python -m pipelines.generate`` per model, each run a fresh process."""
    import statistics
    import subprocess

    env = dict(os.environ, STUDIO_HOME=str(workspace), OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    models = [m for m in COLD_MODELS if m in ("rules", "default") or (REPO / m).is_dir()]

    def run(model: str) -> tuple[float, float, dict]:
        """(wall s, CPU s of the child: steadier on a shared machine, summary or error)."""
        command = [sys.executable, "-m", "pipelines.generate", "--model", model, "--style", "gospel", "--chords",
                   CHART, "--seed", "1", "--out", str(workspace / "cold" / f"{model.replace('/', '-')}.mid")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if done.returncode:
            return wall, cpu, {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
        return wall, cpu, json.loads(done.stdout)

    first = {m: run(m) for m in models}            # exports and times each graph once
    walls: dict[str, list[float]] = {m: [] for m in models}
    cpus: dict[str, list[float]] = {m: [] for m in models}
    for _ in range(repeats):                       # interleaved, so a busy spell hits every model alike
        for model in models:
            wall, cpu, _ = run(model)
            walls[model].append(wall)
            cpus[model].append(cpu)
    median = {m: round(statistics.median(w), 3) for m, w in walls.items()}
    cpu = {m: round(statistics.median(c), 3) for m, c in cpus.items()}
    out = {"first_run_s (exports the graph)": {m: round(w, 2) for m, (w, _, _) in first.items()},
           "cold_cli_median_s": median, "cold_cli_best_s": {m: round(min(w), 3) for m, w in walls.items()},
           "cold_cli_cpu_median_s": cpu,
           "engine": {m: s.get("decoding", {}).get("engine", s.get("error", "rules")) for m, (_, _, s) in first.items()},
           "default_vs_rules_x": round(median["default"] / median["rules"], 2),
           "default_vs_rules_cpu_x": round(cpu["default"] / cpu["rules"], 2), "goal_default_vs_rules_x": 2.0,
           "goal_adapter_vs_default_x": 1.3}
    for model in models[2:]:
        out[f"{model}_vs_default_x"] = round(median[model] / median["default"], 2)
        out[f"{model}_vs_default_cpu_x"] = round(cpu[model] / cpu["default"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cold-repeats", type=int, default=5)
    parser.add_argument("--only", choices=["cold"], default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench_generate_"))
    os.environ["STUDIO_HOME"] = str(tmp)  # caches (ONNX export, decision) go to a temp workspace
    cold = cold_cli(tmp / "cold_workspace", args.threads, args.cold_repeats)
    if args.only == "cold":
        print(json.dumps({**cold, "threads": args.threads, "load_average": os.getloadavg()[0]}, indent=2))
        return
    import torch

    torch.set_num_threads(args.threads)
    from pipelines.generate.api import GenerateConfig, generate
    from pipelines.generate.model.constrain import GrammarLogitsProcessor, RowConstraint, bar_budget
    from pipelines.generate.model.events import plan_chart
    from pipelines.generate.model.loading import model_cache
    from pipelines.generate.model.sampling import Sampling, TorchStepper, run_rows
    from pipelines.music.chords import parse_chart

    ckpt = Path(args.checkpoint) if args.checkpoint else scratch_small(tmp / "scratch_small")
    loaded = model_cache().get(str(ckpt))
    params = sum(p.numel() for p in loaded.model.parameters())
    cfg = GenerateConfig(chords=CHART, style="gospel", model=str(ckpt), bars=8, tempo_bpm=96, seed=1,
                         out_dir=str(tmp / "out"), render_audio=True)
    generate(cfg)  # warm: loading, corpus profile, soundfont
    def end_to_end_fn():
        return generate(cfg)

    end_to_end, result = best_of(end_to_end_fn, args.repeats)
    # constrained loop vs plain generate, same model, same number of new tokens
    space, vocab = loaded.space, loaded.space.vocab
    head = ["STYLE_gospel", "TEMPO_96", "TIMESIG_4/4", "KEY_Cmaj", "SONG_START"]
    prompt = [loaded.bos_id] + [space.id(w) for w in head]
    plan = plan_chart(parse_chart(CHART), space, (4, 4))

    def constrained():
        rows = [RowConstraint(space, vocab.state_after(head), plan.bars, True,
                              bar_budget(loaded.context_tokens, len(prompt), plan.bars, 384))]
        return run_rows(TorchStepper(loaded.model), prompt, rows, Sampling(1.0, 0, 0.95), [1], loaded.pad_id)

    own_s, stats = best_of(constrained, args.repeats)
    new_tokens = stats.generated_tokens
    ids = torch.tensor([prompt])

    def plain():
        with torch.inference_mode():
            return loaded.model.generate(input_ids=ids, do_sample=True, top_p=0.95, max_new_tokens=new_tokens,
                                         min_new_tokens=new_tokens, pad_token_id=loaded.pad_id)

    def processed():
        rows = [RowConstraint(space, vocab.state_after(head), plan.bars, True,
                              bar_budget(loaded.context_tokens, len(prompt), plan.bars, 384))]
        with torch.inference_mode():
            return loaded.model.generate(input_ids=ids, do_sample=True, top_p=0.95, max_new_tokens=new_tokens,
                                         logits_processor=[GrammarLogitsProcessor(rows, len(prompt))],
                                         eos_token_id=space.id("SONG_END"), pad_token_id=loaded.pad_id)

    plain_s, _ = best_of(plain, args.repeats)
    processor_s, _ = best_of(processed, args.repeats)
    print(json.dumps({
        "checkpoint": str(ckpt) if args.checkpoint else "scratch_small-sized, random weights",
        "parameters": params, "threads": args.threads, "repeats": args.repeats,
        "chart_to_8_bars_midi_wav_s": round(end_to_end, 3), "goal_s": 0.5,
        "chart_to_8_bars_midi_wav_median_s": round(MEDIAN_S[id(end_to_end_fn)], 3),
        "cpu_s": {"chart_to_8_bars_midi_wav": round(CPU_S[id(end_to_end_fn)], 3),
                  "plain_generate": round(CPU_S[id(plain)], 3), "constrained_own_loop": round(CPU_S[id(constrained)], 3),
                  "constrained_hf_processor": round(CPU_S[id(processed)], 3)},
        "timings_s (last run; render: the part after the last token)": result.timings_s,
        "tokens": result.decoding["tokens"], "forward_passes": result.decoding["forward_passes"],
        "generated_tokens (the three-way comparison)": new_tokens,
        "tokens_per_s": result.decoding["tokens_per_s"], "backend_chosen": result.decoding["backend"],
        "backend_trial": _decision(tmp),
        "plain_generate_s": round(plain_s, 3), "constrained_own_loop_s": round(own_s, 3),
        "constrained_hf_processor_s": round(processor_s, 3),
        "own_loop_vs_plain_x": round(own_s / plain_s, 3),
        "hf_processor_vs_plain_x": round(processor_s / plain_s, 3), "goal_x": 1.15, "cold_cli": cold,
        "load_average": os.getloadavg()[0],
    }, indent=2))


def _decision(workspace: Path) -> dict | None:
    found = sorted(workspace.glob(".cache/onnx/*/decision.json"))
    return json.loads(found[0].read_text()) if found else None


if __name__ == "__main__":
    main()
