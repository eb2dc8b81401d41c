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
    """Per-participant rows labelled by name (or number), experience, how far they got, and a flag."""
    out = []
    for row in figures["per_participant"]:
        label = row["name"] or f"participant {row['participant']}"
        if row["experience"]:
            label += f" ({row['experience']})"
        label += f": {row['voted']}/{row['assigned']}" + (" FLAGGED" if row["flagged"] else "")
        out.append({**row, "participant": label})
    return out


def pairwise_table(block: dict) -> tuple[list[str], list[list]]:
    """Per pair of systems: wins, ties, the first's rate with its CI, sign-test p, Holm-adjusted p."""
    headers = ["systems", "votes", "first preferred", "second preferred", "ties", "first's rate",
               "95% CI (Wilson)", "p (sign test)", "p (Holm)"]
    rows = [[f"{r['system_1']} vs {r['system_2']}", r["votes"], r["wins_1"], r["wins_2"], r["ties"],
             percent(r["rate_1"]), interval(r["rate_1_low"], r["rate_1_high"], r["wins_1"] + r["wins_2"]),
             f"{r['p_value']:.3g}", f"{r['p_holm']:.3g}"] for r in block["pairwise"]]
    return headers, rows


def ranking_table(block: dict) -> tuple[list[str], list[list]]:
    """Bradley-Terry ranking: strength (log-odds, centred) with its CI, modelled rate vs an average system."""
    headers = ["rank", "system", "strength (log-odds)", "95% CI", "preferred over an average system",
               "decisive votes"]
    rows = [[r["rank"], r["system"], f"{r['strength']:+.2f}", f"{r['low']:+.2f} to {r['high']:+.2f}",
             percent(r["rate_vs_average"]), r["votes"]] for r in block["ranking"]]
    return headers, rows


def screening_table(figures: dict) -> tuple[list[str], list[list]]:
    """Per participant: catch trials passed, repeated pairs answered alike, flagged and why."""
    headers = ["participant", "catch trials passed", "repeats answered alike", "flagged", "why"]
    rows = [[row["name"] or f"participant {row['participant']}",
             f"{row['catch_passed']}/{row['catch_trials']}",
             f"{row['repeats_consistent']}/{row['repeats_heard']}", "yes" if row["flagged"] else "no",
             row["reason"]] for row in figures["per_participant"]]
    return headers, rows


def _block_lines(block: dict, systems: list[str], label: str) -> list[str]:
    """The verdict (two systems) or the ranking in words (three and more) for one set of votes."""
    if len(systems) == 2:
        return [f"{label}: {block['verdict']}"]
    if not block["ranking"]:
        return [f"{label}: no decisive votes yet."]
    order = ", ".join(f"{r['system']} ({r['strength']:+.2f}, {r['low']:+.2f} to {r['high']:+.2f})"
                      for r in block["ranking"])
    found = [f"{r['system_1']} vs {r['system_2']}" for r in block["pairwise"] if r["p_holm"] < 0.05]
    return [f"{label}: Bradley-Terry order {order}; pairs of systems with a real preference after Holm's "
            f"correction: {', '.join(found) if found else 'none'}."]


def paragraph(figures: dict) -> str:
    """The verdict plus the counts and checks a careful reader asks for next."""
    everyone, kept = figures["all"], figures["screened"]
    lines = [f"**{figures['name']}** ({figures['test_id']}, {figures['status']}): {figures['pairs']} pairs "
             f"and {figures['hidden_checks']} hidden checks, {figures['participants']} participants "
             f"({figures['completed_participants']} finished), {everyone['votes']} votes.",
             *_block_lines(everyone, figures["systems"], "Everyone"),
             f"Screening: {figures['screening_rule']} Flagged: {figures['flagged']} of "
             f"{figures['participants']}.",
             *_block_lines(kept, figures["systems"], "Without the flagged participants")]
    decisive = everyone["side_a_rate"] is not None
    if decisive:
        lines.append(f"Side check: side A won {percent(everyone['side_a_rate'])} of decisive votes "
                     f"(p = {everyone['side_p_value']:.3g}; sides are balanced, so a low p means a position "
                     "bias, not a system preference).")
    m = figures.get("participant_majorities")
    if m and m["prefer_1"] + m["prefer_2"]:
        first, second = figures["systems"]
        lines.append(f"By participant (each counted once): {m['prefer_1']} preferred {first}, "
                     f"{m['prefer_2']} preferred {second}, {m['even']} even "
                     f"(sign test p = {m['p_value']:.3g}). Votes of one person are not independent; "
                     "trust this line when the two disagree.")
    t = figures["timing"]
    if t["pairs_timed"]:
        lines.append(f"Listening: median {t['median_pair_s']:.0f} s a pair from first play to vote, "
                     f"{t['median_heard_per_clip_s']:.0f} s heard a clip; {percent(t['replay_share'])} of "
                     f"pairs replayed ({t['replays_per_pair']:.2f} replays a pair).")
    return "\n\n".join(lines)
