"""Every endpoint of a guarded studio, sent wrong types, NaN, infinities, huge and negative numbers,
empty and 1 MB strings, one input at a time: each answer is one clean sentence and nothing is written.

Prints the figure: endpoints x bad values tried, and how many were answered with one clean sentence.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import start_studio, stop_studio
from public_client import call, endpoints
from public_probe import (changed, clean_sentence, default_inputs, distinct, is_password, snapshot,
                          values_to_try)

PASSWORD = "fuzz-admin-password"


@pytest.fixture(scope="module")
def guarded_studio(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz_home")
    proc, url = start_studio(home, "--admin-password", PASSWORD)
    yield url, home
    stop_studio(proc)


def _with_password(endpoint, data: list) -> list:
    """The right password in the endpoint's password field, so its own checks are what answers."""
    return [PASSWORD if is_password(item) else value
            for item, value in zip(endpoint.inputs, data)]


def _refused_in_its_output(answer) -> bool:
    """A live preview (the listening-test plan) answers a half-filled form in its own text."""
    first = (answer.output or [None])[0] if answer.ok else None
    return isinstance(first, str) and first.startswith("Not a test yet: ") and "\n" not in first.strip()


def _cases(endpoint, seen: set[int]) -> list[tuple[str, list]]:
    """(what is tried, the inputs) for each bad value of each input of ``endpoint``."""
    base = _with_password(endpoint, default_inputs(endpoint))
    cases = []
    for index, item in enumerate(endpoint.inputs):
        if is_password(item):
            continue
        first_time = item["id"] not in seen
        seen.add(item["id"])
        for bad in values_to_try(item["type"], first_time):
            data = list(base)
            data[index] = bad
            cases.append((f"{endpoint.label} {item['label'] or item['type']}={str(bad)[:12]!r}", data, bad))
    return cases


def test_every_endpoint_answers_bad_values_with_one_sentence(guarded_studio):
    url, home = guarded_studio
    tried, clean, dirty, wrote = 0, 0, [], []
    targets = distinct(endpoints(url))
    seen: set[int] = set()
    with ThreadPoolExecutor(max_workers=4) as pool:  # the calls of one endpoint at once, its writes after
        for endpoint in targets:
            cases = _cases(endpoint, seen)
            before = snapshot(home)
            answers = list(pool.map(lambda case: call(url, endpoint.fn_index, case[1]), cases))
            written = changed(before, snapshot(home))
            refused_all = True
            for (where, _, bad), answer in zip(cases, answers):
                tried += 1
                refused_all &= not answer.ok
                if clean_sentence(answer) or _refused_in_its_output(answer):
                    clean += 1
                elif not (answer.ok and bad in ("", None)):  # an empty optional field is not wrong
                    dirty.append(f"{where}: {'accepted' if answer.ok else (answer.error or '')[:300]}")
            if written and refused_all:
                wrote.append(f"{endpoint.label}: {written[:3]}")
    print(f"\nFIGURE fuzz: {len(targets)} endpoints x bad values = {tried} calls; {clean} answered with "
          f"one clean sentence; {len(dirty)} did not; {len(wrote)} endpoints wrote files while refusing")
    assert not dirty and not wrote, "\n".join(dirty[:60] + ["-- refusals that wrote files:"] + wrote[:20])
