"""The vectorised chord recogniser against a plain loop that spells out its formula."""
from __future__ import annotations

import numpy as np
import pytest

from pipelines.music.chords import ALLOWED_TENSIONS
from pipelines.music.recognise import _WEIGHTS, TEMPLATES, recognise_profile


def reference_score(weights: np.ndarray, bass: int | None, root: int, quality: str) -> float:
    """The module docstring's formula, one candidate at a time."""
    family, (third, fifth, seventh) = TEMPLATES[quality]
    roles = {0: "root", third: "third"}
    if fifth is not None:
        roles[fifth] = "fifth"
    if seventh is not None:
        roles[seventh] = "seventh"
    tensions = ALLOWED_TENSIONS[family]
    if family == "dom" and weights[(root + 3) % 12] > 2 * weights[(root + 4) % 12]:
        tensions = tensions - {3}
    score = sum(_WEIGHTS[roles.get(i, "tension" if i in tensions else "other")] * weights[(root + i) % 12]
                for i in range(12))
    score -= 0.3 * (weights[(root + third) % 12] == 0)
    if seventh is not None:
        score -= 0.3 * (weights[(root + seventh) % 12] == 0)
    if fifth in (6, 8) or family == "sus":
        score -= 0.3 * (weights[(root + fifth) % 12] == 0)
    if bass is not None:
        score += 0.35 if bass == root else (-0.15 if (bass - root) % 12 not in roles else 0.0)
    return score


def test_vectorised_recogniser_matches_the_formula():
    rng = np.random.default_rng(0)
    for _ in range(300):
        profile = rng.random(12) * (rng.random(12) < 0.4)
        if profile.sum() == 0:
            continue
        bass = int(rng.integers(12)) if rng.random() < 0.8 else None
        weights = profile / profile.sum()
        best = max(reference_score(weights, bass, r, q) for r in range(12) for q in TEMPLATES)
        heard = recognise_profile(profile, bass)
        assert heard.score == pytest.approx(best, abs=1e-3)
        assert reference_score(weights, bass, heard.root, heard.quality) == pytest.approx(best, abs=1e-3)


@pytest.mark.parametrize("pcs,bass,name", [
    ((4, 7, 0), 4, "C"),        # first inversion E G C: C, not E diminished
    ((7, 0, 4), 7, "C"),        # second inversion
    ((0, 3, 6), 0, "Cdim"),
    ((0, 4, 8), 0, "Caug"),
    ((0, 3, 6, 10), 0, "Cm7b5"),
    ((0, 4, 7, 10), 0, "C7"),
    ((0, 5, 7, 10), 0, "C7sus4"),
])
def test_inversions_and_altered_fifths(pcs, bass, name):
    profile = np.zeros(12)
    profile[list(pcs)] = 1.0
    assert recognise_profile(profile, bass).name == name
