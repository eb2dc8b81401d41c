"""Trained-model generation on a tiny random Llama over the studio vocabulary: forced chords, exact bars,
every sequence valid; continuation, regeneration, the metrics panel, novelty, bad input."""
from __future__ import annotations

import json
import random

import pytest

from pipelines.common.errors import StudioError
from pipelines.generate.api import GenerateConfig, generate
from pipelines.generate.model.constrain import RowConstraint, bar_budget
from pipelines.generate.model.events import plan_chart
from pipelines.generate.model.loading import list_models, model_cache
from pipelines.generate.model.play import split_bars
from pipelines.generate.model.sampling import Sampling, TorchStepper, run_rows
from pipelines.music.chords import parse_chart
from pipelines.music.metrics import all_metrics
from pipelines.music.midi_reader import read_midi
from generate_model_fixtures import random_chart, write_tiny_checkpoint

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny_generate"), hidden=32, layers=2)


def chord_marks(words: list[str]) -> list[list[tuple[int, str]]]:
    """(tick, chord word) per bar as they stand in a sequence."""
    out, pos = [], 0
    for word in words:
        if word == "BAR_START":
            out.append([])
        elif word.startswith("POS_"):
            pos = int(word[4:])
        elif word.startswith("CHORD_"):
            out[-1].append((pos, word))
    return out


@pytest.mark.parametrize("meter", [(4, 4), (3, 4)])
def test_100_random_charts_per_meter_decode_with_exact_bars_and_forced_chords(tiny, meter, tmp_path):
    loaded = model_cache().get(str(tiny))
    space, vocab = loaded.space, loaded.space.vocab
    head = ["STYLE_gospel", "TEMPO_120", f"TIMESIG_{meter[0]}/{meter[1]}", "KEY_Cmaj", "SONG_START"]
    prompt = [loaded.bos_id] + [space.id(w) for w in head]
    rng = random.Random(meter[0])
    for batch in range(2):  # 2 x 50 rows, each its own chart and seed, sampled at temperature 1.5
        plans = [plan_chart(parse_chart(random_chart(rng, rng.randint(1, 3))), space, meter) for _ in range(50)]
        cache: dict = {}
        rows = [RowConstraint(space, vocab.state_after(head), p.bars, True,
                              bar_budget(loaded.context_tokens, len(prompt), p.bars, 60), cache=cache) for p in plans]
        reached: dict[int, list] = {}   # positions reported as they are reached, and the row's last word then
        run_rows(TorchStepper(loaded.model), prompt, rows, Sampling(1.5, 0, 1.0),
                 [batch * 100 + i for i in range(50)], loaded.pad_id,
                 on_progress=lambda i, row: reached.setdefault(i, []).append((row.reached, row.words()[-1])))
        for index, (plan, row) in enumerate(zip(plans, rows)):
            marks = [at for at, _ in reached[index]]
            assert marks == sorted(set(marks))   # each position once, in order
            assert all(w.startswith(("POS_", "CHORD_")) for _, w in reached[index])
            assert all((bar, 0) in marks for bar in range(len(plan.bars)))   # every bar's start
            words = head + row.words()
            assert vocab.check(words) == [], (index, words)
            assert words[-1] == "SONG_END" and words.count("BAR_START") == len(plan.bars)
            assert chord_marks(words) == [list(bar.chords) for bar in plan.bars]
            piece = vocab.decode(words)
            assert piece.bars_hint == len(plan.bars)
            assert all(21 <= n.pitch <= 108 for n in piece.notes)
            end = len(plan.bars) * plan.bar_ticks / 12
            assert all(n.end <= end + 1e-9 for n in piece.notes)  # nothing rings past the last bar
            if index < 3:
                back = read_midi(piece.write_midi(tmp_path / f"{batch}-{index}.mid"))
                assert sorted(n.pitch for n in back.notes) == sorted(n.pitch for n in piece.notes)


