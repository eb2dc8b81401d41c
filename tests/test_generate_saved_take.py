"""A take's .json sits in a served folder: it names its files, never a server path, and its folder
name cannot be guessed from another take's."""
from __future__ import annotations

import json

from pipelines.common.paths import REPO_ROOT
from pipelines.generate.api import GenerateConfig, generate


def _server_paths(text: str) -> list[str]:
    return [p for p in (str(REPO_ROOT), "/tmp/", "/work/", "/home/", "/data/") if p in text]


def test_a_trained_model_s_take_names_its_files_not_server_paths(studio_home, tmp_path):
    primer = generate(GenerateConfig(chords="| Dm7 G7 | Cmaj7 |", style="gospel", render_audio=False,
                                     out_dir=str(tmp_path / "primer")))
    result = generate(GenerateConfig(chords="| Dm7 G7 | Cmaj7 | Am7 D7 | Gmaj7 |", model="default",
                                     style="gospel", seed=5, variations=2, render_audio=True,
                                     primer_midi=str(primer.midi_path)))
    assert result.midi_path.parent.parent == studio_home / "outputs"
    for take in result.takes:
        text = take.midi_path.with_suffix(".json").read_text()
        assert _server_paths(text) == [], text[:400]
        saved = json.loads(text)
        assert saved["midi"] == take.midi_path.name and saved["wav"] == take.wav_path.name
        assert saved["tokens"] == take.tokens and saved["config"]["primer_midi"] == primer.midi_path.name
        assert [v["midi"] for v in saved["variations"]] == [t.midi_path.name for t in result.takes]
    again = generate(GenerateConfig(chords="| Dm7 G7 | Cmaj7 | Am7 D7 | Gmaj7 |", model="default",
                                    style="gospel", seed=5, render_audio=False,
                                    regenerate_from=str(result.midi_path), regenerate_bars="2"))
    assert again.takes[0].tokens[:20] == result.takes[0].tokens[:20]
    assert json.loads(again.midi_path.with_suffix(".json").read_text())["config"]["regenerate_from"] == \
        result.midi_path.name


def test_take_folders_share_no_guessable_name(studio_home):
    folders = {generate(GenerateConfig(chords="| C | F |", style="mehldau", seed=1, render_audio=False))
               .midi_path.parent.name for _ in range(2)}
    assert len(folders) == 2
    assert all(len(name.rsplit("-", 1)[-1]) == 16 for name in folders)
