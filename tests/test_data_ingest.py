"""Ingest: real corpus, bad files, hostile archives, dedupe, concurrent writers, no empty datasets."""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from pipelines.common.errors import StudioError
from pipelines.data.dataset import dataset_dir, list_datasets, read_manifest
from pipelines.data.ingest import IngestConfig, ingest
from pipelines.music.piece import Note, Piece


def make_midi(path: Path, pitch: int = 60, bars: int = 2, tempo: float = 100.0) -> Path:
    """A small real MIDI file: a bar of quarter notes per bar, starting at ``pitch``."""
    notes = [Note(float(i), pitch + (i % 5), 0.9, 80) for i in range(4 * bars)]
    return Piece(notes=notes, tempo_bpm=tempo).write_midi(path)


def statuses(report: dict) -> dict[str, tuple[str, str]]:
    return {row["file"]: (row["status"], row["reason"]) for row in report["report"]}


def test_corpus_ingests_and_names_the_corrupted_and_empty_files(corpus_dir):
    paths = sorted((corpus_dir / "midi" / "multitrack").glob("*.mid"))[:4] + \
        sorted((corpus_dir / "midi" / "corrupted").glob("*.mid"))
    report = ingest(paths, IngestConfig(dataset="corpus", style="pop", labels=["mood:happy"]))
    rows = statuses(report)
    assert rows["ValueError_Control168.mid"][0] == "skipped"
    assert "not a readable MIDI file" in rows["ValueError_Control168.mid"][1]
    assert rows["empty.mid"] == ("skipped", "has no notes")
    assert report["kept"] == 4 and report["skipped"] == 2
    entries = read_manifest(dataset_dir("corpus"))
    assert len(entries) == 4
    for entry in entries:
        assert {"file", "hash", "style", "labels", "duration_s", "notes", "tempo_bpm", "time_signature",
                "key", "tracks"} <= set(entry)
        assert entry["style"] == "pop" and entry["labels"] == ["mood:happy"]
        assert not any(t["is_drum"] for t in entry["tracks"]) or entry["drum_notes"] > 0
        assert (dataset_dir("corpus") / "originals" / f"{entry['hash']}.mid").is_file()


def test_bad_files_are_skipped_with_reasons_and_the_good_one_kept(tmp_path):
    good = make_midi(tmp_path / "good.mid")
    (tmp_path / "zero.mid").write_bytes(b"")
    (tmp_path / "text.mid").write_text("this is not music")
    (tmp_path / "notes.txt").write_text("hello")
    short = Piece(notes=[Note(0.0, 60, 1.0)]).write_midi(tmp_path / "short.mid")
    drums = Piece(notes=[Note(float(i), 38, 0.5) for i in range(16)]).to_pretty_midi()
    drums.instruments[0].is_drum = True
    drums.write(str(tmp_path / "drums.mid"))
    long_name = "ü" * 110 + "_naïve_φ.mid"                # ~240 bytes: near the file-system limit
    shutil.copy(good, tmp_path / long_name)
    with open(tmp_path / "huge.mid", "wb") as handle:   # 50 MB, refused on size before parsing
        handle.write(b"MThd")
        handle.seek(50_000_000)
        handle.write(b"\0")
    names = ["good.mid", "zero.mid", "text.mid", "notes.txt", "short.mid", "drums.mid", "huge.mid", long_name]
    report = ingest([tmp_path / n for n in names], IngestConfig(dataset="bad"))
    rows = {row["file"]: row for row in report["report"]}
    assert rows["good.mid"]["status"] == "kept"
    assert "empty (0 bytes)" in rows["zero.mid"]["reason"]
    assert "not a MIDI file" in rows["text.mid"]["reason"]
    assert "not a .mid" in rows["notes.txt"]["reason"]
    assert "shorter than 1 bar" in rows["short.mid"]["reason"]
    assert "only drum notes" in rows["drums.mid"]["reason"]
    assert "over the 16 MB limit" in rows["huge.mid"]["reason"]
    assert rows[long_name]["reason"] == "a duplicate of good.mid in this upload"
    assert report["kept"] == 1


def test_very_long_member_names_are_shortened_in_the_report(tmp_path):
    member = "dir/" + "é" * 300 + ".mid"
    archive = _zip(tmp_path / "long.zip", {member: make_midi(tmp_path / "x.mid").read_bytes()})
    row = ingest([archive], IngestConfig(dataset="long"))["report"][0]
    assert row["status"] == "kept" and len(row["file"]) <= 160 and "…" in row["file"]
    assert read_manifest(dataset_dir("long"))[0]["file"] == row["file"]


