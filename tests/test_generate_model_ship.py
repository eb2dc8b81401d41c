"""Shipping a checkpoint: model files, the corpus profile (figures and novelty without the dataset) and a card."""
from __future__ import annotations

import json

from generate_model_fixtures import write_tiny_checkpoint


def write_token_dataset(home, name: str = "mini") -> list[list[str]]:
    """datasets/<name>/tokens/train.jsonl made from rule-based takes encoded with the studio vocabulary."""
    from pipelines.data.vocab import Header, Vocabulary
    from pipelines.generate.rules import perform_chart
    from pipelines.music.chords import parse_chart

    vocab = Vocabulary()
    rows = []
    for seed, chart in enumerate(["| Dm7 | G7 | Cmaj7 | A7 |", "| Fmaj7 | Bb7 | Em7 | A7 |"]):
        piece = perform_chart(parse_chart(chart), "gospel", 90.0, seed)
        rows.append(vocab.encode(piece, Header("gospel", (), 90.0, (4, 4), "Cmaj")))
    folder = home / "datasets" / name / "tokens"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("".join(json.dumps({"text": " ".join(r), "style": "gospel"}) + "\n"
                                                for r in rows))
    return rows


def test_ship_writes_profile_and_card_and_the_shipped_model_needs_no_dataset(studio_home, tmp_path, monkeypatch):
    import shutil

    from pipelines.generate.api import GenerateConfig, generate
    from pipelines.generate.model import loading, ship

    rows = write_token_dataset(studio_home)
    source = write_tiny_checkpoint(tmp_path / "run-best")
    shipped_root = tmp_path / "checkpoints"
    monkeypatch.setattr(ship, "checkpoints_dir", lambda: shipped_root)
    monkeypatch.setattr(loading, "checkpoints_dir", lambda: shipped_root)
    done = ship.ship_checkpoint(str(source), "default", "mini", notes="A test model.")
    dest = shipped_root / "default"
    assert {"model.safetensors", "tokenizer.json", "corpus_profile.json", "README.md"} <= set(done["files"])
    profile = json.loads((dest / "corpus_profile.json").read_text())
    assert profile["sequences"] == 2 and profile["metrics"]["chord_accuracy_root"] > 0.5
    assert "A test model." in (dest / "README.md").read_text()
    assert ("default (checkpoints/default)", "default") in loading.list_models()
    shutil.rmtree(studio_home / "datasets")  # the shipped profile stands in for the dataset
    result = generate(GenerateConfig(chords="| Dm7 | G7 | Cmaj7 | A7 |", model="default", backend="torch",
                                     render_audio=False))
    assert result.corpus_metrics == profile["metrics"] and result.takes[0].novelty is not None
    copied = generate(GenerateConfig(chords="| C |", model="default", backend="torch", render_audio=False))
    assert copied.takes[0].novelty["windows_4bar"] == 0 and len(rows) == 2


def test_every_shipped_checkpoint_loads_and_plays_a_chart(tmp_path):
    """checkpoints/<name> in the repository: each one (model or adapter) plays 4 bars with the chords forced."""
    from pipelines.common.paths import checkpoints_dir
    from pipelines.generate.api import GenerateConfig, generate
    from pipelines.generate.model.loading import list_models

    shipped = [value for _, value in list_models() if value == "default" or value.startswith("checkpoints/")]
    if not shipped:
        import pytest

        pytest.skip(f"no checkpoint is shipped in {checkpoints_dir()}")
    for value in shipped:
        result = generate(GenerateConfig(chords="| Dm7 | G7 | Cmaj7 | A7b9 |", model=value, backend="torch",
                                         out_dir=str(tmp_path / value.replace("/", "-")), render_audio=False))
        assert result.piece.bars == 4 and result.corpus_metrics is not None, value
        assert [w for w in result.takes[0].tokens if w.startswith("CHORD_")] == \
            ["CHORD_Dm7", "CHORD_G7", "CHORD_Cmaj7", "CHORD_A7b9"], value


