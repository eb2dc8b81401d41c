"""A test's results as plain tables and a paragraph, for the UI and for people reading the JSON."""
from __future__ import annotations


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def interval(low: float, high: float, decisive: int) -> str:
    return "-" if not decisive else f"{low:.0%}-{high:.0%}"


def overall_table(figures: dict) -> tuple[list[str], list[list]]:
    """One row per system: wins, preference rate over decisive votes, 95% Wilson interval."""
    o = figures["overall"]
    headers = ["system", "preferred", "decisive votes", "preference rate", "95% CI (Wilson)"]
    rows = [[figures["systems"][0], o["wins_1"], o["decisive"], percent(o["rate_1"]),
             interval(o["rate_1_low"], o["rate_1_high"], o["decisive"])],
            [figures["systems"][1], o["wins_2"], o["decisive"], percent(o["rate_2"]),
             interval(o["rate_2_low"], o["rate_2_high"], o["decisive"])]]
    return headers, rows


def breakdown_table(rows: list[dict], key: str, systems: list[str]) -> tuple[list[str], list[list]]:
    """Per chart or per participant: votes, each system's wins, ties, rate with CI, sign-test p."""
    headers = [key, "votes", f"{systems[0]} preferred", f"{systems[1]} preferred", "ties",
               f"{systems[0]} rate", "95% CI", "p (sign test)"]
    table = [[row[key], row["votes"], row["wins_1"], row["wins_2"], row["ties"], percent(row["rate_1"]),
              interval(row["rate_1_low"], row["rate_1_high"], row["decisive"]), f"{row['p_value']:.3g}"]
             for row in rows]
    return headers, table


def participant_rows(figures: dict) -> list[dict]:
    """Per-participant rows labelled by name (or number), experience and how far they got."""
    out = []
    for row in figures["per_participant"]:
        label = row["name"] or f"participant {row['participant']}"
        if row["experience"]:
            label += f" ({row['experience']})"
        out.append({**row, "participant": f"{label}: {row['votes']}/{row['assigned']}"})
    return out


def paragraph(figures: dict) -> str:
    """The verdict plus the counts and checks a careful reader asks for next."""
    o, m = figures["overall"], figures["participant_majorities"]
    lines = [f"**{figures['name']}** ({figures['test_id']}, {figures['status']}): {figures['pairs']} pairs, "
             f"{figures['participants']} participants ({figures['completed_participants']} finished), "
             f"{o['votes']} votes.", figures["verdict"]]
    if o["decisive"]:
        lines.append(f"Side check: side A won {percent(o['side_a_rate'])} of decisive votes "
                     f"(p = {o['side_p_value']:.3g}; sides are balanced, so a low p means a position bias, "
                     "not a system preference).")
    if m["prefer_1"] + m["prefer_2"]:
        first, second = figures["systems"]
        lines.append(f"By participant (each counted once): {m['prefer_1']} preferred {first}, "
                     f"{m['prefer_2']} preferred {second}, {m['even']} even "
                     f"(sign test p = {m['p_value']:.3g}). Votes of one person are not independent; "
                     "trust this line when the two disagree.")
    return "\n\n".join(lines)
