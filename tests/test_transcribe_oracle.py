"""Oracle mode over the real multi-track corpus: stems sum to the mix, scores are sane, and
transcribing the true stems beats transcribing the mix on most songs."""
from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from pipelines.common.errors import StudioError
from pipelines.transcribe.compare import UNPITCHED, run_ab
from pipelines.transcribe.config import ABConfig, stem_classes
from pipelines.transcribe.notes import concat, merge_duplicates
from pipelines.transcribe.oracle import excerpt, read_multitrack, render_oracle, stem_class

EXCERPT_S = 8.0  # the first 8 s of each song keeps the module fast on 2 shared cores
CLASSES_6 = stem_classes("htdemucs_6s")


def multitrack(corpus_dir):
    songs = sorted((corpus_dir / "midi" / "multitrack").glob("*.mid"))
    assert len(songs) >= 10, "the shared corpus should hold the Lakh multi-track songs"
    return songs


@pytest.fixture(scope="module")
def corpus_results(corpus_dir, tmp_path_factory):
    """One oracle A/B per corpus song (6 classes, 8 s), run once for the module."""
    cfg = ABConfig(separator="oracle", demucs_model="htdemucs_6s", excerpt_s=EXCERPT_S)
    out = tmp_path_factory.mktemp("oracle_ab")
    return {song.stem: run_ab(song, cfg, out / song.stem) for song in multitrack(corpus_dir)}


@pytest.mark.parametrize("program, is_drum, four, six", [
    (0, False, "other", "piano"), (7, False, "other", "piano"), (33, False, "bass", "bass"),
    (39, False, "bass", "bass"), (25, False, "other", "guitar"), (40, False, "other", "other"),
    (0, True, "drums", "drums"), (81, False, "other", "other"),
])
def test_general_midi_programs_map_to_separator_classes(program, is_drum, four, six):
    assert stem_class(program, is_drum, stem_classes("htdemucs")) == four
    assert stem_class(program, is_drum, CLASSES_6) == six


def test_oracle_stems_sum_exactly_to_the_mix(corpus_dir):
    for song in multitrack(corpus_dir)[:3]:
        pm = excerpt(read_multitrack(song), 8.0)
        oracle = render_oracle(pm, CLASSES_6, 44_100)
        total = np.sum([oracle.stems[c] for c in CLASSES_6], axis=0)
        assert oracle.mix.shape == total.shape and oracle.mix.shape[1] == 2
        np.testing.assert_array_equal(oracle.mix, total)
        assert np.abs(oracle.stems["vocals"]).max() == 0.0  # MIDI has no vocal class
        assert 0.0 < np.abs(oracle.mix).max() <= 10 ** (-1 / 20) + 1e-6
        sounding = [c for c in CLASSES_6 if np.abs(oracle.stems[c]).max() > 0]
        assert len(sounding) >= 2, f"{song.name} should render at least two classes"
        for name in CLASSES_6:  # a class sounds exactly when it has reference notes
            assert (np.abs(oracle.stems[name]).max() > 0) == (len(oracle.references[name]) > 0)


def test_scores_are_fractions_with_consistent_counts(corpus_results):
    for name, result in corpus_results.items():
        assert result.sides == ["mix", "oracle"]
        pitched = [c for c in result.classes if c not in UNPITCHED]
        union, merged = merge_duplicates(concat(result.references[c] for c in pitched), 0.05)
        assert len(result.reference_union) == len(union)
        assert sum(len(result.references[c]) for c in pitched) - merged == len(union)
        for row in result.scores:
            for key, s in row.items():
                if not isinstance(s, dict) or "f1" not in s:
                    continue
                assert s["n_match"] <= min(s["n_ref"], s["n_est"]), (name, row["stem"], key)
                if s["n_ref"] == 0:
                    assert s["f1"] is None, "an empty reference is N/A, not 0"
                    continue
                for value in (s["precision"], s["recall"], s["f1"]):
                    assert 0.0 <= value <= 1.0
                assert s["recall"] == pytest.approx(s["n_match"] / s["n_ref"])
                if s["n_est"]:
                    assert s["precision"] == pytest.approx(s["n_match"] / s["n_est"])
            if row["stem"] == "all pitched":
                assert row["onset_50ms"]["n_ref"] == len(union)
            # a 100 ms window never finds fewer onset matches than 50 ms
            assert row["onset_100ms"]["n_match"] >= row["onset_50ms"]["n_match"]
            assert row["onset_offset_50ms"]["n_match"] <= row["onset_50ms"]["n_match"]
        vocals = next(r for r in result.scores if r["stem"] == "vocals")
        assert vocals["onset_50ms"]["f1"] is None


def test_oracle_stems_beat_the_mix_on_most_songs(corpus_results):
    outcomes = {}
    for name, result in corpus_results.items():
        f1 = {(r["side"], r["stem"]): r["onset_50ms"]["f1"] for r in result.scores}
        delta = f1[("oracle", "all pitched")] - f1[("mix", "all pitched")]
        outcomes[name] = "win" if delta > 0.005 else "loss" if delta < -0.005 else "tie"
    wins = sum(o == "win" for o in outcomes.values())
    losses = sum(o == "loss" for o in outcomes.values())
    assert wins > len(outcomes) / 2 and wins >= 3 * losses, outcomes


def test_outputs_are_written_per_stem(corpus_results):
    result = next(iter(corpus_results.values()))
    assert (result.out_dir / "report.json").is_file()
    for run in result.runs:
        assert run.wav.is_file()
        if run.stem == "drums":
            assert run.skipped and run.midi is None
        elif not run.skipped:
            assert run.midi.is_file() and len(pretty_midi.PrettyMIDI(str(run.midi)).instruments[0].notes)


def test_a_drums_only_midi_is_refused_with_a_sentence(tmp_path):
    pm = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes = [pretty_midi.Note(100, 36, t / 2, t / 2 + 0.1) for t in range(8)]
    pm.instruments.append(kit)
    pm.write(str(tmp_path / "drums.mid"))
    with pytest.raises(StudioError, match="only drum tracks"):
        run_ab(tmp_path / "drums.mid", ABConfig(), tmp_path / "out")
