"""mlx backend: mlx-lm LoRA / QLoRA / full fine-tuning, driven through its trainer with our callback.

Same shape as every backend: ``train(cfg, run_dir, resume_step) -> summary``. ``mlx_lm.lora.run``
ignores a passed callback, so this calls ``mlx_lm.tuner.trainer.train`` itself. Checkpoints are
``checkpoints/step-N/{adapters.safetensors, adapter_config.json}``, loadable with
``mlx_lm.load(base, adapter_path=...)``. Resume restores the adapter weights and the step; the
optimizer's moments start afresh (mlx-lm does not save them).
"""

from __future__ import annotations

import json
import logging
import shutil
import types
from pathlib import Path
from typing import Any

from ...common.errors import StudioError
from ..config import TrainConfig
from ..data import dataset_dir, read_split, read_vocab
from ..recorder import Recorder
from ..samples import chart_prompts, dataset_decoder, write_samples

log = logging.getLogger(__name__)


class _StopRequested(Exception):
    """Raised from the callback to leave mlx-lm's loop after Stop & save."""


def load_model(cfg: TrainConfig):
    from mlx_lm.utils import load

    try:
        return load(cfg.base_model)
    except Exception as exc:  # missing folder, offline hub, unsupported architecture
        raise StudioError(
            f"mlx-lm could not load base model {cfg.base_model!r} ({type(exc).__name__}: "
            f"{str(exc)[:200]}); give a local Hugging Face model folder, or download it once "
            "on a connected machine"
        ) from None


def prepare(model: Any, cfg: TrainConfig) -> dict[str, Any]:
    """Freeze the base, quantize it for qlora, add LoRA layers (or unfreeze all for full)."""
    import mlx.nn as nn
    from mlx_lm.tuner.utils import linear_to_lora_layers

    num_layers = len(model.layers)
    if cfg.method == "qlora":
        hidden = model.layers[0].self_attn.q_proj.weight.shape[-1]
        nn.quantize(model, group_size=64 if hidden % 64 == 0 else 32, bits=4)
    model.freeze()
    adapter_config: dict[str, Any] = {
        "fine_tune_type": "full" if cfg.method == "full" else "lora",
        "num_layers": num_layers,
    }
    if cfg.method == "full":
        for layer in model.layers:
            layer.unfreeze()
    else:
        params = {
            "rank": cfg.lora_rank,
            "scale": cfg.lora_alpha / cfg.lora_rank,
            "dropout": cfg.lora_dropout,
            "keys": [k for k in _lora_keys(model, cfg.lora_target_modules)],
        }
        linear_to_lora_layers(model, num_layers, params)
        adapter_config["lora_parameters"] = params
    return adapter_config


def _lora_keys(model: Any, wanted: list[str]) -> list[str]:
    names = [n for n, _ in model.layers[0].named_modules()]
    keys = [n for n in names if n.rsplit(".", 1)[-1] in wanted]
    if not keys:
        raise StudioError(
            f"lora_target_modules {wanted} match no layer of this model ({', '.join(names[:12])})"
        )
    return keys


