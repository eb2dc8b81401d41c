"""Tables of an A/B: the comparison table (one row per side and stem) and batch pooling."""
from __future__ import annotations

import csv
import io
from typing import Any

from . import scoring
from .config import ABConfig

TABLE_COLUMNS = ("side", "stem", "onset F1 50ms", "onset+offset F1 50ms", "onset F1 100ms",
                 "onset+offset F1 100ms", "precision 50ms", "recall 50ms", "ref notes", "est notes",
                 "matched 50ms", "matched on+off 50ms", "leaked notes")


def _f(value: float | None) -> str:
    return "N/A" if value is None else f"{value:.3f}"


def comparison_table(scores: list[dict]) -> list[list[Any]]:
    """Rows for the UI/CLI: onset-only F1 first, onset+offset second; N/A where no reference."""
    rows = []
    for row in scores:
        on50, off50 = row.get("onset_50ms", {}), row.get("onset_offset_50ms", {})
        on100, off100 = row.get("onset_100ms", {}), row.get("onset_offset_100ms", {})
        leak = row.get("leakage")
        leaked = (f"{leak['n_leaked']} ({_f(leak['ratio'])})" if leak and leak["n_est"] else "")
        rows.append([row["side"], row["stem"], _f(on50.get("f1")), _f(off50.get("f1")),
                     _f(on100.get("f1")), _f(off100.get("f1")), _f(on50.get("precision")),
                     _f(on50.get("recall")), on50.get("n_ref", 0), on50.get("n_est", 0),
                     on50.get("n_match", 0), off50.get("n_match", 0), leaked])
    return rows


def table_csv(rows: list[list[Any]], columns: tuple[str, ...] = TABLE_COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def dict_rows_csv(rows: list[dict]) -> str:
    """CSV of dict rows: the union of their keys as columns (first seen first), None as N/A."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows({k: ("N/A" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def song_summary(name: str, scores: list[dict], cfg: ABConfig) -> list[dict]:
    """Flat batch rows for one song: every (side, stem, metric) with counts and F1."""
    out = []
    for row in scores:
        for key, value in row.items():
            if not isinstance(value, dict) or "f1" not in value:
                continue
            out.append({"song": name, "side": row["side"], "stem": row["stem"], "metric": key,
                        "f1": value["f1"], "precision": value["precision"], "recall": value["recall"],
                        "n_ref": value["n_ref"], "n_est": value["n_est"], "n_match": value["n_match"]})
    return out


def pool(rows: list[dict], tie_margin: float = 0.005) -> list[dict]:
    """Micro (summed counts) and macro (mean of song F1, N/A skipped) per (side, stem, metric),
    with win/tie/loss of every stems side against the mix on the same song and metric."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["side"], row["stem"], row["metric"]), []).append(row)
    mix = {(r["song"], r["metric"]): r["f1"] for r in rows if r["side"] == "mix"}
    pooled = []
    for (side, stem, metric), items in sorted(groups.items()):
        micro = scoring.from_counts(sum(r["n_ref"] for r in items), sum(r["n_est"] for r in items),
                                    sum(r["n_match"] for r in items))
        entry = {"side": side, "stem": stem, "metric": metric, "songs": len(items),
                 "micro_f1": micro.f1, "micro_precision": micro.precision,
                 "micro_recall": micro.recall, "n_ref": micro.n_ref, "n_est": micro.n_est,
                 "n_match": micro.n_match,
                 "macro_f1": scoring.macro_mean([r["f1"] for r in items])}
        if side != "mix" and stem == "all pitched":
            outcomes = [scoring.outcome(mix.get((r["song"], metric)), r["f1"], tie_margin)
                        for r in items]
            entry.update({k: outcomes.count(k) for k in ("win", "tie", "loss")})
        pooled.append(entry)
    return pooled
