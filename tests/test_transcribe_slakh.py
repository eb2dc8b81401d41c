"""The Slakh2100 study: a tiny Slakh-shaped folder through the batch, its cache, its report, bad tracks."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.common.errors import StudioError
from pipelines.transcribe.config import ABConfig
from pipelines.transcribe.notes import Notes
from pipelines.transcribe.slakh import list_tracks, load_track, read_track
from pipelines.transcribe.study import leakage_ratio, run_slakh
from slakh_fixture import band_song, corpus_song, slakh_split

REPO = Path(__file__).resolve().parents[1]
CFG = ABConfig(separator="oracle")
POOLED_ONSET = ("all pitched", "oracle - mix", "onset F1 (50 ms)")


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> Path:
    """Eight 3-second tracks of MIDI written here (no ../shared needed)."""
    return slakh_split(tmp_path_factory.mktemp("slakh") / "test", [band_song(s) for s in range(8)])


def _difference(summary: dict, key: tuple) -> dict:
    return next(r for r in summary["differences"]
                if (r["class"], r["comparison"], r["metric"]) == key)


def test_tracks_read_as_slakh_ships(split):
    track = read_track(split / "Track00002")
    assert [s.stem_id for s in track.stems] == ["S00", "S01", "S02", "S03"]
    data = load_track(track, CFG.stem_classes, None, 900.0)
    assert set(data.references) == set(CFG.stem_classes)
    assert len(data.references["bass"]) > 0 and len(data.references["drums"]) > 0
    assert len(data.references["vocals"]) == 0
    assert "Bass" in data.inst_classes and "Guitar" in data.inst_classes
    mix = data.mix.samples
    assert abs(sum(data.stems.values()) - mix).max() < 1e-3  # the stems sum to the mix


def test_batch_report_intervals_shrink_with_more_tracks_and_resume_reuses_the_cache(split, tmp_path):
    few = tmp_path / "few"
    few.mkdir()
    for name in ("Track00001", "Track00002", "Track00003"):
        shutil.copytree(split / name, few / name)
    out = tmp_path / "out"
    small = run_slakh(few, CFG, out)
    assert small["scored"] == 3 and small["cached"] == 0
    cached_file = out / "tracks" / "Track00001" / "track.json"
    stamp = cached_file.stat().st_mtime_ns
    # a stopped batch: the progress callback stops it during the sixth track
    calls = []

    def stop(fraction, message):
        calls.append(message)
        if message.startswith("track 6/8"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_slakh(split, CFG, out, progress=stop)
    assert any("left" in m for m in calls if m.startswith("track 5/8"))  # an ETA once tracks ran
    big = run_slakh(split, CFG, out)
    assert big["scored"] == 8 and big["cached"] == 5  # 3 from the first run, 2 before the stop
    assert cached_file.stat().st_mtime_ns == stamp
    narrow, wide = _difference(big, POOLED_ONSET), _difference(small, POOLED_ONSET)
    assert narrow["n"] == 8 and wide["n"] == 3
    assert narrow["low"] <= narrow["mean"] <= narrow["high"]
    assert narrow["high"] - narrow["low"] < wide["high"] - wide["low"]
    summary = json.loads((out / "study.json").read_text())
    packages = summary["provenance"]["packages"]
    assert packages["mir_eval"] and "basic-pitch" in packages
    assert "labels no instruments" in summary["mix_scoring"]
    assert summary["leakage_ratio"]["mix"]["mean"] is None
    assert set(summary["real_time_factor"]) >= {"transcribe_mix", "transcribe_oracle"}
    assert (out / "study_chart.png").stat().st_size > 5000
    rows = list(csv.DictReader(open(out / "study_differences.csv")))
    assert {r["class"] for r in rows} == {"bass", "other", "all pitched"}  # 4 classes; no vocals


def _break(track: Path, how: str) -> None:
    if how == "missing stem":
        (track / "stems" / "S01.flac").unlink()
    elif how == "broken metadata":
        (track / "metadata.yaml").write_text("stems: {S00: [unclosed\n")
    elif how == "long MIDI":
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(str(track / "MIDI" / "S00.mid"))
        pm.instruments[0].notes.append(pretty_midi.Note(80, 60, 20.0, 21.0))
        pm.write(str(track / "MIDI" / "S00.mid"))


@pytest.mark.parametrize("how, sentence", [
    ("missing stem", "Track00002: stems/S01.flac is missing"),
    ("broken metadata", "Track00002: metadata.yaml is not valid YAML"),
    ("long MIDI", "Track00002: MIDI/S00.mid ends at 21.0 s but the audio lasts"),
])
def test_a_bad_track_is_one_sentence_and_the_batch_goes_on(split, tmp_path, how, sentence):
    folder = tmp_path / "split"
    for name in ("Track00001", "Track00002", "Track00003"):
        shutil.copytree(split / name, folder / name)
    _break(folder / "Track00002", how)
    with pytest.raises(StudioError, match=sentence):
        load_track(read_track(folder / "Track00002"), CFG.stem_classes, None, 900.0)
    summary = run_slakh(folder, CFG, tmp_path / "out")
    assert summary["scored"] == 2 and [s["track"] for s in summary["skipped"]] == ["Track00002"]
    said = summary["skipped"][0]["reason"]
    assert said.startswith(sentence) and "\n" not in said and str(tmp_path) not in said


def test_cli_slakh_writes_the_report_and_refuses_a_folder_without_tracks(split, tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipelines.transcribe", "slakh", str(split),
                           "--max-tracks", "2", "--out", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["scored"] == 2 and "track 2/2" in done.stderr
    report = json.loads((tmp_path / "out" / "study.json").read_text())
    assert report["provenance"]["command"].startswith("python -m pipelines.transcribe slakh ")
    assert "--max-tracks 2" in report["provenance"]["command"]
    (tmp_path / "empty").mkdir()
    done = subprocess.run([sys.executable, "-m", "pipelines.transcribe", "slakh",
                           str(tmp_path / "empty"), "--out", str(tmp_path / "o2")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "holds no TrackNNNNN folders" in done.stderr
    assert "Traceback" not in done.stderr


def test_leakage_ratio_counts_classes_as_mr_mt3_does():
    labelled = Notes.from_tuples([(0, 1, 40, 90, 33, None), (0, 1, 60, 90, 0, None),
                                  (1, 2, 64, 90, 25, None)], labelled=True)  # bass, piano, guitar
    assert leakage_ratio(labelled, ["Bass", "Piano", "Drums"]) == pytest.approx(1.5)
    assert leakage_ratio(labelled.unlabelled(), ["Bass", "Piano"]) is None


def test_corpus_songs_as_a_slakh_split(corpus_dir, tmp_path):
    """Multi-track songs of the shared corpus, 4 s each, through the batch."""
    songs = sorted((corpus_dir / "midi" / "multitrack").glob("*.mid"))[:2]
    split = slakh_split(tmp_path / "split", [corpus_song(p, 20.0, 4.0) for p in songs])
    assert len(list_tracks(split)) == 2
    summary = run_slakh(split, CFG, tmp_path / "out")
    assert summary["scored"] + len(summary["skipped"]) == 2 and summary["scored"] >= 1
    assert _difference(summary, POOLED_ONSET)["n"] == summary["scored"]


def test_a_labelled_mix_is_scored_per_class(split, tmp_path):
    """A transcription that labels instruments (here the reference itself, as an instrument-aware
    transcriber at its best would give) is split by program into the classes and scored per class."""
    from pipelines.transcribe.compare import StemRun, score_result
    from pipelines.transcribe.notes import concat

    data = load_track(read_track(split / "Track00002"), CFG.stem_classes, None, 900.0)
    pitched = [c for c in CFG.stem_classes if c != "drums"]
    mix = concat(data.references[c] for c in pitched)
    assert mix.labelled
    runs = [StemRun("mix", "mix", tmp_path / "mix.wav", None, mix)]
    runs += [StemRun("oracle", c, tmp_path / f"{c}.wav", None, data.references[c]) for c in CFG.stem_classes]
    rows, _, _ = score_result(runs, data.references, CFG, ["mix", "oracle"])
    by_key = {(r["side"], r["stem"]): r for r in rows}
    assert by_key[("mix", "bass")]["onset_50ms"]["f1"] == pytest.approx(1.0)
    assert by_key[("mix", "other")]["onset_50ms"]["f1"] == pytest.approx(1.0)
    assert by_key[("mix", "vocals")]["onset_50ms"]["f1"] is None  # N/A: nobody sings
    assert leakage_ratio(mix, data.inst_classes) == pytest.approx(1.0)
    unlabelled, _, _ = score_result([StemRun("mix", "mix", tmp_path / "m.wav", None, mix.unlabelled())]
                                    + runs[1:], data.references, CFG, ["mix", "oracle"])
    assert not any(r["side"] == "mix" and r["stem"] == "bass" for r in unlabelled)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a random MuScriptor emits no end token
def test_a_separator_and_an_instrument_labelling_transcriber_through_the_study(split, tmp_path):
    """Demucs (a tiny htdemucs, random weights) as a side, MuScriptor (tiny, random) transcribing:
    the separator's SDR, the mix scored per class, the leakage ratio, the separation's RTF."""
    from test_transcribe_demucs import save_package, tiny_htdemucs
    from test_transcribe_registry import save_muscriptor, tiny_muscriptor_config

    weights = tmp_path / "demucs"
    weights.mkdir()
    save_package(tiny_htdemucs(), weights / "tiny0001.th")
    (weights / "htdemucs.yaml").write_text("models: ['tiny0001']\n")
    folder = tmp_path / "split"
    shutil.copytree(split / "Track00002", folder / "Track00002")  # one track: MuScriptor is slow here
    cfg = ABConfig(separator="demucs", demucs_model="htdemucs", demucs_weights_dir=str(weights),
                   use_cache=False, transcriber="muscriptor", device="cpu",
                   muscriptor_weights=str(save_muscriptor(tmp_path / "mus", tiny_muscriptor_config())))
    summary = run_slakh(folder, cfg, tmp_path / "out")
    assert summary["scored"] == 1 and summary["sides"] == ["mix", "htdemucs", "oracle"]
    assert summary["labelled"] and "labels instruments" in summary["mix_scoring"]
    sdr = {r["class"]: r for r in summary["sdr_db"]}
    assert {"bass", "other"} <= set(sdr) and all(r["n"] == 1 for r in sdr.values())
    bass = _difference(summary, ("bass", "htdemucs - mix", "onset F1 (50 ms)"))
    assert bass["n"] == 1 and bass["low"] is None  # the labelled mix has a bass score; one track, no CI
    assert summary["leakage_ratio"]["mix"]["n"] == 1
    assert {"separate_htdemucs", "transcribe_htdemucs"} <= set(summary["real_time_factor"])


def test_separators_must_give_the_study_classes_and_extra_stems_fold_into_other():
    import numpy as np

    from pipelines.transcribe.study import study_separators, study_stems

    six = ABConfig(separator="oracle", demucs_model="htdemucs_6s")
    with pytest.raises(StudioError, match="the separator htdemucs gives no guitar, piano stem"):
        study_separators(six, ["htdemucs"])
    with pytest.raises(StudioError, match="separator 'demucs-typo' is not in the registry"):
        study_separators(CFG, ["demucs-typo"])
    assert study_separators(CFG, ["htdemucs_6s", "htdemucs_6s"]) == ["htdemucs_6s"]
    assert study_separators(ABConfig(separator="demucs"), None) == ["htdemucs"]
    stems = {c: np.full((4, 2), i, np.float32) for i, c in enumerate(six.stem_classes)}
    folded = study_stems(stems, CFG.stem_classes)
    assert set(folded) == set(CFG.stem_classes)
    assert folded["other"][0, 0] == 2 + 4 + 5 and folded["bass"][0, 0] == 1  # other + guitar + piano