def test_generate_with_a_checkpoint_writes_takes_whose_metrics_are_the_music_core_s(tiny, tmp_path):
    cfg = GenerateConfig(chords="| Cmaj7 | Am7 D7 | Dm7 G7 | C13b9#11 |", model=str(tiny),
                         backend="torch", bars=4, variations=2,
                         temperature=1.2, top_k=40, top_p=0.9, tempo_bpm=96, out_dir=str(tmp_path),
                         render_audio=False)
    result = generate(cfg)
    assert len(result.takes) == 2 and result.takes[0].tokens != result.takes[1].tokens
    summary = result.summary()
    assert summary["decoding"]["tokens_per_s"] > 0 and summary["bars"] == 4
    assert any("C13b9#11 ->" in s for s in summary["decoding"]["substitutions"])
    for take in result.takes:
        piece = read_midi(take.midi_path)
        assert all_metrics(piece) == take.metrics
        assert [e.chord.symbol for e in piece.chords] == ["Cmaj7", "Am7", "D7", "Dm7", "G7", "C13b9#11"]
        saved = json.loads(take.midi_path.with_suffix(".json").read_text())
        assert saved["tokens"] == take.tokens and saved["metrics"] == take.metrics


def test_regenerate_keeps_the_untouched_bars_byte_for_byte(tiny, tmp_path):
    chart = "| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 | Fmaj7 | E7 |"
    first = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=4,
                                    out_dir=str(tmp_path / "a"), render_audio=False))
    again = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=9,
                                    regenerate_from=str(first.midi_path), regenerate_bars="3-4",
                                    out_dir=str(tmp_path / "b"), render_audio=False))
    old, new = split_bars(first.takes[0].tokens), split_bars(again.takes[0].tokens)
    assert len(new) == 6 and old[:2] == new[:2] and old[4:] == new[4:] and old[2:4] != new[2:4]
    head = first.takes[0].tokens.index("SONG_START")
    assert again.takes[0].tokens[:head] == first.takes[0].tokens[:head]

    def notes_in(piece, bars):
        return [n for n in piece.notes if int(n.start // 4) in bars]

    assert notes_in(first.piece, {0, 1, 4, 5}) == notes_in(again.piece, {0, 1, 4, 5})
    last = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=5,
                                   regenerate_from=str(first.midi_path), regenerate_bars="6",
                                   out_dir=str(tmp_path / "c"), render_audio=False))
    assert split_bars(last.takes[0].tokens)[:5] == old[:5] and last.takes[0].tokens[-1] == "SONG_END"


def test_continuation_keeps_the_primer(tiny, tmp_path):
    from pipelines.data.vocab import Header

    primer = generate(GenerateConfig(chords="| Dm7 | G7 | Cmaj7 |", style="mehldau", seed=2, tempo_bpm=100,
                                     out_dir=str(tmp_path / "p"), render_audio=False))  # the rules engine
    cfg = GenerateConfig(chords="| Fmaj7 | Bb7 |", style="mehldau", model=str(tiny),
                         backend="torch", tempo_bpm=100, key="Cmaj",
                         primer_midi=str(primer.midi_path), out_dir=str(tmp_path / "c"), render_audio=False)
    result = generate(cfg)
    vocab = model_cache().get(str(tiny)).space.vocab
    primer_words = vocab.encode(read_midi(primer.midi_path), Header("mehldau", (), 100.0, (4, 4), "Cmaj"))
    assert split_bars(result.takes[0].tokens)[:3] == split_bars(primer_words)[:3]
    assert result.piece.bars == 5 and result.chart.text().endswith("| Fmaj7 | Bb7 |")
    assert chord_marks(result.takes[0].tokens)[3][0] == (0, "CHORD_Fmaj7")


def test_audio_rendered_while_playing_equals_a_one_shot_render(tiny, tmp_path, caplog):
    """Variations, a continuation and a regenerated middle: every WAV rendered bar by bar during decoding
    is the very file a render of the finished take writes, and none had to start over."""
    import logging

    from pipelines.music.render import render_wav

    chart = "| Cmaj7 | Am7 D7 | Dm7 G7 | Cmaj7 | Fmaj7 |"
    caplog.set_level(logging.INFO, logger="pipelines.music.render")
    played = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=3, variations=2,
                                     out_dir=str(tmp_path / "a")))
    again = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=8,
                                    regenerate_from=str(played.midi_path), regenerate_bars="2-3",
                                    out_dir=str(tmp_path / "b")))
    continued = generate(GenerateConfig(chords="| Bb7 | Ebmaj7 |", model=str(tiny), backend="torch",
                                        primer_midi=str(played.midi_path), out_dir=str(tmp_path / "c")))
    takes = played.takes + again.takes + continued.takes
    assert len(takes) == 4
    for index, take in enumerate(takes):
        one_shot = render_wav(take.piece.to_pretty_midi(), tmp_path / f"one-shot-{index}.wav").path
        assert take.wav_path.read_bytes() == one_shot.read_bytes()
    assert "rendering from the start" not in caplog.text


