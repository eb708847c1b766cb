"""`triage train`: fit a new versioned model on the corpus (and staff corrections) and write its card."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

HELP = "Train a new classifier model from the labelled corpus and write it to the model directory."
DEFAULT_ENCODER = Path("encoders") / "minilm-l6-static"
"""The static MiniLM word-piece table shipped with the project (made by triage.classify.encoder_export)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path("training_data"),
                        help="corpus directory (its *.jsonl and corpus/*.jsonl) or one JSONL file "
                             "(default: training_data)")
    parser.add_argument("--include-corrections", action="store_true",
                        help="also train on the labels staff corrected (database table training_samples)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same data and seed give the same model)")
    parser.add_argument("--version", help="name of the new model (default: a timestamp)")
    parser.add_argument("--embeddings", type=Path, metavar="DIR",
                        help="exported static MiniLM encoder to add embedding features from (default: "
                             f"{DEFAULT_ENCODER} in the model directory)")
    parser.add_argument("--no-embeddings", action="store_true",
                        help="train the pure TF-IDF model (the fallback that needs no encoder)")
    parser.add_argument("--compare", type=Path, action="append", default=[], metavar="ENCODER_DIR",
                        help="also train variants with this encoder (static or ONNX export) and record the "
                             "comparison in the model card (repeatable; slow)")
    parser.add_argument("--fixmystreet", type=Path, metavar="FILE",
                        help="FixMyStreet JSONL(.gz) to measure service generalisation on, recorded in the card")
    operating_point = parser.add_argument_group(
        "urgent operating point", "out of fold, the urgent threshold comes down until it catches the recall "
        "floor, then on towards the recall target while precision stays at or above its floor. The card's "
        "urgent_out_of_fold table shows the trade-off; promotion refuses a model with lower held-out urgent "
        "recall unless forced")
    operating_point.add_argument("--urgent-recall-floor", type=_share, metavar="R",
                                 help="recall to reach whatever the false alarms (default 0.98)")
    operating_point.add_argument("--urgent-recall-target", type=_share, metavar="R",
                                 help="recall to aim for past the floor (default 0.99)")
    operating_point.add_argument("--urgent-precision-floor", type=_share, metavar="P",
                                 help="precision the threshold may not fall below past the recall floor "
                                      "(default 0.60); lower sends the duty team more false alarms")


OPERATING_POINT = ("urgent_recall_floor", "urgent_recall_target", "urgent_precision_floor")


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def run(args: argparse.Namespace) -> int:
    from triage.classify.dataset import DataError, load_samples, validate
    from triage.classify.registry import ModelNotFound, current_version, new_version, set_current
    from triage.classify.training import TrainConfig, train
    from triage.cli import UserError
    from triage.config import load_settings

    settings = load_settings()
    operating_point = {name: getattr(args, name) for name in OPERATING_POINT if getattr(args, name) is not None}
    try:
        config = TrainConfig(seed=args.seed, **operating_point)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        samples = load_samples(args.data)
    except (DataError, OSError) as exc:
        raise UserError(str(exc)) from None
    report = validate(samples)
    if not report.ok:
        for error in report.errors[:20]:
            print(f"data error: {error}", file=sys.stderr)
        raise UserError(f"{len(report.errors)} data errors in {args.data}; nothing trained")
    for shortfall in report.shortfalls:
        print(f"warning: {shortfall}", file=sys.stderr)
    extra = _corrections(settings) if args.include_corrections else []
    if args.include_corrections:
        _progress(f"{len(extra)} staff corrections added to the training split")

    model_dir = settings.model_dir
    version = args.version or new_version(model_dir)
    if (model_dir / version).exists():
        raise UserError(f"model {version} already exists in {model_dir}")
    config = dataclasses.replace(config, encoder=_encoder(args, model_dir))
    _progress(f"training {version} on {args.data} ({len(samples)} samples)")
    result = train(samples, config, version, extra=extra, progress=_progress)
    card = dict(result.model.card)
    if config.encoder:
        card["encoder"] = json.loads((Path(config.encoder) / "encoder.json").read_text(encoding="utf-8"))
    thresholds = _auto_reply_thresholds(result.model, result.held_out)
    if thresholds:
        card["thresholds"] = thresholds
    if args.fixmystreet:
        card["fixmystreet"] = _fixmystreet(result.model, args.fixmystreet)
    if args.compare:
        card["feature_comparison"] = _compare(samples, config, extra, result, args)
    result.model.card = card
    result.model.save(model_dir / version)
    _print_summary(version, card)
    try:
        current = current_version(model_dir)
    except ModelNotFound:
        set_current(model_dir, version, action="promote", note="first model")
        print(f"{version} is the current model (there was none)")
        return 0
    print(f"current model is still {current}; promote with: triage models promote {version}")
    return 0


