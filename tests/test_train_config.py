"""Train config, presets, refusals and failure messages: fast, no model loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.common.errors import StudioError
from pipelines.train.checks import Machine, check_runnable
from pipelines.train.config import TrainConfig, form_fields, list_presets, load_train_config
from pipelines.train.failures import explain_failure
from pipelines.train.status import ema, loss_series

PRESETS = [
    "full_finetune",
    "mlx_16gb",
    "qlora_default",
    "qlora_fast",
    "qlora_production",
    "scratch_small",
    "stage1_general",
    "stage2_gospel",
]
CPU_ONLY = Machine(
    cuda_devices=0,
    mps=False,
    cpu_bf16=False,
    has_bitsandbytes=True,
    has_peft=True,
    has_mlx=False,
    has_torchrun=True,
)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads(name):
    cfg = load_train_config(name, {"dataset": "x"})
    assert isinstance(cfg, TrainConfig)
    assert name in list_presets()


def test_stage_presets_follow_the_issue():
    one, two = load_train_config("stage1_general"), load_train_config("stage2_gospel")
    for cfg in (one, two):
        assert (cfg.lora_rank, cfg.lora_alpha, cfg.batch_size, cfg.grad_accum) == (32, 64, 1, 8)
        assert cfg.gradient_checkpointing and cfg.max_seq_len == 4096 and cfg.keep_checkpoints == 3
    assert (one.lora_dropout, one.learning_rate, one.warmup_steps) == (0.1, 2e-4, 200)
    assert (two.lora_dropout, two.learning_rate, two.warmup_steps) == (0.05, 5e-5, 100)
    mlx = load_train_config("mlx_16gb")
    assert (mlx.backend, mlx.batch_size, mlx.grad_accum, mlx.precision, mlx.max_seq_len) == (
        "mlx",
        2,
        8,
        "fp16",
        512,
    )


def test_scratch_small_is_5_to_25_million_parameters():
    cfg = load_train_config("scratch_small")
    vocab = 2232  # the studio event vocabulary of a two-style dataset
    h, f, n = cfg.scratch_hidden, cfg.scratch_intermediate, cfg.scratch_layers
    params = vocab * h + n * (4 * h * h + 3 * h * f + 2 * h) + h
    assert 5e6 <= params <= 25e6, params


def test_unknown_keys_and_bad_values_name_the_key():
    with pytest.raises(StudioError, match="unknown key lora_rnak"):
        load_train_config(None, {"lora_rnak": "8"})
    with pytest.raises(StudioError, match=r"lora_rank must be 1-1024 \(got 0\)"):
        load_train_config(None, {"lora_rank": "0"})
    with pytest.raises(StudioError, match="method must be one of"):
        load_train_config(None, {"method": "dora"})
    assert load_train_config(None, {"learning_rate": "1e-5"}).learning_rate == 1e-5


def test_form_fields_come_from_the_dataclass():
    fields = {f["name"]: f for f in form_fields()}
    assert fields["method"]["kind"] == "choice" and fields["method"]["choices"] == [
        "lora",
        "qlora",
        "full",
        "scratch",
    ]
    assert fields["gradient_checkpointing"]["kind"] == "bool"
    assert fields["lora_rank"]["kind"] == "int" and fields["learning_rate"]["kind"] == "float"
    assert fields["sample_charts"]["kind"] == "list"


@pytest.mark.parametrize(
    "overrides,machine,message",
    [
        (
            {"method": "qlora"},
            CPU_ONLY.__class__(**{**CPU_ONLY.__dict__, "has_bitsandbytes": False}),
            "method qlora needs bitsandbytes.*pick method lora",
        ),
        (
            {"backend": "mlx", "vocab_mode": "text"},
            CPU_ONLY,
            "backend mlx needs mlx and mlx-lm.*pick backend torch",
        ),
        (
            {"backend": "mlx", "vocab_mode": "added_tokens"},
            CPU_ONLY.__class__(**{**CPU_ONLY.__dict__, "has_mlx": True}),
            "set vocab_mode text",
        ),
        (
            {"precision": "bf16"},
            CPU_ONLY,
            "precision bf16 needs a GPU or a CPU with bf16.*pick precision fp32",
        ),
        ({"precision": "fp16"}, CPU_ONLY, "fp16 .*needs a CUDA GPU"),
        ({"device": "cuda"}, CPU_ONLY, "no NVIDIA GPU; pick device auto or cpu"),
        ({"device": "cuda", "num_processes": 2}, CPU_ONLY, "no NVIDIA GPU"),
        ({"base_model": ""}, CPU_ONLY, "set base_model.*or pick method scratch"),
    ],
)
def test_refusals_say_why_and_what_instead(overrides, machine, message):
    cfg = load_train_config(None, {"base_model": "some/model", **overrides})
    with pytest.raises(StudioError, match=message):
        check_runnable(cfg, machine)


def test_tracking_is_refused_when_its_package_is_missing():
    from pipelines.train.checks import _has

    missing = next((t for t in ("trackio", "wandb", "tensorboard") if not _has(t)), None)
    if missing is None:
        pytest.skip("every tracking package is installed here")
    cfg = load_train_config(None, {"base_model": "m", "tracking": missing})
    with pytest.raises(
        StudioError, match=f"tracking {missing} is chosen but .* not installed.*pick tracking none"
    ):
        check_runnable(cfg, CPU_ONLY)


def test_cli_refuses_with_one_sentence_and_exit_2(studio_home):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.train",
            "start",
            "--set",
            "precision=fp16",
            "--set",
            "base_model=x",
            "--set",
            "device=cpu",
            "--set",
            "dataset=none",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: precision fp16") and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.train", "status", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "no run named 'nope'" in proc.stderr


@pytest.mark.parametrize(
    "tail,code,expected",
    [
        ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate", 1, "the GPU ran out of memory"),
        (
            "[METAL] Command buffer execution failed: Insufficient Memory",
            1,
            "Apple GPU (Metal) memory ran out",
        ),
        (
            "RuntimeError: [enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate",
            1,
            "out of memory (RAM)",
        ),
        ("step 12 loss 3.2", -9, "killed by a signal from outside the studio (SIGKILL)"),
        ("step 12 loss 3.2", 137, "killed by a signal from outside the studio (SIGKILL)"),
        ("step 12 loss 3.2", -15, "killed by a signal from outside the studio (SIGTERM)"),
        ("error: dataset 'x' has no tokens", 2, "bad config or input: dataset 'x'"),
        ("ValueError: something odd", 1, "exited with status 1: ValueError: something odd"),
    ],
)
def test_failures_become_plain_sentences(tail, code, expected):
    assert expected in explain_failure(tail, code)


def test_out_of_memory_only_when_the_system_counted_it(tmp_path):
    from pipelines.train.process import oom_kill_count, read_counter

    assert "ran out of memory" in explain_failure("step 12", -9, oom_killed=True)
    assert "out of memory" not in explain_failure("step 12", -9, oom_killed=False)
    assert "not readable" in explain_failure("step 12", -9, oom_killed=None)
    events = tmp_path / "memory.events"  # the cgroup v2 file's shape
    events.write_text("low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n")
    assert read_counter(events, "oom_kill") == 1 and read_counter(events, "absent") is None
    count = oom_kill_count()  # this machine's own counter (cgroup v1/v2 or /proc/vmstat)
    assert count is None or count >= 0


def test_ema_and_resume_marks():
    assert ema([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])
    smooth = ema([4.0, 2.0, 4.0, 2.0], 0.5)
    assert max(smooth) - min(smooth) < 2.0
    series = loss_series(
        [{"step": 1, "loss": 3.0}, {"event": "resume", "step": 1}, {"step": 2, "eval_loss": 2.0}]
    )
    assert series == {"train": [(1, 3.0)], "eval": [(2, 2.0)], "resumes": [1]}


def test_samples_decode_to_midi_and_audio_with_the_dataset_tokenizer(studio_home, tmp_path):
    from train_fixtures import write_dataset

    from pipelines.train.data import read_split, read_vocab
    from pipelines.train.samples import chart_prompts, dataset_decoder, write_samples

    root = write_dataset(studio_home)
    rows = read_split("tiny", "valid")
    cfg = load_train_config(None, {"dataset": "tiny", "sample_count": 2})
    prompts = chart_prompts(cfg, rows, read_vocab("tiny"))
    assert prompts[0][-1] == "CHORD_Cmaj7" and prompts[0][0].startswith("STYLE_")
    perfect = lambda prompt, seed: rows[seed]["text"].split()  # noqa: E731  (a model that writes real pieces)
    broken = lambda prompt, seed: prompt + ["NOTE_60"] * (seed + 1)  # noqa: E731
    good = write_samples(tmp_path / "good", 5, prompts, perfect, dataset_decoder(root), render_audio=True)
    assert good["decoded_share"] == 1.0 and (tmp_path / "good" / "sample-0.mid").is_file()
    assert (tmp_path / "good" / "sample-1.wav").stat().st_size > 1000
    bad = write_samples(tmp_path / "bad", 5, prompts, broken, dataset_decoder(root), render_audio=False)
    assert bad["decoded_share"] < 1.0 and "error" in bad["samples"][0]


def test_form_round_trip_and_preview():
    from pipelines.train.forms import field_names, form_config, form_preview, grouped_fields, preset_values

    values = preset_values("stage2_gospel")
    cfg, overrides = form_config("stage2_gospel", values)  # the untouched form is the preset
    assert overrides == {} and cfg.learning_rate == 5e-5
    assert set(field_names()) == set(values) and "LoRA" in grouped_fields()
    values.update(dataset="gospel", lora_rank=8, lora_target_modules="q_proj, v_proj")
    command = form_preview("stage2_gospel", values)
    assert command == (
        "python -m pipelines.train start configs/train/stage2_gospel.yaml --set dataset=gospel "
        "--set lora_rank=8 --set lora_target_modules=q_proj,v_proj"
    )
