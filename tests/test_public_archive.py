"""Batch-zip amplification: what the Transcribe batch writes for hostile archives, per byte uploaded.

Every zip goes through the one archive reader (pipelines.data.archive) and is unpacked into a
temporary folder that is gone afterwards, whether the batch failed or not. Prints the figure: bytes
written by the worst archive per byte uploaded (at the peak, in the temporary folder, and left after).
"""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest

import pipelines.transcribe.batch as batch
from conftest import start_studio, stop_studio
from pipelines.common.errors import StudioError
from pipelines.data.archive import ArchiveLimits
from pipelines.transcribe.config import ABConfig
from public_client import call, endpoints, upload
from public_probe import changed, clean_sentence, snapshot


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def just_under_the_ratio(size: int, ratio: float) -> bytes:
    """Bytes that deflate to a little more than ``size / ratio``: zeros with enough noise mixed in."""
    noise = b"MThd" + os.urandom(int(size / ratio * 1.2))  # a MIDI header, so it is unpacked
    return noise + bytes(size - len(noise))


HOSTILE = {
    # the case: ~200 MB of zeros in a ~200 KB zip
    "bomb_1000x": lambda: zip_bytes({f"song{i}.mid": bytes(20_000_000) for i in range(10)}),
    "many_members": lambda: zip_bytes({f"s{i}.mid": b"MThd" for i in range(ArchiveLimits().max_members + 1)}),
    "traversal": lambda: zip_bytes({"../../outside.mid": b"MThd" * 100}),
    "nested": lambda: zip_bytes({"inner.zip": zip_bytes({"a.mid": bytes(1_000_000)})}),
    "at_the_cap": lambda: zip_bytes({f"s{i}.mid": just_under_the_ratio(4_000_000, ArchiveLimits().max_ratio)
                                     for i in range(5)}),
    "not_midi": lambda: zip_bytes({f"s{i}.mid": bytes(40_000) + os.urandom(4_000) for i in range(5)}),
}


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temp folder of our own, so what a batch leaves in it can be counted."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_zip_leaves_nothing_behind(name, tmp_path, private_tmp, monkeypatch):
    archive = tmp_path / f"{name}.zip"
    archive.write_bytes(HOSTILE[name]())
    peak = {"bytes": 0}
    real_collect = batch.collect_inputs

    def measured(inputs, unpack_dir):  # the unpacked size is the batch's peak on disk
        try:
            return real_collect(inputs, unpack_dir)
        finally:
            peak["bytes"] = folder_bytes(unpack_dir)

    monkeypatch.setattr(batch, "collect_inputs", measured)
    out = tmp_path / "outputs" / "batch"
    with pytest.raises(StudioError) as refused:
        batch.run_batch([archive], ABConfig(separator="oracle"), out, keep_songs=False)
    left = folder_bytes(out) + folder_bytes(private_tmp)
    uploaded = archive.stat().st_size
    print(f"\nFIGURE archive {name}: {uploaded:,} bytes uploaded -> peak {peak['bytes']:,} "
          f"({peak['bytes'] / uploaded:.1f} per byte), left {left:,} ({left / uploaded:.2f} per byte): {refused.value}")
    assert left == 0 and not list(private_tmp.iterdir()), "the batch left files behind"
    assert peak["bytes"] <= ArchiveLimits().max_ratio * uploaded


def test_a_good_batch_keeps_only_its_reports(tmp_path, private_tmp):
    from test_transcribe_cli import band_midi

    songs = {f"s{i}.mid": band_midi(tmp_path / f"s{i}.mid", seed=i, bars=2).read_bytes() for i in range(2)}
    archive = tmp_path / "songs.zip"
    archive.write_bytes(zip_bytes(songs))
    out = tmp_path / "outputs" / "batch"
    result = batch.run_batch([archive], ABConfig(separator="oracle"), out, keep_songs=False)
    assert result["scored"] == 2
    assert sorted(p.name for p in out.rglob("*")) == ["batch.csv", "batch.json", "pooled.csv"]
    assert not list(private_tmp.iterdir())
    print(f"\nFIGURE archive good batch: {archive.stat().st_size:,} bytes uploaded -> left "
          f"{folder_bytes(out):,} ({folder_bytes(out) / archive.stat().st_size:.2f} per byte)")


def test_the_bomb_through_the_endpoint_is_refused_in_one_sentence_and_writes_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc, url = start_studio(home, "--admin-password", "pw")
    try:
        endpoint = next(e for e in endpoints(url) if e.api_name == "transcribe_batch")
        data = [item["props"].get("value") for item in endpoint.inputs]
        data[0] = [upload(url, "songs.zip", HOSTILE["bomb_1000x"]())]
        before = snapshot(home)
        answer = call(url, endpoint.fn_index, data)
        assert clean_sentence(answer) and "zip bomb" in answer.error, answer
        assert not changed(before, snapshot(home))
    finally:
        stop_studio(proc)
