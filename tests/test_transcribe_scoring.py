"""Scores of the transcription A/B: mir_eval F1 with counts, N/A, leakage, merging, pooling."""
from __future__ import annotations

import re

import numpy as np
import pytest

from pipelines.common.config import load_config
from pipelines.common.errors import StudioError
from pipelines.common.paths import configs_dir
from pipelines.transcribe import scoring
from pipelines.transcribe.config import ABConfig
from pipelines.transcribe.notes import Notes, merge_duplicates
from pipelines.transcribe.report import comparison_table, pool


def notes(*rows):
    return Notes.from_tuples([(s, e, p, 80) for s, e, p in rows])


REF = notes((0.0, 0.5, 60), (0.5, 1.0, 64), (1.0, 1.5, 67), (1.5, 2.0, 72))


def test_perfect_and_shifted_onsets_follow_the_tolerance():
    exact = scoring.score(REF, REF, 0.05)
    assert (exact.precision, exact.recall, exact.f1) == (1.0, 1.0, 1.0)
    assert (exact.n_ref, exact.n_est, exact.n_match) == (4, 4, 4)
    late = Notes(REF.intervals + 0.07, REF.pitches, REF.velocities)  # 70 ms late
    assert scoring.score(REF, late, 0.05).f1 == 0.0
    assert scoring.score(REF, late, 0.10).f1 == 1.0


def test_pitch_tolerance_is_50_cents_and_counts_are_consistent():
    est = notes((0.0, 0.5, 61), (0.5, 1.0, 64), (1.02, 1.5, 67))  # one wrong pitch
    s = scoring.score(REF, est, 0.05)
    assert (s.n_ref, s.n_est, s.n_match) == (4, 3, 2)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 4)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_onset_offset_needs_the_offset_too():
    est = Notes(np.c_[REF.intervals[:, 0], REF.intervals[:, 0] + 0.2], REF.pitches, REF.velocities)
    assert scoring.score(REF, est, 0.05).f1 == 1.0
    assert scoring.score(REF, est, 0.05, with_offset=True).f1 == 0.0


def test_empty_reference_is_not_applicable_and_empty_estimate_is_zero():
    na = scoring.score(Notes.empty(), REF, 0.05)
    assert na.f1 is None and na.precision is None and na.n_est == 4
    zero = scoring.score(REF, Notes.empty(), 0.05)
    assert (zero.f1, zero.n_ref, zero.n_est) == (0.0, 4, 0)
    assert scoring.from_counts(0, 3, 0).f1 is None


def test_leakage_counts_notes_that_belong_to_another_class():
    refs = {"bass": notes((0.0, 0.5, 36), (1.0, 1.5, 38)), "other": REF, "drums": notes((0.0, 0.1, 36))}
    bass_stem = notes((0.0, 0.5, 36), (0.5, 1.0, 64), (1.0, 1.5, 67), (3.0, 3.5, 50))
    leak = scoring.leakage(bass_stem, "bass", refs, 0.05)
    assert leak == {"n_est": 4, "n_leaked": 2, "from": {"other": 2}, "ratio": 0.5}


def test_duplicates_within_50ms_are_merged_and_counted():
    doubled = notes((0.0, 0.5, 60), (0.03, 0.7, 60), (0.2, 0.4, 60), (0.0, 0.5, 64))
    merged, count = merge_duplicates(doubled, 0.05)
    assert count == 1 and len(merged) == 3
    assert merged.intervals[merged.pitches == 60][0].tolist() == [0.0, 0.7]


def test_win_tie_loss_uses_the_0_005_margin():
    assert scoring.outcome(0.5, 0.504) == "tie"
    assert scoring.outcome(0.5, 0.506) == "win"
    assert scoring.outcome(0.5, 0.49) == "loss"
    assert scoring.outcome(None, 0.5) is None


def test_batch_pooling_micro_macro_and_outcomes():
    rows = []
    for song, (mix, stems) in {"a": ((10, 10, 5), (10, 10, 8)), "b": ((20, 10, 10), (20, 12, 10)),
                               "c": ((0, 4, 0), (0, 3, 0))}.items():
        for side, (n_ref, n_est, n_match) in (("mix", mix), ("oracle", stems)):
            s = scoring.from_counts(n_ref, n_est, n_match)
            rows.append({"song": song, "side": side, "stem": "all pitched", "metric": "onset_50ms",
                         "f1": s.f1, "precision": s.precision, "recall": s.recall,
                         "n_ref": n_ref, "n_est": n_est, "n_match": n_match})
    pooled = {r["side"]: r for r in pool(rows)}
    assert pooled["mix"]["n_ref"] == 30 and pooled["mix"]["n_match"] == 15
    assert pooled["mix"]["micro_f1"] == pytest.approx(2 * 15 / (30 + 24))
    assert pooled["mix"]["macro_f1"] == pytest.approx(np.mean([0.5, 2 * 10 / 30]))
    oracle = pooled["oracle"]
    assert (oracle["win"], oracle["tie"], oracle["loss"]) == (1, 0, 1)  # song c is N/A


def test_comparison_table_puts_onset_f1_first_and_shows_na():
    cfg = ABConfig()
    row = {"side": "oracle", "stem": "vocals"}
    for ms in (50, 100):
        for label in ("onset", "onset_offset"):
            row[f"{label}_{ms}ms"] = scoring.score(Notes.empty(), REF, ms / 1000).to_dict()
    table = comparison_table([row])
    assert table[0][:4] == ["oracle", "vocals", "N/A", "N/A"]
    assert cfg.primary_tolerance_s == 0.05


@pytest.mark.parametrize("overrides, message", [
    ({"separator": "spleeter"}, "separator must be one of"),
    ({"onset_threshold": 1.5}, "onset_threshold must be between 0 and 1 (got 1.5)"),
    ({"excerpt_s": 0.1}, "excerpt_s must be 1-3600"),
    ({"demucs_model": "mdx"}, "demucs_model must be one of"),
    ({"colour": "red"}, "unknown key colour"),
])
def test_config_refuses_bad_values_with_a_sentence(overrides, message):
    with pytest.raises(StudioError, match=re.escape(message)):
        load_config(ABConfig, None, overrides)


@pytest.mark.parametrize("preset", sorted(p.name for p in (configs_dir() / "transcribe").glob("*.yaml")))
def test_every_preset_loads(preset):
    cfg = load_config(ABConfig, configs_dir() / "transcribe" / preset)
    assert cfg.stem_classes[0] == "drums"


def test_notes_midi_round_trip(tmp_path):
    import pretty_midi

    path = REF.write_midi(tmp_path / "ref.mid")
    back = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
    assert [(round(n.start, 3), round(n.end, 3), n.pitch) for n in back] == \
        [(s, e, int(p)) for (s, e), p in zip(REF.intervals.tolist(), REF.pitches)]


def test_piano_roll_colours_agree_with_the_counts(tmp_path):
    from pipelines.transcribe.pianoroll import classify, save_overlay

    est = notes((0.01, 0.5, 60), (0.5, 1.0, 65), (1.0, 1.4, 67))
    groups = classify(REF, est, 0.05)
    s = scoring.score(REF, est, 0.05)
    assert len(groups["hit"]) == s.n_match == 2
    assert len(groups["miss"]) == s.n_ref - s.n_match and len(groups["false"]) == s.n_est - s.n_match
    path = save_overlay(tmp_path / "roll.png", REF, est, "test")
    assert path.read_bytes()[:4] == b"\x89PNG"