class Checkpointer:
    """step-N folders, keep-N, best/ by eval loss, samples: the same layout as the torch backend."""

    def __init__(
        self,
        cfg: TrainConfig,
        run_dir: Path,
        model: Any,
        tokenizer: Any,
        adapter_config: dict,
        recorder: Recorder,
    ) -> None:
        self.cfg, self.run_dir, self.model, self.tokenizer = cfg, run_dir, model, tokenizer
        self.adapter_config, self.recorder = adapter_config, recorder
        self.folder = run_dir / "checkpoints"
        self.best_loss: float | None = None
        self.last_eval: float | None = None
        self.saved: set[int] = set()
        self.prompts = chart_prompts(cfg, read_split(cfg.dataset, "valid"), read_vocab(cfg.dataset))
        self.decoder = dataset_decoder(dataset_dir(cfg.dataset)) if cfg.sample_count else None

    def save(self, step: int) -> Path:
        import mlx.core as mx
        from mlx.utils import tree_flatten

        out = self.folder / f"step-{step}"
        out.mkdir(parents=True, exist_ok=True)
        mx.save_safetensors(
            str(out / "adapters.safetensors"), dict(tree_flatten(self.model.trainable_parameters()))
        )
        (out / "adapter_config.json").write_text(json.dumps(self.adapter_config, indent=2))
        card = {
            "method": self.cfg.method,
            "backend": "mlx",
            "base_model": self.cfg.base_model,
            "vocab_mode": "text",
            "dataset": self.cfg.dataset,
            "step": step,
            "eval_loss": self.last_eval,
        }
        (out / "studio_checkpoint.json").write_text(json.dumps(card, indent=2))
        self.saved.add(step)
        if self.best_loss is None or (self.last_eval is not None and self.last_eval <= self.best_loss):
            self.best_loss = self.last_eval if self.last_eval is not None else self.best_loss
            shutil.rmtree(self.folder / "best", ignore_errors=True)
            shutil.copytree(out, self.folder / "best")
        steps = sorted(int(p.name[5:]) for p in self.folder.glob("step-*") if p.name[5:].isdigit())
        for old in steps[: -self.cfg.keep_checkpoints]:
            shutil.rmtree(self.folder / f"step-{old}", ignore_errors=True)
        if self.prompts:
            summary = write_samples(
                self.run_dir / "samples" / f"step-{step}",
                step,
                self.prompts,
                self.generate,
                self.decoder,
                self.cfg.render_audio,
            )
            self.recorder.log(step, sample_decoded_share=summary["decoded_share"], samples=len(self.prompts))
        return out

    def generate(self, prompt: list[str], seed: int) -> list[str]:
        import mlx.core as mx
        from mlx_lm.generate import generate
        from mlx_lm.sample_utils import make_sampler

        mx.random.seed(self.cfg.seed + seed)
        self.model.eval()
        text = generate(
            self.model,
            self.tokenizer,
            prompt=" ".join(prompt),
            max_tokens=self.cfg.sample_max_new_tokens,
            sampler=make_sampler(temp=self.cfg.sample_temperature, top_p=0.95),
        )
        self.model.train()
        return prompt + text.split()


def make_callback(recorder: Recorder, ckpt: Checkpointer, offset: int):
    from mlx_lm.tuner.callbacks import TrainingCallback

    class StudioMlxCallback(TrainingCallback):
        def on_train_loss_report(self, info: dict) -> None:
            step = offset + info["iteration"]
            recorder.log(
                step,
                loss=info["train_loss"],
                lr=info["learning_rate"],
                tokens_seen=info["trained_tokens"],
                peak_mem_gb=round(info["peak_memory"], 3) or None,
            )
            if recorder.stop_requested():
                raise _StopRequested(step)

        def on_val_loss_report(self, info: dict) -> None:
            step = offset + info["iteration"]
            ckpt.last_eval = info["val_loss"]
            recorder.log(step, eval_loss=info["val_loss"])
            if info["iteration"] > 0:
                ckpt.save(step)

    return StudioMlxCallback()


