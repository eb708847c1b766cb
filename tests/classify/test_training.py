"""The urgent operating point: how the threshold is chosen from out-of-fold scores (pure, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from triage.classify.training import TrainConfig, tune_urgent_threshold

# ten urgent messages and thirty-six others, none caught by a rule; six others score above every urgent one
URGENT = [0.9] * 8 + [0.5, 0.2]
OTHERS = [0.95] * 6 + [0.4] * 10 + [0.1] * 20
PROBABILITY = np.array(URGENT + OTHERS)
TRUTH = np.array([True] * len(URGENT) + [False] * len(OTHERS))
NO_RULES = np.zeros(len(PROBABILITY), dtype=bool)


def tuned(*, recall_floor: float, recall_target: float, precision_floor: float, ruled=NO_RULES) -> float:
    return tune_urgent_threshold(PROBABILITY, ruled, TRUTH, recall_floor=recall_floor, recall_target=recall_target,
                                 precision_floor=precision_floor)


def test_the_recall_floor_is_reached_however_many_false_alarms_it_costs():
    # catching 8 of 10 brings 6 false alarms (precision 0.57), all 10 brings 16 (0.38)
    assert tuned(recall_floor=0.8, recall_target=1.0, precision_floor=0.9) == 0.9
    assert tuned(recall_floor=1.0, recall_target=1.0, precision_floor=0.6) == 0.2


def test_past_the_floor_the_threshold_stops_where_precision_would_fall_below_its_floor():
    # 0.5 catches 9 at precision 0.60; 0.2 would catch the tenth at 0.38
    assert tuned(recall_floor=0.8, recall_target=1.0, precision_floor=0.6) == 0.5
    assert tuned(recall_floor=0.8, recall_target=1.0, precision_floor=0.3) == 0.2


def test_the_threshold_comes_down_no_further_than_the_recall_target():
    assert tuned(recall_floor=0.8, recall_target=0.9, precision_floor=0.0) == 0.5


def test_without_a_recall_floor_the_precision_brake_alone_could_leave_the_model_catching_nothing():
    assert tuned(recall_floor=0.0, recall_target=1.0, precision_floor=0.6) == 1.0


def test_when_the_rules_already_catch_the_target_the_model_adds_no_false_alarms():
    assert tuned(recall_floor=0.8, recall_target=1.0, precision_floor=0.6, ruled=TRUTH.copy()) == 1.0


def test_a_recall_floor_above_the_target_is_refused_before_any_training():
    with pytest.raises(ValueError, match="recall floor"):
        TrainConfig(urgent_recall_floor=0.99, urgent_recall_target=0.95)
