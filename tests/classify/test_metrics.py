"""Urgent figures carry the range the sample allows, so a recall read against its target is read fairly."""

from __future__ import annotations

import pytest

from triage.classify.metrics import urgent_report, wilson_interval


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    (10, 10, 0.7225, 1.0),   # all caught in ten: the interval still admits a recall of 0.72
    (0, 10, 0.0, 0.2775),
    (50, 100, 0.4038, 0.5962),
    (581, 592, 0.967, 0.9896),
])
def test_wilson_intervals_match_their_published_values(successes, trials, low, high):
    assert wilson_interval(successes, trials) == pytest.approx([low, high], abs=1e-4)


def test_no_trials_says_nothing_is_known():
    assert wilson_interval(0, 0) == [0.0, 1.0]


def test_the_urgent_report_gives_recall_and_precision_with_their_ranges():
    truth = [True] * 20 + [False] * 80
    predicted = [True] * 19 + [False] + [True] * 10 + [False] * 70  # 19 of 20 caught, 10 false alarms
    report = urgent_report(truth, predicted, [0.9 if p else 0.1 for p in predicted])
    assert (report["recall"], report["precision"]) == (0.95, round(19 / 29, 4))
    assert report["recall_interval"][0] < 0.95 < report["recall_interval"][1] <= 1.0
    assert report["precision_interval"][0] < 19 / 29 < report["precision_interval"][1]
    assert report["confusion"] == {"tp": 19, "fp": 10, "fn": 1, "tn": 70}
