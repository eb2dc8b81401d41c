"""Tokenize: splits by source, augmentation of train only, sequences cut at bars, files the trainer reads."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.common.config import load_config
from pipelines.common.errors import StudioError
from pipelines.data import load_tokenizer
from pipelines.data.augment import AugmentConfig, allowed_shifts, augmented_pieces
from pipelines.data.build import SplitConfig, cut_sequences, split_sources, tokenize_dataset
from pipelines.data.analysis import plots_dir
from pipelines.data.dataset import dataset_dir
from pipelines.data.ingest import IngestConfig, ingest
from pipelines.data.tokenizers import TokenizerConfig
from pipelines.music.chords import parse_chord
from pipelines.music.piece import ChordEvent, Note, Piece

REPO = Path(__file__).resolve().parents[1]


def make_song(path: Path, low: int, bars: int = 8, tempo: float = 96.0) -> Path:
    notes = []
    for bar in range(bars):
        notes.append(Note(bar * 4.0, low + (bar % 3), 4.0, 60))
        notes += [Note(bar * 4.0 + beat, low + 24 + (beat * 3 + bar) % 12, 0.5, 90) for beat in range(4)]
    chords = [ChordEvent(bar * 4.0, 4.0, parse_chord(["Cmaj7", "A7b9", "Dm9", "G13"][bar % 4])) for bar in range(bars)]
    return Piece(notes=notes, tempo_bpm=tempo, chords=chords).write_midi(path)


@pytest.fixture
def songs_dataset(tmp_path) -> str:
    paths = [make_song(tmp_path / f"song{i}.mid", 30 + 3 * i, bars=6 + i) for i in range(10)]
    ingest(paths[:6], IngestConfig(dataset="songs", style="gospel", labels=["mood:calm"]))
    ingest(paths[6:], IngestConfig(dataset="songs", style="mehldau"))
    return "songs"


def _lines(name: str, part: str) -> list[dict]:
    path = dataset_dir(name) / "tokens" / f"{part}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_studio_dataset_files_follow_the_contract(songs_dataset):
    cfg = TokenizerConfig(kind="studio", max_seq_len=128)
    augment = AugmentConfig(transpose=2, tempo_pct=10, velocity_jitter=5, seed=1)
    summary = tokenize_dataset(songs_dataset, cfg, augment, SplitConfig(0.2, 0.2, seed=3))
    folder = dataset_dir(songs_dataset)
    meta = json.loads((folder / "meta.json").read_text())
    tok = load_tokenizer(folder)
    assert tok.kind == "studio" and tok.vocab == tok.vocabulary.tokens and len(tok.vocab) == summary["vocab_size"]
    sources = {part: {line["source"] for line in _lines(songs_dataset, part)} for part in ("train", "valid", "test")}
    assert all(sources.values())
    assert not (sources["train"] & sources["valid"] or sources["train"] & sources["test"]
                or sources["valid"] & sources["test"])
    assert {part: sorted(s) for part, s in sources.items()} == meta["splits"]
    for part in ("train", "valid", "test"):
        for line in _lines(songs_dataset, part):
            assert set(line) == {"text", "ids", "style", "source"}
            tokens = line["text"].split()
            assert len(tokens) == len(line["ids"]) <= 128
            assert tok.ids(tokens) == line["ids"]
            assert tokens[0] == f"STYLE_{line['style']}"
            assert tok.vocabulary.check(tokens) == []          # every piece is a whole, valid sequence
            assert tokens[-1] == "SONG_END" or tokens[-1] != "BAR_START"
    # augmentation: train only, recorded, and every copy stays on the piano
    assert meta["augmentation"]["transpose"] == 2 and meta["augmentation"]["train_copies"] > 0
    assert len(_lines(songs_dataset, "train")) > meta["counts"]["train"]["files"]
    for line in _lines(songs_dataset, "train"):
        pitches = [int(t[5:]) for t in line["text"].split() if t.startswith("NOTE_")]
        assert all(21 <= p <= 108 for p in pitches)
    mlx = [json.loads(x) for x in (folder / "mlx" / "train.jsonl").read_text().splitlines()]
    assert [m["text"] for m in mlx] == [line["text"] for line in _lines(songs_dataset, "train")]
    assert (folder / "mlx" / "valid.jsonl").is_file()
    assert meta["round_trip"]["overall"] == 1.0 and len(meta["round_trip"]["per_file"]) == 10
    every_text = " ".join(line["text"] for part in ("train", "valid", "test") for line in _lines(songs_dataset, part))
    assert "CHORD_A7b9" in every_text and "CHORD_G13" in every_text   # the MIDI's chart, as written


def test_remi_dataset_decodes_from_ids(songs_dataset):
    tokenize_dataset(songs_dataset, TokenizerConfig(kind="remi", max_seq_len=256))
    tok = load_tokenizer(dataset_dir(songs_dataset) / "tokenizer.json")
    assert tok.kind == "remi"
    line = _lines(songs_dataset, "train")[0]
    assert line["text"].split()[0].startswith("STYLE_")
    assert len(tok.decode(line["ids"]).notes) > 0
    meta = json.loads((dataset_dir(songs_dataset) / "meta.json").read_text())
    assert meta["round_trip"]["overall"] == 1.0


def test_remi_with_bpe_compresses_and_decodes_the_same(songs_dataset):
    tokenize_dataset(songs_dataset, TokenizerConfig(kind="remi", max_seq_len=512, bpe_vocab_size=520))
    tok = load_tokenizer(dataset_dir(songs_dataset))
    assert len(tok.vocab) == 520
    line = _lines(songs_dataset, "train")[0]
    words = line["text"].split()
    assert len(line["ids"]) < len(words)                  # learned merges shorten the id sequence
    assert tok.ids(words) == line["ids"]
    by_ids, by_words = tok.decode(line["ids"]), tok.decode(words)
    assert [(n.pitch, n.start) for n in by_ids.notes] == [(n.pitch, n.start) for n in by_words.notes]


def test_splits_are_seeded_and_disjoint():
    hashes = [f"{i:032x}" for i in range(50)]
    first = split_sources(hashes, SplitConfig(0.1, 0.2, seed=7))
    assert first == split_sources(list(reversed(hashes)), SplitConfig(0.1, 0.2, seed=7))
    assert first != split_sources(hashes, SplitConfig(0.1, 0.2, seed=8))
    assert sorted(sum(first.values(), [])) == hashes
    assert (len(first["valid"]), len(first["test"])) == (5, 10)
    with pytest.raises(StudioError, match="leave files for training"):
        SplitConfig(0.5, 0.5)


def test_cut_sequences_keeps_whole_bars_and_the_header():
    bars = [["BAR_START"] + ["x"] * n for n in (5, 9, 3, 40, 2)]
    sequences, dropped = cut_sequences(["H1", "H2"], bars, "S", "E", max_len=20)
    assert dropped == 1                                     # the 41-token bar cannot fit
    assert all(seq[:2] == ["H1", "H2"] and len(seq) <= 20 for seq in sequences)
    assert sequences[0][2] == "S" and sequences[-1][-1] == "E"
    body = [t for seq in sequences for t in seq if t not in ("H1", "H2", "S", "E")]
    assert body == [t for bar in bars if len(bar) <= 16 for t in bar]


def test_augmented_copies_stay_in_the_piano_and_move_the_chart():
    piece = Piece(notes=[Note(0.0, 23, 1.0), Note(1.0, 105, 1.0)], chords=[ChordEvent(0, 4, parse_chord("Ebmaj7/G"))])
    assert allowed_shifts([23, 105], 4) == [-2, -1, 1, 2, 3]
    copies = dict(augmented_pieces(piece, AugmentConfig(transpose=4, tempo_pct=10, velocity_jitter=10), "h"))
    assert set(copies) == {"transpose-2", "transpose-1", "transpose+1", "transpose+2", "transpose+3",
                           "tempo-10%", "tempo+10%"}
    for copy in copies.values():
        assert all(21 <= n.pitch <= 108 and 1 <= n.velocity <= 127 for n in copy.notes)
    assert copies["transpose+2"].chords[0].chord.name == "Fmaj7/A"
    assert copies["tempo+10%"].tempo_bpm == pytest.approx(132.0)
    with pytest.raises(StudioError, match="transpose must be 0-12"):
        AugmentConfig(transpose=20)


def test_every_tokenizer_preset_loads():
    presets = sorted((REPO / "configs" / "tokenizers").glob("*.yaml"))
    assert {"studio", "remi", "tsd"} <= {p.stem for p in presets}
    for path in presets:
        load_config(TokenizerConfig, path)
    with pytest.raises(StudioError, match="max_seq_len"):
        TokenizerConfig(max_seq_len=5)


def test_cli_ingest_tokenize_stats(tmp_path, studio_home):
    song = make_song(tmp_path / "cli.mid", 40)
    (tmp_path / "bad.mid").write_bytes(b"nope")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipelines.data", *args], cwd=REPO, capture_output=True,
                              text=True, timeout=120, env={**__import__("os").environ, "STUDIO_HOME": str(studio_home)})

    done = cli("ingest", str(song), str(tmp_path / "bad.mid"), "--dataset", "cli", "--style", "jazz")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == 1
    done = cli("tokenize", "cli", "--tokenizer", "tsd", "--augment", "transpose=1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tokenizer"] == "tsd"
    assert json.loads(done.stdout)["round_trip_overall"] == 1.0
    done = cli("stats", "cli")
    stats = json.loads(done.stdout)
    assert stats["files"] == 1 and stats["time_signatures"] == {"4/4": 1} and stats["chords"]["distinct"] >= 1
    assert stats["duration_s"]["min"] == stats["duration_s"]["max"] > 10 and sum(stats["pitch"]["histogram"]) == 40
    assert (plots_dir("cli") / "stats.png").is_file() and not (dataset_dir("cli") / "plots").exists()
    done = cli("tokenize", "missing")
    assert done.returncode == 2 and "there is no dataset 'missing'" in done.stderr
    done = cli("tokenize", "cli", "--augment", "transpose=99")
    assert done.returncode == 2 and "transpose must be 0-12" in done.stderr


def test_round_trip_preview_renders_both_sides(songs_dataset):
    import soundfile

    from pipelines.data.dataset import read_manifest
    from pipelines.data.preview import round_trip_preview

    entry = read_manifest(dataset_dir(songs_dataset))[0]
    result = round_trip_preview(songs_dataset, entry["hash"], max_beats=8)
    assert result["tokenizer"] == "studio" and result["share"] == 1.0 and result["total"] == entry["notes"]
    for key in ("original_wav", "round_trip_wav"):
        audio, rate = soundfile.read(result[key])
        assert rate == 44_100 and len(audio) > rate          # more than a second of sound
    with pytest.raises(StudioError, match="no file with hash"):
        round_trip_preview(songs_dataset, "0" * 32)


def test_bootstrap_fills_a_dataset_from_the_rule_engines():
    from pipelines.data.dataset import read_manifest
    from pipelines.generate.corpus import bootstrap_dataset

    report = bootstrap_dataset("boot", "gospel", n=3, seed=2)
    assert report["kept"] == 3
    entries = read_manifest(dataset_dir("boot"))
    assert {e["style"] for e in entries} == {"gospel"} and all(e["chart"] for e in entries)
    assert entries[0]["labels"] == ["source:rules"]
    with pytest.raises(StudioError, match="styles gospel, mehldau"):
        bootstrap_dataset("boot", "polka", n=3)


def test_plots_reach_the_page_as_private_copies_wherever_the_workspace_is(monkeypatch, tmp_path):
    """A Docker studio keeps its workspace in /data, outside the app's folder and the temp folder: the
    plots' folder is never served (its path names the dataset); the page gets a copy in a temp folder,
    which Gradio copies into its cache."""
    import importlib.util
    import tempfile

    from studio.common import shown_copy

    monkeypatch.setenv("STUDIO_HOME", "/data")
    spec = importlib.util.spec_from_file_location("studio_app", Path(__file__).resolve().parents[1] / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    assert not any(plots_dir("songs").is_relative_to(folder) for folder in map(Path, app.served_folders()))
    assert any(plots_dir("songs").is_relative_to(folder) for folder in map(Path, app.blocked_folders()))
    plot = tmp_path / "songs" / "stats.png"
    plot.parent.mkdir()
    plot.write_bytes(b"a plot")
    copy = Path(shown_copy(plot))
    assert copy.is_relative_to(Path(tempfile.gettempdir())) and copy.read_bytes() == b"a plot"
    assert "songs" not in str(copy.parent) and copy != plot