def test_a_shipped_adapter_records_its_style_and_its_own_parameters(studio_home, tmp_path, monkeypatch):
    """The dataset's one style goes on the card (the Style control follows it); the card counts the
    adapter's numbers, not its base's."""
    from safetensors import safe_open

    from pipelines.generate.model import loading, ship
    from test_generate_model_adapters import write_adapter

    write_token_dataset(studio_home)
    shipped_root = tmp_path / "checkpoints"
    monkeypatch.setattr(ship, "checkpoints_dir", lambda: shipped_root)
    monkeypatch.setattr(loading, "checkpoints_dir", lambda: shipped_root)
    ship.ship_checkpoint(str(write_tiny_checkpoint(tmp_path / "run-best")), "default", "mini")
    adapter = write_adapter(shipped_root / "default", tmp_path / "adapter-best", 5, whole_embeddings=True)
    done = ship.ship_checkpoint(str(adapter), "church", "mini", base_name="default")
    card = json.loads((shipped_root / "church" / "studio_checkpoint.json").read_text())
    assert card["style"] == "gospel" and card["base_model"] == "default"
    assert loading.model_style("checkpoints/church") == "gospel" and loading.model_style("default") is None
    with safe_open(str(adapter / "adapter_model.safetensors"), framework="pt") as weights:
        numbers = sum(weights.get_tensor(name).numel() for name in weights.keys())
    assert done["parameters"] == numbers and f"{numbers:,} adapter parameters" in \
        (shipped_root / "church" / "README.md").read_text()
    assert loading.model_cache().get("checkpoints/church").merged


def test_bars_of_the_datasets_a_model_also_learned_from_count_as_copied(studio_home, tmp_path, monkeypatch):
    """A model shipped with ``also_from`` (its base's corpora, a finishing pass) carries their bars in
    its novelty index, so playing one of them back counts as copied; its figures and styles stay its
    own dataset's, and a missing one is refused in one sentence."""
    import pytest

    from pipelines.common.errors import StudioError
    from pipelines.generate.model import loading, ship
    from pipelines.generate.model.corpus_profile import NoveltyIndex

    rows = write_token_dataset(studio_home, "mini")
    other = [w.replace("NOTE_6", "NOTE_7") for w in rows[0]]  # bars mostly found in no row of "mini"
    folder = studio_home / "datasets" / "finish" / "tokens"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text(json.dumps({"text": " ".join(other), "style": "mehldau"}) + "\n")
    shipped_root = tmp_path / "checkpoints"
    monkeypatch.setattr(ship, "checkpoints_dir", lambda: shipped_root)
    monkeypatch.setattr(loading, "checkpoints_dir", lambda: shipped_root)
    source = write_tiny_checkpoint(tmp_path / "run-best")
    ship.ship_checkpoint(str(source), "plain", "mini")
    ship.ship_checkpoint(str(source), "default", "mini", also_from=["finish"])
    alone = json.loads((shipped_root / "plain" / "corpus_profile.json").read_text())
    both = json.loads((shipped_root / "default" / "corpus_profile.json").read_text())
    assert both["styles"] == alone["styles"] == {"gospel": 2} and both["metrics"] == alone["metrics"]
    assert len(both["bar_sequences"]) == len(rows) + 1
    assert both["also_from"] == ["datasets/finish/tokens/train.jsonl"]
    assert NoveltyIndex(alone["bar_sequences"]).novelty(other)["copied_4bar_share"] < 0.5
    assert NoveltyIndex(both["bar_sequences"]).novelty(other)["copied_4bar_share"] == 1.0
    card = json.loads((shipped_root / "default" / "studio_checkpoint.json").read_text())
    assert card["dataset"] == "mini" and card["also_trained_on"] == ["finish"]
    assert "also holds every bar of `finish`" in (shipped_root / "default" / "README.md").read_text()
    with pytest.raises(StudioError, match="'missing' has no tokens/train.jsonl"):
        ship.ship_checkpoint(str(source), "other", "mini", also_from=["missing"])
