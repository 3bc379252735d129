"""The records as numpy arrays: leads, opportunities and their stage paths, history and
activities, all drawn vectorised from one random generator per chunk."""

from __future__ import annotations

import numpy as np

from funnel.sample.labels import (
    LEAD_SOURCES,
    LOSS_REASONS,
    LOST,
    OWNERS,
    POST_SALE,
    SOURCE_CONVERSION,
    SOURCE_SHARE,
    STAGE_PROBABILITY,
    WON,
)
from funnel.sample.layout import DAY, HOUR, WINDOW_DAYS, Arr, Clock
from funnel.sample.people import company_pool


def _business_time(rng: np.random.Generator, n: int) -> Arr:
    """Seconds into the day: mostly office hours, some at any time."""
    office = 8 * HOUR + rng.integers(0, 10 * HOUR, n)
    anytime = rng.integers(0, DAY, n)
    return np.where(rng.random(n) < 0.85, office, anytime)


def _lognormal_seconds(rng: np.random.Generator, median_days: float, sigma: float, n: int) -> Arr:
    return (rng.lognormal(np.log(median_days * DAY), sigma, n)).astype(np.int64)


def draw_leads(rng: np.random.Generator, n: int, clock: Clock) -> dict[str, Arr]:
    """Lead attributes as arrays; leads ordered by creation."""
    # Creation: density growing linearly by 60 % over the window, office hours.
    a = 0.6
    u = rng.random(n)
    x = (np.sqrt(1 + 2 * a * u * (1 + a / 2)) - 1) / a
    day = np.minimum((x * (WINDOW_DAYS + 1)).astype(np.int64), WINDOW_DAYS)
    created = np.sort(np.minimum(clock.start + day * DAY + _business_time(rng, n), clock.end))

    source = rng.choice(len(LEAD_SOURCES), n, p=SOURCE_SHARE)
    conv_p = np.asarray(SOURCE_CONVERSION)[source]
    converted_ts = created + _lognormal_seconds(rng, 6, 1.0, n) + 1_800
    converted = (rng.random(n) < conv_p) & (converted_ts <= clock.end)
    converted_ts = np.where(converted, converted_ts, -1)

    # Last Modified: conversion is a converted lead's last touch; others keep being worked.
    base = np.where(converted, converted_ts, created)
    touch = np.where(converted, rng.integers(0, 600, n), _lognormal_seconds(rng, 5, 1.2, n))
    modified = np.minimum(base + touch, clock.end)

    age = clock.end - created
    recent = age < 21 * DAY
    status_recent = rng.choice(4, n, p=(0.45, 0.45, 0.0, 0.10))
    status_old = rng.choice(6, n, p=(0.04, 0.12, 0.34, 0.05, 0.0, 0.45))
    status_conv = np.where(rng.random(n) < 0.7, 4, 3)
    # indexes into LEAD_STATUSES: New, Working, Nurture, Qualified, Converted, Unqualified
    status = np.where(converted, status_conv, np.where(recent, status_recent, status_old))

    authority = np.where(
        converted,
        rng.choice(5, n, p=(0.35, 0.20, 0.25, 0.12, 0.08)),
        rng.choice(5, n, p=(0.15, 0.08, 0.30, 0.27, 0.20)),
    )
    need = np.where(
        converted,
        rng.choice(4, n, p=(0.45, 0.35, 0.15, 0.05)),
        rng.choice(4, n, p=(0.15, 0.30, 0.35, 0.20)),
    )
    budget = np.where(
        converted,
        rng.lognormal(np.log(25_000), 0.9, n),
        rng.lognormal(np.log(12_000), 1.0, n),
    )
    budget = (np.clip(budget, 500, 500_000) / 500).round().astype(np.int64) * 500

    # Timeline: the expected purchase date, after creation (a plan: it may lie after end_date).
    created_day = created // DAY
    horizon = np.minimum(rng.lognormal(np.log(75), 0.7, n), 365).astype(np.int64)
    timeline = created_day + horizon

    return {
        "created": created,
        "source": source,
        "converted": converted,
        "converted_ts": converted_ts,
        "modified": modified,
        "status": status,
        "owner": rng.integers(0, len(OWNERS), n),
        "company": rng.integers(0, len(company_pool()[0]), n),
        "authority": authority,
        "has_authority": rng.random(n) >= 0.10,
        "need": need,
        "has_need": rng.random(n) >= 0.10,
        "budget": budget,
        "has_budget": rng.random(n) >= 0.25,
        "timeline": timeline,
        "has_timeline": rng.random(n) >= 0.15,
    }


