"""Blind A/B listening tests: the SQLite store, test creation, randomisation and statistics.

    create_test(ListenTestConfig(...))   -> renders every clip, stores the test
    join / progress / vote               -> a participant's session (session.py)
    results / export_csv                 -> the organiser's figures and CSV files (results.py)
"""
from .config import ListenTestConfig, chart_sets, load_charts
from .create import create_test
from .results import export_csv, results
from .session import AlreadyVoted, join, progress, vote
from .store import list_tests, set_status
from .systems import list_systems

__all__ = ["ListenTestConfig", "AlreadyVoted", "chart_sets", "create_test", "export_csv", "join",
           "list_systems", "list_tests", "load_charts", "progress", "results", "set_status", "vote"]