def test_hf_generate_with_the_grammar_logits_processor_stays_valid(tiny):
    import torch

    from pipelines.generate.model.constrain import GrammarLogitsProcessor

    loaded = model_cache().get(str(tiny))
    space, vocab = loaded.space, loaded.space.vocab
    head = ["STYLE_jazz", "TEMPO_100", "TIMESIG_4/4", "KEY_Fmaj", "SONG_START"]
    plan = plan_chart(parse_chart("| F6 | Gm7 C7 |"), space, (4, 4))
    rows = [RowConstraint(space, vocab.state_after(head), plan.bars, True, 40) for _ in range(3)]
    prompt = torch.tensor([[loaded.bos_id] + [space.id(w) for w in head]] * 3)
    torch.manual_seed(0)
    out = loaded.model.generate(input_ids=prompt, do_sample=True, max_new_tokens=200, top_k=0,
                                logits_processor=[GrammarLogitsProcessor(rows, prompt.shape[1])],
                                eos_token_id=space.id("SONG_END"), pad_token_id=space.id("SONG_END"))
    for ids in out.tolist():
        words = space.words([i for i in ids[prompt.shape[1]:]])
        words = words[:words.index("SONG_END") + 1]
        assert vocab.check(head + words) == [] and words.count("BAR_START") == 2


def test_novelty_finds_bars_copied_from_the_training_corpus():
    from pipelines.generate.model.corpus_profile import NoveltyIndex, bar_hashes

    bar = ["BAR_START", "POS_0", "CHORD_C", "NOTE_60", "DUR_12", "VEL_MF"]
    other = ["BAR_START", "POS_0", "CHORD_F", "NOTE_65", "DUR_12", "VEL_MF"]
    train = [bar_hashes(bar * 5), bar_hashes(other * 2)]
    index = NoveltyIndex(train)
    assert index.novelty(bar * 6 + ["SONG_END"]) == {"longest_copied_bars": 5, "copied_4bar_share": 1.0,
                                                     "windows_4bar": 3}
    fresh = index.novelty(other * 3 + bar)
    assert fresh["longest_copied_bars"] == 2 and fresh["copied_4bar_share"] == 0.0


def test_a_shipped_profiles_novelty_index_is_kept_and_read_back_as_built(tmp_path, studio_home):
    import json

    from pipelines.generate.model.corpus_profile import PROFILE_FILE, NoveltyIndex, bar_hashes, load_evidence

    bar = ["BAR_START", "POS_0", "CHORD_C", "NOTE_60", "DUR_12", "VEL_MF"]
    other = ["BAR_START", "POS_0", "CHORD_F", "NOTE_65", "DUR_12", "VEL_MF"]
    profile = {"sequences": 2, "styles": {"gospel": 2}, "metrics": {"notes_per_bar": 1.0},
               "bar_sequences": [bar_hashes(bar * 5), bar_hashes(other * 2)]}
    (tmp_path / PROFILE_FILE).write_text(json.dumps(profile))
    built = NoveltyIndex(profile["bar_sequences"])
    take = other * 2 + bar * 4 + ["SONG_END"]
    kept = list((studio_home / ".cache" / "generate" / "novelty").glob("*.npz"))
    assert kept == []
    for _ in range(2):   # built and kept, then read back
        meta, index = load_evidence(tmp_path, "", None)
        assert meta == {k: v for k, v in profile.items() if k != "bar_sequences"}
        assert index.novelty(take) == built.novelty(take) == {"longest_copied_bars": 4, "copied_4bar_share": 0.3333,
                                                              "windows_4bar": 3}
        kept = list((studio_home / ".cache" / "generate" / "novelty").glob("*.npz"))
        assert len(kept) == 1
    kept[0].write_bytes(b"PK damaged")
    assert load_evidence(tmp_path, "", None)[1].novelty(take) == built.novelty(take)
    profile["bar_sequences"].append(bar_hashes(take))   # the corpus changes: its old index goes
    (tmp_path / PROFILE_FILE).write_text(json.dumps(profile))
    assert load_evidence(tmp_path, "", None)[1].novelty(take)["copied_4bar_share"] == 1.0
    assert len(list((studio_home / ".cache" / "generate" / "novelty").glob("*.npz"))) == 1
    assert load_evidence(tmp_path / "nothing", "", None) == (None, None)