def test_an_upload_without_any_valid_file_leaves_no_dataset(tmp_path):
    (tmp_path / "zero.mid").write_bytes(b"")
    with pytest.raises(StudioError, match="no valid MIDI file.*zero.mid: .*empty"):
        ingest([tmp_path / "zero.mid"], IngestConfig(dataset="nothing"))
    assert not dataset_dir("nothing").exists()
    assert "nothing" not in list_datasets()


def test_adding_files_keeps_what_is_there_and_dedupes_by_content(tmp_path):
    a, b = make_midi(tmp_path / "a.mid", 60), make_midi(tmp_path / "b.mid", 67)
    ingest([a], IngestConfig(dataset="grow"))
    shutil.copy(a, tmp_path / "a_copy.mid")
    report = ingest([tmp_path / "a_copy.mid", b], IngestConfig(dataset="grow", style="gospel"))
    rows = statuses(report)
    assert rows["a_copy.mid"] == ("skipped", "already in the dataset as a.mid")
    assert rows["b.mid"][0] == "kept"
    assert [e["file"] for e in read_manifest(dataset_dir("grow"))] == ["a.mid", "b.mid"]


def _zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_members_are_ingested_and_nested_archives_skipped(tmp_path):
    midi = make_midi(tmp_path / "x.mid").read_bytes()
    other = make_midi(tmp_path / "y.mid", 50).read_bytes()
    inner = _zip(tmp_path / "inner.zip", {"z.mid": midi})
    archive = _zip(tmp_path / "songs.zip", {"songs/x.mid": midi, "songs/y.midi": other, "readme.txt": b"hi",
                                            "inner.zip": inner.read_bytes(), "__MACOSX/._x.mid": b"junk"})
    rows = statuses(ingest([archive], IngestConfig(dataset="zipped")))
    assert rows["songs.zip/songs/x.mid"][0] == "kept" and rows["songs.zip/songs/y.midi"][0] == "kept"
    assert "nested archive" in rows["songs.zip/inner.zip"][1]
    assert "not a .mid" in rows["songs.zip/readme.txt"][1]
    assert "macOS" in rows["songs.zip/__MACOSX/._x.mid"][1]


def test_folders_are_ingested_recursively_with_their_zips(tmp_path):
    root = tmp_path / "collection"
    make_midi((root / "jazz").mkdir(parents=True) or root / "jazz" / "a.mid")
    make_midi((root / "jazz" / "live").mkdir() or root / "jazz" / "live" / "b.MID", 50)
    (root / "notes.txt").write_text("not music")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "c.mid").write_bytes(b"junk")  # hidden folders are passed over
    _zip(root / "more.zip", {"d.mid": make_midi(tmp_path / "d.mid", 45).read_bytes()})
    rows = statuses(ingest([root], IngestConfig(dataset="folder")))
    assert rows == {
        "collection/jazz/a.mid": ("kept", ""),
        "collection/jazz/live/b.MID": ("kept", ""),
        "collection/more.zip/d.mid": ("kept", ""),
        "collection/notes.txt": ("skipped", "not a .mid, .midi or .zip file"),
    }
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudioError, match="empty: an empty folder"):
        ingest([tmp_path / "empty"], IngestConfig(dataset="nothing"))


def test_the_cli_takes_a_folder(tmp_path, studio_home):
    import subprocess
    import sys

    make_midi((tmp_path / "in" / "sub").mkdir(parents=True) or tmp_path / "in" / "sub" / "x.mid")
    proc = subprocess.run([sys.executable, "-m", "pipelines.data", "ingest", str(tmp_path / "in"),
                           "--dataset", "cli-folder"], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["report"][0]["file"] == "in/sub/x.mid"


@pytest.mark.parametrize("member", ["../evil.mid", "/etc/evil.mid", "a/../../evil.mid"])
def test_zip_slip_archives_are_refused_whole(tmp_path, member):
    midi = make_midi(tmp_path / "x.mid").read_bytes()
    archive = _zip(tmp_path / "slip.zip", {"ok.mid": midi, member: midi})
    with pytest.raises(StudioError, match="zip-slip"):
        ingest([archive], IngestConfig(dataset="slip"))
    assert not dataset_dir("slip").exists()
    assert not (tmp_path.parent / "evil.mid").exists()


def test_zip_bombs_are_refused(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"big.mid": b"MThd" + b"\0" * 30_000_000})  # ~1000x
    with pytest.raises(StudioError, match="zip bomb"):
        ingest([bomb], IngestConfig(dataset="bomb"))
    many = _zip(tmp_path / "many.zip", {f"f{i}.mid": b"MThd" for i in range(30)}, zipfile.ZIP_STORED)
    with pytest.raises(StudioError, match="30 members; at most 20"):
        ingest([many], IngestConfig(dataset="bomb", max_members=20))
    big = _zip(tmp_path / "big.zip", {f"f{i}.mid": bytes(range(256)) * 8000 for i in range(3)},
               zipfile.ZIP_STORED)
    with pytest.raises(StudioError, match="expands to 6 MB"):
        ingest([big], IngestConfig(dataset="bomb", max_total_mb=5))
    assert not dataset_dir("bomb").exists()


