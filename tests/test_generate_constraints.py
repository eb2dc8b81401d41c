"""The pianist's rules in the decoder, on a tiny random model (the hardest case: it knows nothing):
the decoder allows exactly what the grammar allows where no rule applies, and with the default rules
200 random charts x seeds x temperatures 1.0-1.5 give takes in which every bar sounds, every chord
change has its bass, no note leaves the register, no key is doubled; bad settings get one sentence."""
from __future__ import annotations

import random

import numpy as np
import pytest

from pipelines.common.errors import StudioError
from pipelines.generate.api import GenerateConfig, generate
from pipelines.generate.model.constrain import RowConstraint, Rules, bar_budget, check_rules
from pipelines.generate.model.events import plan_chart
from pipelines.generate.model.loading import model_cache
from pipelines.generate.model.sampling import Sampling, TorchStepper, run_rows
from pipelines.music.chords import parse_chart
from pipelines.music.playing import chord_guides, playing_evidence
from generate_model_fixtures import random_chart, write_tiny_checkpoint

METERS = [(4, 4), (3, 4), (5, 4), (7, 4)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny_rules"), hidden=32, layers=2)


def test_the_decoder_allows_exactly_the_grammar_where_no_rule_narrows_it(tiny):
    loaded = model_cache().get(str(tiny))
    space, vocab = loaded.space, loaded.space.vocab
    head = ["STYLE_gospel", "TEMPO_120", "TIMESIG_4/4", "KEY_Cmaj", "SONG_START"]
    plan = plan_chart(parse_chart("| Cmaj7 | Dm7 | G7 | Cmaj7 |"), space, (4, 4))
    chord_ids, song_end = set(vocab.ids_of_kind("chord")), vocab.token_to_id["SONG_END"]
    rng = np.random.default_rng(0)
    compared = 0
    for walk in range(30):
        no_rules = Rules(max_notes_per_onset=88, hand_span=88, low_cluster_below=0, low_fifths_below=0)
        row = RowConstraint(space, vocab.state_after(head), plan.bars, False, 10_000, rules=no_rules)
        while not row.done:
            if row.forced() is not None:
                row.push(row.forced())
                continue
            decoder = {space.vocab_of_model[int(m)] for m in row.allowed()}
            grammar = set(np.flatnonzero(vocab.allowed_mask(row.state)).tolist())
            assert decoder <= grammar
            free = row.chord_index >= len(row.bars[row.bar].chords) and row.bar_notes > 0
            if free:  # nothing pending, the bar has sounded: only chords (the chart's) are held back,
                # and the song ends only in its last bar
                held = chord_ids | ({song_end} if row.bar < len(row.bars) - 1 else set())
                assert decoder == grammar - held, [vocab.tokens[i] for i in (grammar - held) ^ decoder]
                compared += 1
            row.push(int(space.model_ids[rng.choice(sorted(decoder))]))
    assert compared > 500


@pytest.mark.parametrize("batch", range(8))
def test_200_random_charts_keep_every_rule_at_high_temperature(tiny, batch):
    loaded = model_cache().get(str(tiny))
    space, vocab = loaded.space, loaded.space.vocab
    rng = random.Random(batch)
    meter = METERS[batch % 4]
    rules = GenerateConfig(style=("gospel", "mehldau")[batch % 2]).rules()   # each style's defaults
    head = ["STYLE_gospel", "TEMPO_120", f"TIMESIG_{meter[0]}/{meter[1]}", "KEY_Cmaj", "SONG_START"]
    prompt = [loaded.bos_id] + [space.id(w) for w in head]
    charts = [parse_chart(random_chart(rng, rng.randint(1, 4))) for _ in range(25)]
    plans = [plan_chart(chart, space, meter) for chart in charts]
    cache: dict = {}
    rows = [RowConstraint(space, vocab.state_after(head), p.bars, True,
                          bar_budget(loaded.context_tokens, len(prompt), p.bars, 200, rules), cache=cache, rules=rules)
            for p in plans]
    temperature = 1.0 + 0.5 * (batch % 4) / 3
    run_rows(TorchStepper(loaded.model), prompt, rows, Sampling(temperature, 0, 1.0),
             [batch * 1000 + i for i in range(25)], loaded.pad_id)
    beats = meter[0] * 4.0 / meter[1]
    for chart, plan, row in zip(charts, plans, rows):
        words = head + row.words()
        assert vocab.check(words) == []
        piece = vocab.decode(words)
        piece.time_signature = meter
        piece.bars_hint = len(plan.bars)
        events = chart.events(beats)
        evidence = playing_evidence(piece, events)
        assert evidence["silent_bars"] == 0, words
        assert evidence["bass_on_change"] in (None, 1.0), words   # pushed notes included
        assert evidence["doubled_keys"] == 0
        assert evidence["max_notes_per_onset"] <= rules.max_notes_per_onset
        low, high = rules.pitch_range
        assert all(low <= n.pitch <= high for n in piece.notes)
        # at each forced chord token: the first note after it is its bass, and its guide tones follow
        tokens = row.words()
        for index, word in enumerate(tokens):
            if not word.startswith("CHORD_") or word == "CHORD_NC":
                continue
            chord = row._chord_rules(word)
            onset = []
            for later in tokens[index + 1:]:
                if later.startswith(("POS_", "BAR_", "SONG_END")):
                    break
                if later.startswith("NOTE_"):
                    onset.append(int(later[5:]))
            assert onset and onset[0] % 12 == chord.bass_pc, (word, onset)
            assert chord.guides <= {p % 12 for p in onset}, (word, onset)


def test_harmony_strength_one_keeps_every_note_in_the_chord_and_zero_is_the_raw_model(tiny, tmp_path):
    chart = "| Cmaj7 | Am7 | Dm7 G7 | Cmaj7 |"
    strict = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=3, harmony_strength=1.0,
                                     temperature=1.5, out_dir=str(tmp_path / "a"), render_audio=False))
    assert strict.metrics["chord_tone_ratio_tension_aware"] == 1.0
    raw = generate(GenerateConfig(chords=chart, model=str(tiny), backend="torch", seed=3, harmony_strength=0.0,
                                  bass_on_change=False, guide_tones=False, register_low=21, register_high=108,
                                  temperature=1.5, out_dir=str(tmp_path / "b"), render_audio=False))
    assert raw.metrics["chord_tone_ratio_tension_aware"] < 0.9   # a random model plays any key


