"""`triage models`: list the saved models, promote one through the quality gate, or roll back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "List classifier models, promote one (after the quality gate) or roll back to the previous one."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="versions, dates and held-out figures; * marks the current model")
    promote = sub.add_parser("promote", help="make VERSION current if it is no worse than the current model")
    promote.add_argument("version", metavar="VERSION")
    promote.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    promote.add_argument("--reason", help="why, recorded in the model history (say it when forcing)")
    promote.add_argument("--tolerance", type=float,
                         help="largest allowed drop on any head (default: TRIAGE_PROMOTION_TOLERANCE, 0.01)")
    promote.add_argument("--data", type=Path, default=Path("training_data"),
                         help="corpus whose held-out split both models are scored on (default: training_data)")
    sub.add_parser("rollback", help="make the previously promoted model current again")


def run(args: argparse.Namespace) -> int:
    from triage.config import load_settings

    settings = load_settings()
    if args.action == "list":
        return _list(settings.model_dir)
    if args.action == "rollback":
        return _rollback(settings.model_dir)
    tolerance = settings.promotion_tolerance if args.tolerance is None else args.tolerance
    return _promote(settings.model_dir, args.version, args.data, tolerance, args.force, args.reason)


def _list(model_dir: Path) -> int:
    from triage.classify.registry import list_models

    entries = list_models(model_dir)
    if not entries:
        print(f"no models in {model_dir}")
        return 0
    print(f"  {'version':<22}{'created':<27}{'service':>8}{'contact':>8}{'avoid':>8}{'urg.rec':>8}"
          f"{'urg.prec':>9}{'lang':>7}")
    for entry in entries:
        s = entry.summary
        figures = "".join(f"{s.get(k, float('nan')):>{w}.3f}" for k, w in (
            ("service_macro_f1", 8), ("contact_type_macro_f1", 8), ("avoidable_reason_macro_f1", 8),
            ("urgent_recall", 8), ("urgent_precision", 9), ("language_accuracy", 7)))
        print(f"{'*' if entry.current else ' '} {entry.version:<22}{entry.created:<27}{figures}")
    return 0


def _promote(model_dir: Path, version: str, data: Path, tolerance: float, force: bool, reason: str | None) -> int:
    from triage.classify import ModelNotFound, load_classifier
    from triage.classify.dataset import DataError, load_samples, split
    from triage.classify.metrics import evaluate, summary
    from triage.classify.persistence import ModelTampered
    from triage.classify.promotion import gate
    from triage.classify.registry import current_version, set_current
    from triage.cli import UserError

    try:
        candidate = load_classifier(model_dir, version)
        try:
            current_name = current_version(model_dir)
        except ModelNotFound:
            current_name = None
        if current_name == version:
            raise UserError(f"{version} is already the current model")
        current = load_classifier(model_dir, current_name) if current_name else None
    except (ModelNotFound, ModelTampered) as exc:
        raise UserError(str(exc)) from None
    if current is None:
        set_current(model_dir, version, action="promote", note="first model")
        print(f"{version} is now the current model (there was none)")
        return 0
    try:
        held_out = split(load_samples(data))[1]
    except (DataError, OSError) as exc:
        raise UserError(f"cannot read the held-out split: {exc}") from None
    print(f"scoring {version} and {current_name} on {len(held_out)} held-out samples", file=sys.stderr)
    result = gate(summary(evaluate(candidate, held_out)), summary(evaluate(current, held_out)), tolerance)
    for name in result.candidate:
        print(f"  {name:<28} candidate {result.candidate[name]:.4f}  current {result.current[name]:.4f}")
    if not result.passed and not force:
        for refusal in result.refusals:
            print(f"refused: {refusal}", file=sys.stderr)
        print(f"{version} not promoted; {current_name} stays current (--force overrides)", file=sys.stderr)
        return 1
    note = "forced past: " + "; ".join(result.refusals) if result.refusals else f"gate passed (tolerance {tolerance})"
    if reason:
        note += f"; reason: {reason}"
    set_current(model_dir, version, action="promote", note=note)
    print(f"{version} is now the current model (was {current_name})")
    return 0


def _rollback(model_dir: Path) -> int:
    from triage.classify.registry import ModelNotFound, rollback
    from triage.cli import UserError

    try:
        version = rollback(model_dir)
    except ModelNotFound as exc:
        raise UserError(str(exc)) from None
    print(f"rolled back: {version} is the current model again")
    return 0