def draw_opportunities(
    rng: np.random.Generator, leads: dict[str, Arr], clock: Clock
) -> dict[str, Arr]:
    """Opportunities (from converted leads, plus ~5 % standalone) and their stage paths.

    A path is 8 slots: the five open stages in order (each between the start and the highest
    stage reached is kept with p 0.8, so stages get skipped), one step back from the highest
    stage (~9 %), the close (won or lost; none for deals that stall) and Onboarding after some
    wins. Slots after end_date have not happened yet: those deals are still open.
    """
    conv_leads = np.flatnonzero(leads["converted"])
    n_alone = int(rng.binomial(len(conv_leads), 0.05 / 0.95)) if len(conv_leads) else 0
    alone_t0 = np.minimum(
        clock.start
        + rng.integers(0, WINDOW_DAYS + 1, n_alone) * DAY
        + _business_time(rng, n_alone),
        clock.end,
    )
    t0 = np.concatenate([leads["converted_ts"][conv_leads], alone_t0])
    lead = np.concatenate([conv_leads, np.full(n_alone, -1, dtype=np.int64)])
    order = np.argsort(t0, kind="stable")
    t0, lead = t0[order], lead[order]
    m = len(t0)
    alone = lead < 0
    ar = np.arange(m)

    outcome = rng.choice(3, m, p=(0.28, 0.62, 0.10))  # won, lost, stalls open
    s0 = np.where(alone, rng.random(m) < 0.3, 1 + (rng.random(m) < 0.3)).astype(np.int64)
    top = np.where(
        outcome == 0,
        np.where(rng.random(m) < 0.35, 3, 4),
        rng.choice(5, m, p=(0.28, 0.26, 0.20, 0.15, 0.11)),
    )
    top = np.maximum(top, s0)
    j = np.arange(5)
    forward = (
        (j == s0[:, None])
        | (j == top[:, None])
        | ((j > s0[:, None]) & (j < top[:, None]) & (rng.random((m, 5)) < 0.8))
    )
    back = (rng.random(m) < 0.09) & (top >= 1)

    stage = np.empty((m, 8), dtype=np.int64)
    stage[:, :5] = j
    stage[:, 5] = top - 1
    stage[:, 6] = np.where(outcome == 0, WON, LOST)
    stage[:, 7] = POST_SALE
    present = np.zeros((m, 8), dtype=bool)
    present[:, :5] = forward
    present[:, 5] = back
    present[:, 6] = outcome < 2
    present[:, 7] = (outcome == 0) & (rng.random(m) < 0.5)

    gaps = np.empty((m, 8), dtype=np.int64)
    gaps[:, :6] = rng.lognormal(np.log(8 * DAY), 0.8, (m, 6)).astype(np.int64)
    gaps[:, 6] = _lognormal_seconds(rng, 12, 0.9, m)
    gaps[:, 7] = _lognormal_seconds(rng, 4, 0.6, m)
    gaps += HOUR
    gaps[ar, s0] = 0
    gaps *= present
    at = t0[:, None] + np.cumsum(gaps, axis=1)
    keep = present & (at <= clock.end)

    last = 7 - np.argmax(keep[:, ::-1], axis=1)
    before = keep.copy()
    before[ar, last] = False
    has_prev = before.any(axis=1)
    prev = 7 - np.argmax(before[:, ::-1], axis=1)
    current = stage[ar, last]
    last_ts = at[ar, last]
    closed = keep[:, 6]
    close_ts = np.where(closed, at[:, 6], -1)

    # Amounts: an estimate that moves along the path; a quarter of lost deals end at 0.
    estimate = np.clip(rng.lognormal(np.log(12_000), 1.1, m), 300, 200_000).round()
    factor = np.where(rng.random((m, 8)) < 0.6, 1.0, rng.uniform(0.7, 1.3, (m, 8)))
    factor[ar, last] = 1.0
    slot_amount = np.clip(estimate[:, None] * factor, 300, None).round().astype(np.int64)
    amount = np.where((current == LOST) & (rng.random(m) < 0.25), 0, slot_amount[ar, last]).astype(
        np.int64
    )
    slot_amount[ar, last] = amount

    modified = last_ts + np.minimum(_lognormal_seconds(rng, 1, 1.0, m), clock.end - last_ts)
    planned = np.where(outcome == 2, t0 + _lognormal_seconds(rng, 60, 0.5, m), at[:, 6])
    expected_ts = np.where(closed, close_ts + rng.normal(0, 10 * DAY, m).astype(np.int64), planned)
    # Open deals plan to close after end_date too (the forecast needs future months).
    latest = np.where(closed, clock.end_day, clock.end_day + 365)
    expected = np.clip(expected_ts // DAY, t0 // DAY, latest)

    probability = STAGE_PROBABILITY[current]
    jitter = rng.choice(np.array([-10, -5, 0, 0, 0, 5, 10]), m)
    probability = np.where(current < WON, np.clip(probability + jitter, 5, 95), probability)

    lead_owner = leads["owner"][np.maximum(lead, 0)]
    owner = np.where(~alone & (rng.random(m) < 0.8), lead_owner, rng.integers(0, len(OWNERS), m))
    account = np.where(
        alone, rng.integers(0, len(company_pool()[0]), m), leads["company"][np.maximum(lead, 0)]
    )
    pipeline = np.where(
        alone,
        rng.choice(3, m, p=(0.30, 0.40, 0.30)),
        rng.choice(3, m, p=(0.85, 0.10, 0.05)),
    )
    return {
        "t0": t0,
        "lead": lead,
        "stage": stage,
        "keep": keep,
        "at": at,
        "slot_amount": slot_amount,
        "last": last,
        "has_prev": has_prev,
        "prev": prev,
        "current": current,
        "close_ts": close_ts,
        "amount": amount,
        "modified": modified,
        "expected": expected,
        "probability": probability,
        "has_probability": rng.random(m) >= 0.08,
        "owner": owner,
        "account": account,
        "currency": rng.choice(3, m, p=(0.92, 0.05, 0.03)),
        "loss_reason": rng.integers(0, len(LOSS_REASONS), m),
        "has_loss_reason": (current == LOST) & (rng.random(m) >= 0.10),
        "pipeline": pipeline,
    }


def draw_history(opps: dict[str, Arr]) -> dict[str, Arr]:
    """One row per kept path slot, ordered by opportunity, then time."""
    keep = opps["keep"]
    opp, slot = np.nonzero(keep)
    return {
        "opp": opp,
        "stage": opps["stage"][keep],
        "ts": opps["at"][keep],
        "amount": opps["slot_amount"][keep],
        "is_last": slot == opps["last"][opp],
    }


def draw_activities(
    rng: np.random.Generator, leads: dict[str, Arr], opps: dict[str, Arr], clock: Clock
) -> dict[str, Arr]:
    """2-4 per opportunity, 0-3 per unconverted lead, within the record's life; by time."""
    m = len(opps["t0"])
    per_opp = rng.integers(2, 5, m)
    o = np.repeat(np.arange(m), per_opp)
    o_start, o_end = opps["t0"][o], opps["modified"][o]
    o_ts = o_start + (rng.random(len(o)) * (o_end - o_start + 1)).astype(np.int64)
    o_type = rng.choice(4, len(o), p=(0.30, 0.35, 0.20, 0.15))
    o_owner = np.where(
        rng.random(len(o)) < 0.9, opps["owner"][o], rng.integers(0, len(OWNERS), len(o))
    )

    open_leads = np.flatnonzero(~leads["converted"])
    per_lead = rng.choice(4, len(open_leads), p=(0.20, 0.35, 0.30, 0.15))
    ld = np.repeat(open_leads, per_lead)
    l_start, l_end = leads["created"][ld], leads["modified"][ld]
    l_ts = l_start + (rng.random(len(ld)) * (l_end - l_start + 1)).astype(np.int64)
    l_type = rng.choice(4, len(ld), p=(0.45, 0.50, 0.04, 0.01))
    l_owner = np.where(
        rng.random(len(ld)) < 0.9, leads["owner"][ld], rng.integers(0, len(OWNERS), len(ld))
    )

    ts = np.minimum(np.concatenate([o_ts, l_ts]), clock.end)
    order = np.argsort(ts, kind="stable")
    return {
        "ts": ts[order],
        "opp": np.concatenate([o, np.full(len(ld), -1)])[order],
        "lead": np.concatenate([np.full(len(o), -1), ld])[order],
        "type": np.concatenate([o_type, l_type])[order],
        "owner": np.concatenate([o_owner, l_owner])[order],
    }
