"""Bradley-Terry ranking of several systems from pairwise preferences, and Holm's correction.

The model (Bradley & Terry 1952): system ``i`` is preferred to ``j`` with probability
``1 / (1 + exp(-(s_i - s_j)))``; ``s`` are log-strengths. They are fitted by maximum likelihood on the
decisive votes (ties carry no order and are left out, as in the sign test) with a weak normal prior
``s ~ N(0, PRIOR_SD^2)``, which keeps every estimate finite when one system wins every vote and
moves the fit by less than 1 % of a unit for a few hundred votes. Confidence intervals are Wald
intervals from the observed Fisher information (the Hessian at the optimum), for strengths centred
on their mean; like the per-pair tests they treat votes as independent.
"""
from __future__ import annotations

from statistics import NormalDist

from ..common.errors import StudioError

PRIOR_SD = 3.0   # log-strength units: a 95 % prior range of preference rates 0.0025-0.9975


def bradley_terry(systems: list[str], wins: dict[tuple[int, int], int],
                  confidence: float = 0.95) -> list[dict]:
    """Each system's centred log-strength with its confidence interval, strongest first.

    Args:
        wins: ``{(i, j): n}``, the number of decisive votes in which system ``i`` beat system ``j``.
    Returns:
        rows of system, rank, strength, low, high and ``rate_vs_average`` (the modelled preference
        for the system over an average one), plus ``votes`` (its decisive votes).
    """
    import numpy as np
    from scipy.optimize import minimize

    size = len(systems)
    if size < 2:
        raise StudioError(f"a ranking needs at least two systems (got {size})")
    won = np.zeros((size, size))
    for (i, j), count in wins.items():
        won[i, j] += count
    games = won + won.T

    def objective(s: np.ndarray) -> tuple[float, np.ndarray]:
        diff = s[:, None] - s[None, :]
        log_p = -np.logaddexp(0.0, -diff)                       # log sigmoid(s_i - s_j)
        value = -(won * log_p).sum() + (s @ s) / (2 * PRIOR_SD ** 2)
        p = np.exp(log_p)
        grad = -(won * (1 - p)).sum(axis=1) + (won.T * (1 - p.T)).sum(axis=1) + s / PRIOR_SD ** 2
        return value, grad

    fit = minimize(objective, np.zeros(size), jac=True, method="BFGS", options={"gtol": 1e-9})
    strength = fit.x
    p = 1 / (1 + np.exp(-(strength[:, None] - strength[None, :])))
    weight = games * p * (1 - p)                                # Fisher information per pair
    hessian = np.diag(weight.sum(axis=1)) - weight + np.eye(size) / PRIOR_SD ** 2
    centre = np.eye(size) - 1.0 / size
    covariance = centre @ np.linalg.inv(hessian) @ centre.T
    centred = centre @ strength
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * np.sqrt(np.clip(np.diag(covariance), 0, None))
    order = sorted(range(size), key=lambda i: -centred[i])
    return [{"system": systems[i], "rank": rank, "strength": round(float(centred[i]), 4),
             "low": round(float(centred[i] - half[i]), 4), "high": round(float(centred[i] + half[i]), 4),
             "rate_vs_average": round(float(1 / (1 + np.exp(-centred[i]))), 4),
             "votes": int(games[i].sum())}
            for rank, i in enumerate(order, start=1)]


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of ``p_values`` (family-wise error), in their given order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for step, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - step) * p_values[index]))
        adjusted[index] = running
    return adjusted
