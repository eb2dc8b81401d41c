"""torch backend: transformers Trainer (+ peft) for lora, qlora, full and scratch runs.

Same shape as every backend: ``train(cfg, run_dir, resume_step) -> summary``. Checkpoints are
written as ``checkpoints/step-N`` (Trainer's ``checkpoint-N`` renamed), the newest
``keep_checkpoints`` kept, ``best/`` holding the lowest eval loss; each one is loadable.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..config import TrainConfig
from ..data import dataset_dir, encode_split, read_split, read_vocab
from ..recorder import Recorder, is_main_process
from ..samples import chart_prompts, dataset_decoder
from .torch_hooks import StudioHooks, make_callback
from .torch_models import build_model

log = logging.getLogger(__name__)


class ListDataset:
    """Encoded windows as a map-style dataset of {"input_ids"}."""

    def __init__(self, sequences: list[list[int]]) -> None:
        self.sequences = sequences

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return {"input_ids": self.sequences[index]}


def make_collator(pad_id: int):
    """Right-pad a batch; labels copy the ids with -100 on padding (the model shifts them)."""
    import torch

    def collate(batch: list[dict[str, list[int]]]) -> dict[str, Any]:
        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, item in enumerate(batch):
            seq = torch.tensor(item["input_ids"], dtype=torch.long)
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        labels = ids.masked_fill(mask == 0, -100)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return collate


def training_arguments(cfg: TrainConfig, output_dir: Path):
    """TrainingArguments for ``cfg``: our own checkpoint rotation, no hub, tracking only when chosen."""
    import torch
    from transformers import TrainingArguments

    on_cpu = cfg.device == "cpu" or not torch.cuda.is_available()
    distributed_cpu = on_cpu and int(os.environ.get("WORLD_SIZE", "1")) > 1
    return TrainingArguments(
        output_dir=str(output_dir),
        max_steps=cfg.max_steps,
        num_train_epochs=cfg.num_epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.eval_steps,
        save_total_limit=None,
        report_to=[] if cfg.tracking == "none" else [cfg.tracking],
        use_cpu=on_cpu,
        bf16=cfg.precision == "bf16",
        fp16=cfg.precision == "fp16",
        seed=cfg.seed,
        data_seed=cfg.seed,
        gradient_checkpointing=False,  # turned on by build_model where the method allows it
        dataloader_num_workers=0,
        remove_unused_columns=False,
        disable_tqdm=True,
        include_num_input_tokens_seen="non_padding",
        ddp_backend="gloo" if distributed_cpu else None,
        ddp_find_unused_parameters=False,
    )


def make_trainer_class():
    """A Trainer whose checkpoints are step-N folders with keep-N, best/ and samples."""
    from transformers import Trainer

    class StudioTrainer(Trainer):
        studio: "StudioHooks"

        def _save_checkpoint(self, model, trial):  # noqa: D401 (transformers' hook)
            super()._save_checkpoint(model, trial)
            if self.args.world_size > 1:
                import torch.distributed as dist

                dist.barrier()  # every rank has written its rng state into checkpoint-N
            if self.is_world_process_zero():
                self.studio.after_save(self.model, self.state)
            if self.args.world_size > 1:
                import torch.distributed as dist

                dist.barrier()

    return StudioTrainer


def train(cfg: TrainConfig, run_dir: Path, resume_step: int = 0) -> dict[str, Any]:
    """Train ``cfg`` into ``run_dir``; resume_step > 0 continues from checkpoints/step-<resume_step>."""
    import torch

    torch.manual_seed(cfg.seed)
    # 1. data and model
    vocab = read_vocab(cfg.dataset)
    model, tokenizer, codec, info = build_model(cfg, vocab)
    train_rows, valid_rows = read_split(cfg.dataset, "train"), read_split(cfg.dataset, "valid")
    train_set = ListDataset(encode_split(codec, train_rows, cfg.max_seq_len))
    eval_set = ListDataset(
        encode_split(codec, valid_rows or train_rows[:8], cfg.max_seq_len, cfg.eval_max_sequences)
    )
    # 2. trainer with our callback and checkpoint hooks
    args = training_arguments(cfg, run_dir / "checkpoints")
    total = cfg.max_steps if cfg.max_steps > 0 else _epoch_steps(cfg, len(train_set), args.world_size)
    recorder = Recorder(run_dir, total, start_step=resume_step, is_main=is_main_process())
    callback = make_callback(recorder)
    trainer = make_trainer_class()(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=make_collator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=[callback],
    )
    decoder = dataset_decoder(dataset_dir(cfg.dataset)) if cfg.sample_count else None
    trainer.studio = StudioHooks(
        cfg, run_dir, tokenizer, codec, recorder, chart_prompts(cfg, valid_rows, vocab), decoder, vocab
    )
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    recorder.begin(
        backend="torch",
        method=cfg.method,
        dataset=cfg.dataset,
        parameters=params,
        trainable_parameters=trainable,
        train_sequences=len(train_set),
        world_size=args.world_size,
        **info,
    )
    # 3. train (from the saved step on Resume)
    resume = str(run_dir / "checkpoints" / f"step-{resume_step}") if resume_step else None
    output = trainer.train(resume_from_checkpoint=resume)
    step = trainer.state.global_step
    if step not in _saved_steps(run_dir):  # Trainer saves the last step itself; this is a safety net
        trainer._save_checkpoint(trainer.model, trial=None)
    if callback.stopped:
        trainer.studio.after_stop(trainer, step)
    state = "stopped" if callback.stopped and step < total else "completed"
    recorder.finish(state, step, train_loss=output.training_loss)
    return {"state": state, "step": step, "train_loss": output.training_loss}


def _saved_steps(run_dir: Path) -> set[int]:
    folder = run_dir / "checkpoints"
    return {int(p.name[5:]) for p in folder.glob("step-*") if p.name[5:].isdigit()}


def _epoch_steps(cfg: TrainConfig, sequences: int, world: int) -> int:
    per_step = cfg.batch_size * cfg.grad_accum * max(1, world)
    return max(1, int(cfg.num_epochs * -(-sequences // per_step)))


def export(run_dir: Path, checkpoint: Path, out_dir: Path) -> dict[str, Any]:
    """A stand-alone model in ``out_dir``: LoRA merged into a full-precision base, or the full weights."""
    import json

    from .torch_models import CARD, load_checkpoint

    model, tokenizer, codec = load_checkpoint(checkpoint)
    card = json.loads((checkpoint / CARD).read_text(encoding="utf-8"))
    if card["method"] in ("lora", "qlora"):
        model = model.merge_and_unload()
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    merged = {
        **card,
        "trained_as": card["method"],
        "method": "full" if card["method"] != "scratch" else "scratch",
    }
    (out_dir / CARD).write_text(json.dumps(merged, indent=2, default=str), encoding="utf-8")
    return {
        "merged": card["method"] in ("lora", "qlora"),
        "vocab_mode": codec.mode,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
