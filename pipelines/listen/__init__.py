"""Blind A/B listening tests: the SQLite store, test creation, randomisation and statistics.

    create_test(ListenTestConfig(...))   -> renders every clip, stores the test
    plan_test(cfg, charts)               -> votes needed, minutes per participant (plan.py)
    join / progress / record_play / vote -> a participant's session (session.py, plays.py)
    results / export_csv                 -> the organiser's figures, CSV files, codebook (results.py)
"""
from ..common.lazy_exports import lazy_exports
from .config import ListenTestConfig, chart_sets, load_charts
from .create import create_test
from .plan import plan_test, plan_text
from .plays import NotListened, record_play
from .results import export_csv, figures_from_export, results
from .session import AlreadyVoted, join, progress, vote
from .store import list_tests, set_status
from .systems import list_systems

__all__ = ["ListenTestConfig", "AlreadyVoted", "NotListened", "chart_sets", "create_test", "export_csv",
           "figures_from_export", "join", "list_systems", "list_tests", "load_charts", "plan_test",
           "plan_text",
           "progress", "record_play", "results", "set_status", "vote"]

# the Listen tab's tables and constants, imported on first use
_EXPORTS = {
    "breakdown_table": ".report", "overall_table": ".report", "pairwise_table": ".report", "paragraph": ".report",
    "participant_rows": ".report", "ranking_table": ".report", "screening_table": ".report",
    "DECIDE_S": ".plan", "DEGRADATIONS": ".degrade", "EXPERIENCE_LEVELS": ".session", "check_size": ".config",
    "describe_test": ".store", "listening_state": ".plays",
}
__all__ = sorted([*__all__, *_EXPORTS])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