def test_model_list_names_default_shipped_and_run_checkpoints(tiny, studio_home):
    import shutil

    shutil.copytree(tiny, studio_home / "runs" / "r1" / "checkpoints" / "best")
    shutil.copytree(tiny, studio_home / "models" / "mine")   # what the Train tab's Export writes
    values = [v for _, v in list_models()]
    assert values[0] == "rules" and "runs/r1/best" in values and "models/mine" in values
    for model in ("runs/r1/best", "models/mine"):
        result = generate(GenerateConfig(chords="| C |", model=model, render_audio=False))
        assert result.piece.bars == 1


@pytest.mark.parametrize("changes,message", [
    ({"temperature": 0}, "temperature must be 0.05-5 (got 0)"),
    ({"temperature": 100}, "temperature must be 0.05-5 (got 100)"),
    ({"top_p": 0.0}, "top-p must be in (0, 1] (got 0)"),
    ({"top_p": 1.5}, "top-p must be in (0, 1] (got 1.5)"),
    ({"variations": 9}, "variations must be 1-8"),
    ({"key": "Hmaj"}, "key must be a tonic and maj or min"),
    ({"model": "/nowhere/at/all"}, "model must be one of rules"),
    ({"regenerate_from": "/nowhere.json", "regenerate_bars": "1-2"}, "no saved take at"),
])
def test_bad_input_is_one_sentence(tiny, changes, message):
    cfg = GenerateConfig(chords="| C | F |", model=str(tiny),
                         backend="torch", render_audio=False)
    for key, value in changes.items():
        setattr(cfg, key, value)
    with pytest.raises(StudioError, match=None) as info:
        generate(cfg)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_chart_longer_than_the_context_is_refused(tmp_path):
    small = write_tiny_checkpoint(tmp_path / "small", context=64)
    with pytest.raises(StudioError, match=r"32 bars do not fit in this model's context of 64 tokens"):
        generate(GenerateConfig(chords="| C | F |", bars=32, model=str(small), render_audio=False))