def _ingest_in_process(home: str, paths: list[str], queue) -> None:
    import os

    os.environ["STUDIO_HOME"] = home
    try:
        queue.put(ingest(paths, IngestConfig(dataset="shared"))["kept"])
    except Exception as exc:  # reported to the parent test
        queue.put(repr(exc))


def wait_for_lock_waiters(path: Path, count: int, workers: list, deadline_s: float = 120.0) -> set[int]:
    """The pids the kernel's lock table (/proc/locks) shows blocked on ``path``'s flock, once
    ``count`` of them wait there (or a worker died, or the deadline passed)."""
    locks = Path("/proc/locks")
    if not locks.is_file():
        pytest.skip("the kernel's lock table (/proc/locks) is Linux's")
    inode = os.stat(path).st_ino
    end = time.monotonic() + deadline_s
    while True:
        waiting = set()
        for line in locks.read_text().splitlines():
            parts = line.split()
            if "->" in parts and parts[parts.index("->") + 1] == "FLOCK":
                pid, device = parts[parts.index("->") + 4:parts.index("->") + 6]
                if int(device.rsplit(":", 1)[1]) == inode:
                    waiting.add(int(pid))
        if len(waiting) >= count or time.monotonic() > end or not all(w.is_alive() for w in workers):
            return waiting
        time.sleep(0.05)   # polling the table, not waiting for a guess of how long start-up takes


def test_concurrent_ingests_neither_lose_nor_duplicate_entries(tmp_path, studio_home):
    files = [str(make_midi(tmp_path / f"f{i}.mid", 40 + i)) for i in range(12)]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_ingest_in_process, args=(str(studio_home), files[i:i + 8], queue))
               for i in (0, 2, 4)]
    from pipelines.data.dataset import manifest_lock

    lock_file = dataset_dir("shared").parent / ".shared.lock"
    with manifest_lock(dataset_dir("shared")):   # all three queue on the lock, then write in turn
        for worker in workers:
            worker.start()
        waiting = wait_for_lock_waiters(lock_file, len(workers), workers)
        assert waiting == {worker.pid for worker in workers}   # the kernel holds each one at the lock
        assert not (dataset_dir("shared") / "manifest.jsonl").exists()
    for worker in workers:
        worker.join(60)
    results = [queue.get(timeout=5) for _ in workers]
    assert all(isinstance(r, int) for r in results), results
    entries = read_manifest(dataset_dir("shared"))
    assert sorted(e["file"] for e in entries) == sorted(Path(f).name for f in files)
    assert sum(results) == 12
    originals = list((dataset_dir("shared") / "originals").iterdir())
    assert len(originals) == 12
    json.dumps(entries)  # plain data


def test_a_script_s_plain_progress_callback_hears_every_step(tmp_path, studio_home):
    """Pipelines call progress(fraction, message) positionally, never with Gradio's desc= keyword."""
    from pipelines.data.build import tokenize_dataset
    from pipelines.data.tokenizers import TokenizerConfig

    song = Piece(notes=[Note(float(b), 60 + b % 7, 0.9, 80) for b in range(16)]).write_midi(tmp_path / "s.mid")
    heard = []
    ingest([str(song)], IngestConfig(dataset="plain"), progress=lambda fraction, message: heard.append(message))
    tokenize_dataset("plain", TokenizerConfig(), progress=lambda fraction, message: heard.append(message))
    assert heard and heard[-1] == "done" and all(isinstance(m, str) for m in heard)
