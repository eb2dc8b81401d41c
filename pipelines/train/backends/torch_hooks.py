"""What happens around each checkpoint of a torch run: rename, card, best, rotation and samples, plus
the metrics / heartbeat / STOP callback and the evaluation that follows Stop & save.

Stop & save saves first (seconds), then evaluates and samples the saved checkpoint with its progress
in status.json ``phase``; a SKIP file (``python -m pipelines.train skip RUN_ID``) ends that early.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..config import TrainConfig
from ..recorder import Recorder
from ..samples import write_samples
from .torch_models import write_card

MODEL_FILES_SKIP = ("optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state")
PHASE_EVERY_S = 2.0


class SkipRequested(Exception):
    """Raised inside evaluation or sampling once the user asked to skip them."""


class StudioHooks:
    """Rename, rotate, pick best, write samples: what happens after each checkpoint is saved."""

    def __init__(
        self,
        cfg: TrainConfig,
        run_dir: Path,
        tokenizer: Any,
        codec: Any,
        recorder: Recorder,
        prompts: list[list[str]],
        decoder: Any,
        vocab: list[str],
    ) -> None:
        self.cfg, self.run_dir, self.tokenizer, self.codec, self.vocab = cfg, run_dir, tokenizer, codec, vocab
        self.recorder, self.prompts, self.decoder = recorder, prompts, decoder
        self.ckpt_dir = run_dir / "checkpoints"

    def after_save(self, model: Any, state: Any) -> None:
        """step-N in place (renamed, carded, best, rotated); samples now unless Stop & save asked."""
        step = state.global_step
        src, dst = self.ckpt_dir / f"checkpoint-{step}", self.ckpt_dir / f"step-{step}"
        if dst.exists():
            shutil.rmtree(dst)
        src.rename(dst)
        eval_loss = _eval_loss_at(state.log_history, step)
        write_card(dst, self.cfg, self.codec, step=step, eval_loss=eval_loss)
        self._update_best(dst, step, eval_loss)
        self._rotate()
        if self.recorder.stopping:  # the checkpoint is loadable now; evaluation and samples follow
            self.recorder.phase(f"checkpoint step-{step} saved and loadable; evaluating it next",
                                saved_step=step)
            return
        self.samples(model, step)

    def samples(self, model: Any, step: int, skippable: bool = False) -> None:
        """Sample the fixed charts at ``step`` into samples/step-N (a SKIP file ends it when skippable)."""
        if not self.prompts:
            return

        def generate(prompt: list[str], seed: int) -> list[str]:
            if skippable:
                if self.recorder.skip_requested():
                    raise SkipRequested()
                self.recorder.phase(f"rendering sample {seed + 1} of {len(self.prompts)} at step {step}")
            return self.generate(model, prompt, seed)

        summary = write_samples(
            self.run_dir / "samples" / f"step-{step}", step, self.prompts, generate, self.decoder,
            self.cfg.render_audio,
        )
        self.recorder.log(step, sample_decoded_share=summary["decoded_share"], samples=len(self.prompts))

    def after_stop(self, trainer: Any, step: int) -> None:
        """After Stop & save: evaluate the saved checkpoint, then sample it; SKIP ends either early."""
        folder = self.ckpt_dir / f"step-{step}"
        try:
            self.recorder.phase(f"checkpoint step-{step} saved and loadable; evaluating it", saved_step=step)
            metrics = trainer.evaluate()
            eval_loss = metrics.get("eval_loss")
            if eval_loss is not None and folder.is_dir() and trainer.is_world_process_zero():
                write_card(folder, self.cfg, self.codec, step=step, eval_loss=float(eval_loss))
                self._update_best(folder, step, float(eval_loss))
            if trainer.is_world_process_zero():
                self.samples(trainer.model, step, skippable=True)
        except SkipRequested:
            self.recorder.phase("evaluation and samples skipped")

    def _update_best(self, folder: Path, step: int, eval_loss: float | None) -> None:
        best = self.ckpt_dir / "best"
        card = _read_json(best / "studio_checkpoint.json")
        previous = card.get("eval_loss")
        if best.exists() and eval_loss is not None and previous is not None and eval_loss > previous:
            return
        if best.exists() and eval_loss is None and previous is not None:
            return
        tmp = self.ckpt_dir / ".best.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(
            folder, tmp, ignore=lambda d, names: [n for n in names if n.startswith(MODEL_FILES_SKIP)]
        )
        shutil.rmtree(best, ignore_errors=True)
        tmp.rename(best)

    def _rotate(self) -> None:
        steps = sorted(int(p.name[5:]) for p in self.ckpt_dir.glob("step-*") if p.name[5:].isdigit())
        for old in steps[: -self.cfg.keep_checkpoints]:
            shutil.rmtree(self.ckpt_dir / f"step-{old}", ignore_errors=True)

    def generate(self, model: Any, prompt: list[str], seed: int) -> list[str]:
        import torch

        ids = self.codec.encode(" ".join(prompt))[:-1]  # drop EOS: the model continues the prompt
        was_training = model.training
        model.eval()
        torch.manual_seed(self.cfg.seed + seed)
        device = next(model.parameters()).device
        with torch.no_grad():
            out = model.generate(
                input_ids=torch.tensor([ids], device=device),
                do_sample=True,
                top_p=0.95,
                temperature=self.cfg.sample_temperature,
                max_new_tokens=self.cfg.sample_max_new_tokens,
                suppress_tokens=self._non_music_ids(model),
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        if was_training:
            model.train()
        return self.codec.events(out[0].tolist())

    def _non_music_ids(self, model: Any) -> list[int] | None:
        """With music words as added tokens, samples may use only those words and EOS."""
        if self.codec.mode != "added_tokens":
            return None
        if not hasattr(self, "_suppressed"):
            allowed = set(self.tokenizer.convert_tokens_to_ids(self.vocab)) | {self.tokenizer.eos_token_id}
            size = model.get_output_embeddings().weight.shape[0]
            self._suppressed = [i for i in range(size) if i not in allowed]
        return self._suppressed


def _eval_loss_at(history: list[dict[str, Any]], step: int) -> float | None:
    for entry in reversed(history):
        if "eval_loss" in entry and entry.get("step") == step:
            return float(entry["eval_loss"])
    return None


def _read_json(path: Path) -> dict[str, Any]:
    import json

    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def make_callback(recorder: Recorder):
    """Trainer callback: metrics on each log, heartbeat and STOP check after each step, SKIP in evaluation."""
    from transformers import TrainerCallback

    class StudioCallback(TrainerCallback):
        stopped = False
        eval_batches = 0

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" in logs or "eval_loss" in logs:
                recorder.log(
                    state.global_step,
                    epoch=logs.get("epoch"),
                    loss=logs.get("loss"),
                    eval_loss=logs.get("eval_loss"),
                    lr=logs.get("learning_rate"),
                    grad_norm=logs.get("grad_norm"),
                    tokens_seen=state.num_input_tokens_seen or None,
                )

        def on_step_end(self, args, state, control, **kwargs):
            recorder.heartbeat(state.global_step)
            if _agree(recorder.stop_requested(), args):
                self.stopped = recorder.stopping = True
                recorder.phase(f"saving a checkpoint at step {state.global_step}")
                control.should_evaluate = False  # save first; the evaluation follows (after_stop)
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
            if not recorder.stopping or args.world_size > 1:
                return control
            if recorder.skip_requested():
                raise SkipRequested()
            self.eval_batches += 1
            total = len(eval_dataloader) if eval_dataloader is not None else "?"
            recorder.phase(f"evaluating the saved checkpoint: batch {self.eval_batches} of {total}",
                           every_s=PHASE_EVERY_S)
            return control

    return StudioCallback()


def _agree(flag: bool, args: Any) -> bool:
    """Under torchrun every rank must stop at the same step: true if any rank saw the STOP file."""
    if args.world_size <= 1:
        return flag
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([1.0 if flag else 0.0], device=args.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item() > 0)