def test_an_adapter_whose_base_is_missing_and_another_tokenizer_are_refused(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/gone/base"}))
    (adapter / "studio_checkpoint.json").write_text(json.dumps({"method": "lora", "base_model": "/gone/base",
                                                                "vocab_mode": "added_tokens"}))
    with pytest.raises(StudioError, match="trained on the base model '/gone/base', which is not a model folder"):
        generate(GenerateConfig(chords="| C |", model=str(adapter), render_audio=False))
    from pipelines.train.data import scratch_tokenizer

    other = write_tiny_checkpoint(tmp_path / "remi")
    scratch_tokenizer(["Bar_None", "Position_0", "Pitch_60", "Velocity_79", "Duration_1.0.8"]).save_pretrained(other)
    with pytest.raises(StudioError, match="was trained on another tokenizer"):
        generate(GenerateConfig(chords="| C |", model=str(other), render_audio=False))


def test_the_onnx_decoder_gives_the_torch_model_s_logits(tiny, tmp_path):
    import numpy as np

    from pipelines.generate.model.onnx_backend import OnnxDecoder
    from pipelines.generate.model.onnx_export import export_onnx

    loaded = model_cache().get(str(tiny))
    onnx = OnnxDecoder(export_onnx(loaded.model, tmp_path / "decoder.onnx"), loaded.model).stepper()
    torch_stepper = TorchStepper(loaded.model)
    prompt = np.array([[1, 5, 6, 7], [1, 8, 9, 10]])
    assert np.abs(onnx.prefill(prompt) - torch_stepper.prefill(prompt)).max() < 1e-4
    for feed in (np.array([[11], [12]]), np.array([[13, 14, 15], [16, 17, 18]])):
        assert np.abs(onnx.step(feed) - torch_stepper.step(feed)).max() < 1e-4


def test_auto_backend_measures_both_and_keeps_the_faster(tiny, tmp_path, studio_home):
    cfg = GenerateConfig(chords="| Dm7 G7 | Cmaj7 |", model=str(tiny), variations=2, out_dir=str(tmp_path),
                         render_audio=False)
    result = generate(cfg)
    decision = json.loads(next((studio_home / ".cache" / "onnx").glob("*/decision.json")).read_text())
    assert decision["torch_s"] > 0 and decision["onnxruntime_s"] > 0
    assert result.decoding["backend"] == decision["backend"]
    forced = generate(GenerateConfig(chords="| Dm7 G7 | Cmaj7 |", model=str(tiny), backend="onnxruntime",
                                     out_dir=str(tmp_path / "onnx"), render_audio=False))
    assert forced.decoding["backend"] == "onnxruntime" and forced.piece.bars == 2
    assert chord_marks(forced.takes[0].tokens) == [[(0, "CHORD_Dm7"), (24, "CHORD_G7")], [(0, "CHORD_Cmaj7")]]


def grouped_llama():
    """A random 2-layer Llama unlike the tiny checkpoint: 2 kv heads for 4 query heads, head_dim 32 (not
    hidden / heads, and a multiple of 16: the rotary inside attention), llama3 rope scaling, an untied
    head, biases on every projection."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(1)
    rope = {"rope_type": "llama3", "factor": 8.0, "rope_theta": 500000.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    config = LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                         max_position_embeddings=512, tie_word_embeddings=False, rope_parameters=rope,
                         attention_bias=True, mlp_bias=True)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(".bias"):
                parameter.normal_(0.0, 0.5)
    return model


@pytest.mark.parametrize("which,batch", [("tiny", 1), ("tiny", 2), ("grouped", 1), ("grouped", 3)])
def test_the_float_graph_follows_torch_past_the_cache_s_growth(tiny, tmp_path, which, batch):
    import numpy as np

    from pipelines.generate.model.onnx_backend import OnnxDecoder
    from pipelines.generate.model.onnx_export import export_onnx

    model = model_cache().get(str(tiny)).model if which == "tiny" else grouped_llama()
    onnx = OnnxDecoder(export_onnx(model, tmp_path / "decoder.onnx"), model).stepper()
    torch_stepper = TorchStepper(model)
    rng = np.random.default_rng(batch)
    prompt = rng.integers(0, model.config.vocab_size, (batch, 5))
    worst = np.abs(onnx.prefill(prompt) - torch_stepper.prefill(prompt)).max()
    for index in range(150):  # runs of 1 and 3 ids to 305 positions: the cache grows 64 -> 128 -> 256 -> 512
        feed = rng.integers(0, model.config.vocab_size, (batch, 1 + 2 * (index % 2)))
        worst = max(worst, np.abs(onnx.step(feed) - torch_stepper.step(feed)).max())
    assert onnx.filled == 305 and onnx.buffers[0].shape[2] == 512
    assert worst < 1e-4


def test_quantised_graphs_are_kept_only_within_the_kl_bound(tiny, studio_home, monkeypatch):
    from pipelines.generate.model import onnx_backend, onnx_export

    loaded = model_cache().get(str(tiny))
    decision = onnx_backend.choose_backend(loaded, trial_tokens=48)
    for kind in onnx_export.QUANTIZED:
        assert decision[f"onnxruntime_{kind}_s"] > 0 and decision[f"{kind}_mean_kl"] >= 0
        assert 0 <= decision[f"{kind}_top1_agreement"] <= 1
        assert decision[f"{kind}_max_kl"] == onnx_backend.QUANTIZED_MAX_KL
    kept = {name: kind for kind, name in onnx_export.GRAPHS.items()}[decision["graph"]]
    assert kept == "float" or decision[f"{kept}_mean_kl"] <= onnx_backend.QUANTIZED_MAX_KL
    monkeypatch.setattr(onnx_backend, "QUANTIZED_MAX_KL", -1.0)  # nothing quantised is faithful enough now
    next((studio_home / ".cache" / "onnx").glob("*/decision.json")).unlink()
    decision = onnx_backend.choose_backend(loaded, trial_tokens=48)
    assert decision["graph"] == "decoder.onnx" and decision["int4_kv8_max_kl"] == -1.0


def test_cli_with_a_checkpoint_variations_and_regenerate(tiny, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "pipelines.generate", *args], cwd=repo, capture_output=True,
                              text=True, timeout=300)

    out = tmp_path / "take.mid"
    done = cli("--chords", "| Cmaj7 | Am7 | Dm7 G7 |", "--style", "gospel", "--model", str(tiny), "--variations", "2",
               "--backend", "torch", "--temperature", "1.1", "--top-k", "30", "--key", "Cmaj", "--out", str(out))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert len(summary["variations"]) == 2 and Path(summary["variations"][1]["midi"]).parent == tmp_path
    again = cli("--chords", "| C |", "--style", "gospel", "--model", str(tiny), "--regenerate", str(out),
                "--regenerate-bars", "2", "--backend", "torch", "--out", str(tmp_path / "again.mid"))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["bars"] == 3
    if not (repo / "checkpoints" / "default").is_dir():
        missing = cli("--chords", "| C |", "--style", "gospel", "--model", "default", "--out", str(tmp_path / "x.mid"))
        assert missing.returncode == 2 and "no default model is shipped in checkpoints/default" in missing.stderr


@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, 0, 1.0), (0.5, 0, 1.0), (1.0, 2, 1.0), (1.0, 0, 0.6)])
def test_sampling_draws_from_the_tempered_truncated_softmax(temperature, top_k, top_p):
    import numpy as np

    from pipelines.generate.model.sampling import sample

    logits = np.array([9.0, 1.0, 2.0, 0.5, 1.5, 3.0, -1.0], dtype=np.float32)   # id 0 is never allowed
    allowed = np.array([1, 2, 3, 4, 5])
    p = np.exp(logits[allowed] / temperature)
    p /= p.sum()
    keep = np.argsort(-p)[:top_k] if top_k else np.argsort(-p)
    if top_p < 1.0:   # the fewest most likely ids whose mass reaches top_p
        keep = keep[:int(np.searchsorted(np.cumsum(p[keep]), top_p)) + 1]
    expected = np.zeros_like(p)
    expected[keep] = p[keep] / p[keep].sum()
    rng = np.random.default_rng(0)
    draws = [sample(logits, allowed, Sampling(temperature, top_k, top_p), rng) for _ in range(20_000)]
    seen = np.array([draws.count(i) for i in allowed]) / len(draws)
    assert np.abs(seen - expected).max() < 0.015
    assert sample(logits, np.array([4]), Sampling(), rng) == 4


def test_warm_up_prepares_the_decoder_once_and_never_raises(tiny, studio_home):
    import json
    import shutil
    import threading

    from pipelines.generate.model.corpus_profile import PROFILE_FILE
    from pipelines.generate.model.loading import models_in_use
    from pipelines.generate.model.takes import warm_up

    ready = warm_up(str(tiny))
    assert ready["backend"] in ("torch", "onnxruntime")
    assert list((studio_home / ".cache" / "onnx").glob("*/decision.json"))
    shipped = studio_home / "shipped"   # a model with its corpus profile: the novelty index is kept too
    shutil.copytree(tiny, shipped)
    (shipped / PROFILE_FILE).write_text(json.dumps({"sequences": 1, "styles": {}, "metrics": {},
                                                    "bar_sequences": [[5, 6, 7, 8, 9]]}))
    assert "error" not in warm_up(str(shipped))
    assert len(list((studio_home / ".cache" / "generate" / "novelty").glob("*.npz"))) == 1
    assert "error" in warm_up(str(studio_home / "no-such-model"))
    heard: list[str] = []   # a take asked for while another holds the models waits, and says so
    with models_in_use():
        waiting = threading.Thread(target=lambda: generate(GenerateConfig(
            chords="| C |", model=str(tiny), render_audio=False, out_dir=str(studio_home / "w")),
            progress=lambda f, m: heard.append(m)))
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive()
    waiting.join(timeout=120)
    assert not waiting.is_alive() and "waiting for the take being generated to finish" in heard