def _encoder(args: argparse.Namespace, model_dir: Path) -> str | None:
    from triage.cli import UserError

    if args.no_embeddings:
        return None
    encoder = args.embeddings or model_dir / DEFAULT_ENCODER
    if not (encoder / "vectors.npy").is_file():
        if args.embeddings:
            raise UserError(f"no static encoder (vectors.npy) in {encoder}; an ONNX encoder is for --compare only")
        _progress(f"no encoder at {encoder}: training the pure TF-IDF model")
        return None
    return str(encoder)


def _progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def _corrections(settings) -> list:
    """Staff-corrected labels from the database, as training samples (never held out: they are extra)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from triage.classify.dataset import Sample
    from triage.store.db import make_engine
    from triage.store.models import TrainingSample

    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(TrainingSample).order_by(TrainingSample.id)).all()
            return [Sample(id=f"db-{row.id}", channel=row.channel, subject=row.subject, text=row.text,
                           service=row.service, contact_type=row.contact_type,
                           avoidable_reason=row.avoidable_reason, urgent=bool(row.urgent),
                           language=row.language) for row in rows]
    finally:
        engine.dispose()


def _auto_reply_thresholds(model, held_out) -> dict[str, float] | None:
    """Per-head confidence floors for automatic replies, chosen by the decision policy on the held-out split."""
    from triage.classify.model import Message
    from triage.decide import Labels, choose_thresholds

    _progress("choosing auto-reply thresholds on the held-out split")
    predictions = model.predict_many([Message(s.text, s.channel, s.subject) for s in held_out])
    pairs = [(Labels(p.service, p.contact_type, p.avoidable_reason, p.urgent, p.language, p.confidence),
              Labels(s.service, s.contact_type, s.avoidable_reason, s.urgent, s.language, {}))
             for p, s in zip(predictions, held_out, strict=True)]
    return choose_thresholds(pairs)


def _fixmystreet(model, path: Path) -> dict:
    from triage.classify.fixmystreet import load_reports
    from triage.classify.metrics import fixmystreet_report

    reports = load_reports(path, per_service=FIXMYSTREET_PER_SERVICE, seed=0)
    _progress(f"scoring {len(reports)} FixMyStreet reports")
    return fixmystreet_report(model, reports) | {"source": path.name, "per_service_cap": FIXMYSTREET_PER_SERVICE}


FIXMYSTREET_PER_SERVICE = 300


def _compare(samples, config, extra, result, args) -> dict:
    """Held-out and FixMyStreet figures, training time and speed: TF-IDF alone and with each encoder."""
    from triage.classify.training import speed, train

    variants = {config.encoder: result}
    for encoder in [None, *map(str, args.compare)]:
        if encoder not in variants:
            _progress(f"comparison: training with {Path(encoder).name if encoder else 'TF-IDF only'}")
            variants[encoder] = train(samples, dataclasses.replace(config, encoder=encoder), "comparison",
                                      extra=extra, progress=_progress)
    comparison = {}
    for encoder, variant in variants.items():
        name = variant.model.card["features"] + (f" ({Path(encoder).name})" if encoder else "")
        _progress(f"comparison: measuring {name}")
        comparison[name] = {"summary": variant.model.card["summary"],
                            "training_seconds": variant.model.card["training_seconds"],
                            "messages_per_second_one_core": speed(variant.model, variant.held_out)}
        if args.fixmystreet:
            fms = _fixmystreet(variant.model, args.fixmystreet)
            comparison[name]["fixmystreet_accuracy"] = fms["accuracy"]
            comparison[name]["fixmystreet_macro_recall"] = fms["macro_recall"]
    return comparison


def _print_summary(version: str, card: dict) -> None:
    print(f"model {version}: held-out ({card['data']['held_out']} samples)")
    for name, value in card["summary"].items():
        print(f"  {name:<28} {value:.4f}")
    if "fixmystreet" in card:
        print(f"  {'fixmystreet_service_accuracy':<28} {card['fixmystreet']['accuracy']:.4f}")
    for name, figures in card.get("feature_comparison", {}).items():
        print(f"  comparison {name}: service {figures['summary']['service_macro_f1']:.4f}, "
              f"{figures['messages_per_second_one_core']:.0f} msg/s")
