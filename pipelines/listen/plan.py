"""What a test will ask of its participants, known before any clip is rendered.

* How many decisive votes each pair of systems needs for the two-sided sign test to find a 60/40
  preference at p < 0.05 with 80 % power, and so how many participants (each votes once on every
  chart and seed of every pair of systems).
* Minutes per participant: every pair (hidden checks included) heard once through, both clips,
  plus ``DECIDE_S`` to choose and submit. ITU-R BS.1534 advises sessions of 20-30 minutes.
"""
from __future__ import annotations

import math

from .config import ListenTestConfig
from .stats import ALPHA, votes_needed

TARGET_RATE = 0.6          # the preference a test should be able to find: 60/40
TARGET_POWER = 0.8
DECIDE_S = 6.0             # seconds to choose and submit after both clips (a scripted participant's
                           # machinery takes well under one: bench/bench_listen.py --session)
TAIL_S = 1.0               # a rendered clip rings on after its last bar
BEATS_PER_BAR = 4          # the charts are in 4/4
SESSION_MINUTES = (20, 30)  # ITU-R BS.1534's advice for one sitting


def clip_seconds(bars: int, tempo_bpm: float) -> float:
    """About how long one rendered clip lasts."""
    return bars * BEATS_PER_BAR * 60.0 / tempo_bpm + TAIL_S


def plan_test(cfg: ListenTestConfig, charts: int) -> dict:
    """Votes needed, participants needed and minutes per participant for ``cfg`` over ``charts``."""
    items = charts * cfg.seeds_per_chart
    system_pairs = len(cfg.system_pairs)
    trials = items * system_pairs + cfg.repeats + cfg.catch_trials
    clip_s = clip_seconds(cfg.bars, cfg.tempo_bpm)
    heard_s = clip_s if cfg.min_play_s == 0 else min(clip_s, cfg.min_play_s)
    minutes = trials * (2 * heard_s + DECIDE_S) / 60.0
    needed = votes_needed(TARGET_RATE, ALPHA, TARGET_POWER)
    return {"systems": len(cfg.labels), "system_pairs": system_pairs, "main_pairs": items * system_pairs,
            "hidden_checks": cfg.repeats + cfg.catch_trials, "pairs_per_participant": trials,
            "clip_s": round(clip_s, 1), "minutes_per_participant": round(minutes, 1),
            "votes_needed_per_system_pair": needed, "votes_per_participant_per_system_pair": items,
            "participants_needed": math.ceil(needed / items)}


def plan_text(plan: dict) -> str:
    """The plan as the sentences an organiser reads before creating the test."""
    low, high = SESSION_MINUTES
    minutes = plan["minutes_per_participant"]
    advice = ("within" if low <= minutes <= high else "shorter than" if minutes < low else "longer than")
    pairs = (f"{plan['system_pairs']} pairs of systems" if plan["system_pairs"] > 1
             else "one pair of systems")
    return (f"Each participant hears {plan['pairs_per_participant']} pairs ({plan['main_pairs']} over "
            f"{pairs}, {plan['hidden_checks']} hidden checks) of about {plan['clip_s']:.0f} s clips: about "
            f"**{minutes:.0f} minutes** each, {advice} the {low}-{high} minutes ITU-R BS.1534 advises "
            f"(both clips heard once, {DECIDE_S:.0f} s to choose). "
            f"To find a {TARGET_RATE:.0%}/{1 - TARGET_RATE:.0%} preference at p < {ALPHA} with "
            f"{TARGET_POWER:.0%} power, each pair of systems needs **{plan['votes_needed_per_system_pair']} "
            f"decisive votes**: about **{plan['participants_needed']} participants** at "
            f"{plan['votes_per_participant_per_system_pair']} votes each per pair of systems, more if "
            "some choose no preference.")