def train(cfg: TrainConfig, run_dir: Path, resume_step: int = 0) -> dict[str, Any]:
    """LoRA/QLoRA/full with mlx-lm into ``run_dir``; resume_step > 0 reloads step-N's adapter."""
    import mlx.core as mx
    import mlx.optimizers as optim
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset
    from mlx_lm.tuner.trainer import TrainingArgs
    from mlx_lm.tuner.trainer import train as mlx_train

    # 1. model, LoRA layers, earlier weights
    mx.random.seed(cfg.seed)
    if not mx.metal.is_available():
        mx.disable_compile()  # on CPU, mx.compile builds C++ kernels with the system compiler: minutes
    model, tokenizer = load_model(cfg)
    if cfg.precision in ("fp16", "bf16"):
        model.set_dtype(mx.float16 if cfg.precision == "fp16" else mx.bfloat16)
    adapter_config = prepare(model, cfg)
    start_from = (
        run_dir / "checkpoints" / f"step-{resume_step}"
        if resume_step
        else (Path(cfg.init_from) if cfg.init_from else None)
    )
    if start_from is not None:
        model.load_weights(str(start_from / "adapters.safetensors"), strict=False)
    # 2. data: the dataset's mlx/ split (plain {"text"} lines)
    data_dir = dataset_dir(cfg.dataset) / "mlx"
    train_set, valid_set, _ = load_local_dataset(data_dir, tokenizer, types.SimpleNamespace())
    if not len(train_set):
        raise StudioError(
            f"{data_dir}/train.jsonl is missing or empty; tokenize the dataset again in the Data tab"
        )
    total = (
        cfg.max_steps if cfg.max_steps > 0 else max(1, int(cfg.num_epochs * len(train_set) // cfg.batch_size))
    )
    # 3. our callback, our checkpoints, mlx-lm's loop
    recorder = Recorder(run_dir, total, start_step=resume_step)
    ckpt = Checkpointer(cfg, run_dir, model, tokenizer, adapter_config, recorder)
    recorder.begin(backend="mlx", method=cfg.method, dataset=cfg.dataset, train_sequences=len(train_set))
    remaining = max(1, total - resume_step)
    schedule = (
        optim.cosine_decay(cfg.learning_rate, remaining)
        if cfg.lr_scheduler == "cosine"
        else cfg.learning_rate
    )
    if cfg.warmup_steps and cfg.lr_scheduler == "cosine":
        warm = optim.linear_schedule(1e-7, cfg.learning_rate, cfg.warmup_steps)
        schedule = optim.join_schedules([warm, schedule], [cfg.warmup_steps])
    args = TrainingArgs(
        batch_size=cfg.batch_size,
        iters=remaining,
        val_batches=max(1, cfg.eval_max_sequences // cfg.batch_size),
        steps_per_report=cfg.logging_steps,
        steps_per_eval=cfg.eval_steps,
        steps_per_save=10**9,
        adapter_file=str(run_dir / "checkpoints" / ".last_adapters.safetensors"),
        max_seq_length=cfg.max_seq_len,
        grad_checkpoint=cfg.gradient_checkpointing,
        grad_accumulation_steps=cfg.grad_accum,
    )
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    stopped = False
    try:
        mlx_train(
            model=model,
            optimizer=optim.AdamW(learning_rate=schedule, weight_decay=cfg.weight_decay),
            train_dataset=CacheDataset(train_set),
            val_dataset=CacheDataset(valid_set) if len(valid_set) else None,
            args=args,
            training_callback=make_callback(recorder, ckpt, resume_step),
        )
        step = total
    except _StopRequested as stop:
        stopped, step = True, int(stop.args[0])
    (run_dir / "checkpoints" / ".last_adapters.safetensors").unlink(missing_ok=True)
    if step not in ckpt.saved:
        ckpt.save(step)
    state = "stopped" if stopped and step < total else "completed"
    recorder.finish(state, step)
    return {"state": state, "step": step}


def export(run_dir: Path, checkpoint: Path, out_dir: Path) -> dict[str, Any]:
    """mlx-lm fuse: the adapter folded into the base weights, saved as an mlx-lm / HF model folder."""
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import load, save

    card = json.loads((checkpoint / "studio_checkpoint.json").read_text(encoding="utf-8"))
    model, tokenizer, config = load(card["base_model"], adapter_path=str(checkpoint), return_config=True)
    fused = [(name, module.fuse()) for name, module in model.named_modules() if hasattr(module, "fuse")]
    if fused:
        model.update_modules(tree_unflatten(fused))
    save(out_dir, card["base_model"], model, tokenizer, config, donate_model=False)
    (out_dir / "studio_checkpoint.json").write_text(
        json.dumps({**card, "trained_as": card["method"], "method": "full"}, indent=2)
    )
    return {"merged": bool(fused), "vocab_mode": "text"}