def test_guide_tones_are_the_third_and_seventh():
    from pipelines.music.chords import parse_chord

    def names(symbol):
        return sorted(chord_guides(parse_chord(symbol)))

    assert names("G7") == [5, 11] and names("Cmaj7") == [4, 11] and names("Am7") == [0, 7]
    assert names("Bdim7") == [2, 8] and names("G7sus4") == [0, 5] and names("Gsus4") == [0] and names("C") == [4]
    assert names("C/E") == []   # the 3rd is already the bass


@pytest.mark.parametrize("settings, words", [
    ({"harmony_strength": 1.5}, "harmony strength must be 0-1"),
    ({"harmony_strength": -0.1}, "harmony strength must be 0-1"),
    ({"register_low": 70, "register_high": 60}, "low note must be below"),
    ({"register_low": 10}, "register low must be a MIDI note 21-108"),
    ({"max_notes_per_onset": 0}, "notes per onset must be 1-10"),
])
def test_bad_settings_are_refused_with_one_sentence(tiny, tmp_path, settings, words):
    with pytest.raises(StudioError, match=words):
        GenerateConfig(model=str(tiny), **settings).validate()


def test_a_register_too_narrow_for_the_bass_and_a_cap_too_low_for_the_guides_name_the_chord_and_bar(tiny):
    loaded = model_cache().get(str(tiny))
    plan = plan_chart(parse_chart("| Cmaj7 | F#m7b5 B7 |"), loaded.space, (4, 4))
    with pytest.raises(StudioError, match=r"no key for the bass of F#m7b5 at bar 2 beat 1"):
        check_rules(Rules(pitch_range=(60, 65), bass_on_change=True), plan.bars)
    with pytest.raises(StudioError, match=r"at most 2 notes an onset leaves no room .* Cmaj7 at bar 1"):
        check_rules(Rules(bass_on_change=True, guide_tones=True, max_notes_per_onset=2), plan.bars)
    with pytest.raises(StudioError, match=r"no room above the bass for the 3rd and 7th of Cmaj7 at bar 1 beat 1"):
        check_rules(Rules(pitch_range=(40, 48), bass_on_change=True, guide_tones=True), plan.bars)


def test_a_narrow_register_is_refused_before_any_token_through_generate(tiny, tmp_path):
    with pytest.raises(StudioError, match="no key for the bass"):
        generate(GenerateConfig(chords="| C | G7 |", model=str(tiny), backend="torch", register_low=62,
                                register_high=66, out_dir=str(tmp_path), render_audio=False))


def test_a_chart_longer_than_the_context_is_refused_before_any_export(tmp_path, studio_home):
    short = write_tiny_checkpoint(tmp_path / "short", hidden=32, layers=2, context=96)
    with pytest.raises(StudioError, match=r"8 bars do not fit in this model's context of 96 tokens"):
        generate(GenerateConfig(chords="| C | G7 | C | G7 | C | G7 | C | G7 |", model=str(short),
                                out_dir=str(tmp_path / "out"), render_audio=False))
    assert not (studio_home / ".cache" / "onnx").exists()
