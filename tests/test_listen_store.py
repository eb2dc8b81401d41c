"""The listening-test store: schema and migrations, sessions, double votes, balanced sides, results, CSV."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines.common.errors import StudioError
from pipelines.listen import __main__ as cli
from pipelines.listen.report import breakdown_table, overall_table, paragraph
from pipelines.listen.results import clips_csv, export_csv, results, votes_csv
from pipelines.listen.session import AlreadyVoted, join, progress, vote
from pipelines.listen.store import (SCHEMA_VERSION, connect, db_path, insert_test, list_tests, listen_dir,
                                    now_iso, schema_version, set_status)


def make_test(test_id: str = "demo-abc123", charts: int = 2, seeds: int = 2, seed: int = 7,
              target_version: int = SCHEMA_VERSION, systems: int = 2, repeats: int = 0, catches: int = 0,
              min_play_s: float | None = None, clip_s: float = 0.5) -> str:
    """A test with real (short, sine-tone) clips on disk and its rows in the store, no generation.

    ``systems`` named sys-one, sys-two, sys-three ... (a round robin of every pair on every chart and
    seed); ``repeats`` main pairs heard again; ``catches`` clips against a "degraded" copy (a tone a
    tritone off, as different to a test as wrong notes are to a listener); ``min_play_s`` None makes a
    test as the studio made them before play rules.
    """
    names = ["sys-one", "sys-two", "sys-three", "sys-four"][:systems]
    folder = listen_dir(test_id)
    (folder / "clips").mkdir(parents=True, exist_ok=True)
    clips, pairs, items = [], [], []

    def add_clip(system: str, freq: float, chart_index: int, offset: int) -> int:
        name = hashlib.sha1(f"{test_id}{chart_index}{offset}{system}".encode()).hexdigest()[:16]
        t = np.arange(int(clip_s * 22050)) / 22050
        tone = (0.1 * np.sin(2 * np.pi * freq * (1 + chart_index / 10) * t)).astype(np.float32)
        soundfile.write(str(folder / "clips" / f"{name}.wav"), np.stack([tone, tone], 1), 22050)
        clips.append({"system": system, "model": system, "style": "gospel",
                      "chart_name": f"chart {chart_index}", "chart_text": "| C | F |",
                      "seed": seed + offset, "bars": 2, "tempo_bpm": 120.0,
                      "file": f"clips/{name}.wav", "midi_file": f"clips/{name}.mid",
                      "duration_s": clip_s, "loudness_lufs": -20.0, "sample_rate_hz": 22050,
                      "soundfont": "test", "sha256": name})
        return len(clips) - 1

    for chart_index in range(charts):
        for offset in range(seeds):
            made = [add_clip(system, 440.0 * (1.5 ** i), chart_index, offset)
                    for i, system in enumerate(names)]
            items.append((chart_index, offset, made))
            pairs += [(chart_index, f"chart {chart_index}", seed + offset, made[i], made[j], "main", None)
                      for i, j in combinations(range(systems), 2)]
    pairs += [(*pairs[index][:5], "repeat", index) for index in range(repeats)]
    for number in range(catches):
        chart_index, offset, made = items[number % len(items)]
        original = made[number % systems]
        copy = add_clip(f"degraded copy of {names[number % systems]}", 311.0, chart_index, offset + 100)
        pairs.append((chart_index, f"chart {chart_index}", seed + offset, original, copy, "catch", None))
    if target_version < 3:
        pairs = [pair[:5] for pair in pairs]
    test = {"id": test_id, "name": "demo", "status": "open", "seed": seed, "system_1": "sys-one",
            "system_2": "sys-two", "config_json": json.dumps({}), "created_at": now_iso()}
    if target_version >= 3:
        test.update({"systems_json": json.dumps(names), "min_play_s": min_play_s})
    with connect(target_version=target_version) as conn:
        conn.execute("BEGIN IMMEDIATE")
        insert_test(conn, test, clips, pairs)
        conn.execute("COMMIT")
    return test_id


def test_new_store_is_wal_with_foreign_keys_and_current_schema(studio_home):
    with connect() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert schema_version(conn) == SCHEMA_VERSION
    assert db_path() == studio_home / "listen.db"
    with connect() as conn, pytest.raises(sqlite3.IntegrityError):  # foreign keys really enforced
        conn.execute("INSERT INTO participants (test_id, token, created_at) VALUES ('nope', 'x', 'now')")


def test_an_old_store_is_migrated_and_keeps_its_data(studio_home):
    test_id = make_test(target_version=1)  # a store as the first release wrote it
    with connect(target_version=1) as conn:
        assert schema_version(conn) == 1
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'votes_by_pair'").fetchone()
    with connect() as conn:  # a newer studio opens it
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'votes_by_pair'").fetchone()
        assert conn.execute("SELECT COUNT(*) FROM pairs WHERE test_id = ?", (test_id,)).fetchone()[0] == 4
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_a_store_from_a_newer_studio_is_refused(studio_home):
    with connect() as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StudioError, match="newer than this studio"):
        with connect():
            pass


def test_a_session_votes_once_per_pair_and_resumes():
    test_id = make_test()
    token = join(test_id, name="Ann", experience="professional musician")
    state = progress(test_id, token)
    assert (state.voted, state.total, state.next_pair.number) == (0, 4, 1)
    assert state.next_pair.clip_a.is_file() and state.next_pair.clip_b.is_file()
    first = state.next_pair.pair_id
    assert vote(test_id, token, first, "A", "warm voicings")["voted"] == 1
    with pytest.raises(AlreadyVoted, match="already voted on pair"):
        vote(test_id, token, first, "B")
    resumed = progress(test_id, token)  # e.g. after closing the browser
    assert resumed.voted == 1 and resumed.next_pair.number == 2 and resumed.next_pair.pair_id != first
    for _ in range(3):
        vote(test_id, token, progress(test_id, token).next_pair.pair_id, "tie")
    done = progress(test_id, token)
    assert done.done and done.next_pair is None
    with connect() as conn:
        assert conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 4


def test_bad_votes_are_refused_with_a_sentence():
    test_id = make_test()
    other = make_test("other-def456")
    token = join(test_id)
    pair = progress(test_id, token).next_pair.pair_id
    foreign_pair = progress(other, join(other)).next_pair.pair_id
    with pytest.raises(StudioError, match="no listening test 'missing-1'"):
        vote("missing-1", token, pair, "A")
    with pytest.raises(StudioError, match="not a listening-test id"):
        vote("../etc", token, pair, "A")
    with pytest.raises(StudioError, match="belongs to another test"):
        vote(other, token, foreign_pair, "A")
    with pytest.raises(StudioError, match=f"pair {foreign_pair} is not part of test {test_id}"):
        vote(test_id, token, foreign_pair, "A")
    with pytest.raises(StudioError, match="code is unknown"):
        vote(test_id, "made-up-token", pair, "A")
    with pytest.raises(StudioError, match="choice must be A, B or tie"):
        vote(test_id, token, pair, "C")
    with pytest.raises(StudioError, match="experience must be one of"):
        join(test_id, experience="guru")
    set_status(test_id, "closed")
    with pytest.raises(StudioError, match="is closed"):
        vote(test_id, token, pair, "A")
    with pytest.raises(StudioError, match="is closed"):
        join(test_id)
    with connect() as conn:
        assert conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 0


def test_sides_are_balanced_and_orders_differ_between_participants():
    test_id = make_test(charts=3, seeds=3)  # 9 pairs, 3 a chart: odd counts on purpose
    system_1_on_a = Counter()
    orders = set()
    with connect() as conn:
        for n in range(120):
            token = join(test_id, name=f"p{n}")
            rows = conn.execute(
                """SELECT a.pair_id, a.position, a.system_1_on_a, p.chart_index FROM assignments a
                   JOIN participants u ON u.id = a.participant_id JOIN pairs p ON p.id = a.pair_id
                   WHERE u.token = ? ORDER BY a.position""", (token,)).fetchall()
            on_a = sum(r["system_1_on_a"] for r in rows)
            assert on_a in (4, 5)  # each system is A in half of the 9 pairs, within one
            for chart in range(3):
                assert sum(r["system_1_on_a"] for r in rows if r["chart_index"] == chart) in (1, 2)
            for r in rows:
                system_1_on_a[r["pair_id"]] += r["system_1_on_a"]
            orders.add(tuple(r["pair_id"] for r in rows))
    assert len(orders) > 100  # 9! orders: repeats would mean the order is not random
    for pair_id, count in system_1_on_a.items():  # every pair has each system on A about half the time
        assert 35 <= count <= 85, (pair_id, count)   # binomial(120, .5): outside this p < 1e-4


def test_results_and_csv_count_every_vote_once():
    test_id = make_test()
    tokens = [join(test_id, name=name, experience=level)
              for name, level in (("Ann", "student"), ("Bo", ""), ("Cy", "student"))]
    expected = Counter()
    for index, token in enumerate(tokens):
        for step in range(4 if index < 2 else 2):
            pair = progress(test_id, token).next_pair
            choice = ("A", "B", "tie", "A")[step] if index != 1 else "B"
            vote(test_id, token, pair.pair_id, choice, comment=f"c{index}{step}")
            expected[choice] += 1
    figures = results(test_id)
    overall = figures["overall"]
    assert overall["votes"] == 10 and overall["ties"] == expected["tie"]
    assert overall["side_a_rate"] == pytest.approx(expected["A"] / (expected["A"] + expected["B"]))
    assert figures["participants"] == 3 and figures["completed_participants"] == 2
    assert sum(row["votes"] for row in figures["per_chart"]) == 10
    assert [row["votes"] for row in figures["per_participant"]] == [4, 4, 2]
    assert [(row["experience"], row["votes"]) for row in figures["per_experience"]] == [
        ("(not given)", 4), ("student", 6)]
    rows = list(csv.DictReader(io.StringIO(votes_csv(test_id))))
    assert len(rows) == 10
    preferred = Counter(row["preferred_system"] for row in rows)
    assert preferred["sys-one"] == overall["wins_1"] and preferred["sys-two"] == overall["wins_2"]
    for row in rows:  # the preferred system is whichever played on the chosen side
        if row["choice"] != "tie":
            assert row["preferred_system"] == row[f"system_on_{row['choice'].lower()}"]
    clip_rows = list(csv.DictReader(io.StringIO(clips_csv(test_id))))
    assert len(clip_rows) == 8 and {r["system"] for r in clip_rows} == {"sys-one", "sys-two"}
    headers, rows = overall_table(figures)
    assert [row[0] for row in rows] == ["sys-one", "sys-two"] and len(headers) == len(rows[0])
    assert len(breakdown_table(figures["per_chart"], "chart", figures["systems"])[1]) == 2
    text = paragraph(figures)
    assert figures["verdict"] in text and "3 participants (2 finished), 10 votes" in text
    paths = export_csv(test_id)
    assert Path(paths["votes_csv"]).read_text() == votes_csv(test_id)
    assert list_tests()[0]["votes"] == 10


def test_cli_results_export_close_and_bad_input(capsys):
    from pipelines.common.cli import run_cli

    test_id = make_test()
    vote(test_id, (token := join(test_id)), progress(test_id, token).next_pair.pair_id, "A")
    assert run_cli(cli.main, ["results", test_id]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["votes"] == 1
    assert run_cli(cli.main, ["close", test_id]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "closed"
    assert run_cli(cli.main, ["results", "no-such-test"]) == 2
    assert "no listening test 'no-such-test'" in capsys.readouterr().err
    assert run_cli(cli.main, ["create", "--bars", "500"]) == 2
    assert "bars must be 1-32 (got 500)" in capsys.readouterr().err
    assert run_cli(cli.main, ["create", "--set", "colour=red"]) == 2
    assert "unknown key colour" in capsys.readouterr().err
    assert run_cli(cli.main, ["create", "--system-2", "rules"]) == 2
    assert "pick two different systems" in capsys.readouterr().err
    assert run_cli(cli.main, ["serve", "no-such-test"]) == 2
    assert "no listening test 'no-such-test'" in capsys.readouterr().err


def test_cli_create_from_a_preset(capsys):
    from pipelines.common.cli import run_cli
    from pipelines.common.paths import configs_dir

    preset = configs_dir() / "listen" / "rules_gospel_vs_mehldau.yaml"
    assert run_cli(cli.main, ["create", str(preset), "--seeds-per-chart", "1", "--set", "bars=1"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["pairs"] == 4 and made["systems"] == ["rules (gospel)", "rules (mehldau)"]
    assert run_cli(cli.main, ["list"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == made["test_id"]
