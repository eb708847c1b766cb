"""`triage evaluate`: per-class precision/recall/F1, macro-F1, confusion matrices and calibration, per head."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

HELP = "Score a model on the held-out split (or on every sample of a given file) and write the report."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="VERSION", help="model version (default: the current one)")
    parser.add_argument("--data", type=Path, default=Path("training_data"),
                        help="a corpus directory (its held-out split is scored) or a JSONL file "
                             "(every sample in it is scored); default: training_data")
    parser.add_argument("--fixmystreet", type=Path, metavar="FILE",
                        help="also score service on FixMyStreet reports (JSONL or .jsonl.gz)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="where to write the JSON report (default: <data dir>/evaluations/<version>-<time>.json)")


def run(args: argparse.Namespace) -> int:
    from triage.classify.dataset import DataError, load_samples, split
    from triage.classify.metrics import evaluate, fixmystreet_report
    from triage.cli import UserError
    from triage.cli.common import load_model
    from triage.config import load_settings

    settings = load_settings()
    model = load_model(settings.model_dir, args.model)
    try:
        samples = load_samples(args.data)
    except (DataError, OSError) as exc:
        raise UserError(str(exc)) from None
    scored = split(samples)[1] if args.data.is_dir() else samples
    what = "held-out split" if args.data.is_dir() else "all samples"
    print(f"model {model.version} on {args.data} ({what}: {len(scored)} samples)", file=sys.stderr)
    report = {"model": model.version, "data": str(args.data), "scored": what,
              **evaluate(model, scored, progress=lambda m: print(f"  .. {m}", file=sys.stderr, flush=True))}
    if args.fixmystreet:
        from triage.classify.fixmystreet import load_reports

        reports = load_reports(args.fixmystreet, per_service=300, seed=0)
        print(f"  .. scoring {len(reports)} FixMyStreet reports", file=sys.stderr, flush=True)
        report["fixmystreet"] = fixmystreet_report(model, reports)
    print(render(report))
    out = args.out or settings.data_dir / "evaluations" / (
        f"{model.version}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"report written to {out}", file=sys.stderr)
    return 0


def render(report: dict) -> str:
    from triage.classify.taxonomy import LABEL_HEADS

    lines = []
    for head in (*LABEL_HEADS, "language"):
        section = report[head]
        lines += ["", f"== {head}: macro-F1 {section['macro_f1']:.4f}, accuracy {section['accuracy']:.4f}, "
                      f"calibration error (ECE) {section['calibration']['ece']:.4f}",
                  f"  {'label':<26}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>6}"]
        for label, row in section["per_class"].items():
            lines.append(f"  {label:<26}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}"
                         f"{row['support']:>6}")
        labels = section["confusion"]["labels"]
        lines.append("  confusion (rows: true, columns: predicted, in the order above):")
        lines += [f"  {label[:24]:<26}" + " ".join(f"{n:>3}" for n in row)
                  for label, row in zip(labels, section["confusion"]["matrix"], strict=True)]
        lines.append("  calibration: " + ", ".join(
            f"{b['range'][0]:.1f}-{b['range'][1]:.1f}: conf {b['confidence']:.2f} acc {b['accuracy']:.2f} (n={b['n']})"
            for b in section["calibration"]["bins"]))
    urgent = report["urgent"]
    lines += ["", f"== urgent: recall {urgent['recall']:.4f} (95% {_range(urgent['recall_interval'])}), "
                  f"precision {urgent['precision']:.4f} (95% {_range(urgent['precision_interval'])}), "
                  f"F1 {urgent['f1']:.4f}, Brier {urgent['calibration']['brier']:.4f}",
              "  confusion: " + ", ".join(f"{k} {v}" for k, v in urgent["confusion"].items())]
    if "fixmystreet" in report:
        fms = report["fixmystreet"]
        lines += ["", f"== FixMyStreet service accuracy {fms['accuracy']:.4f} (macro recall "
                      f"{fms['macro_recall']:.4f}, {fms['n']} reports)"]
        lines += [f"  {service:<26} recall {row['recall']:.3f} (n={row['n']})"
                  for service, row in fms["per_service"].items()]
    return "\n".join(lines).lstrip("\n")


def _range(interval: list[float]) -> str:
    return f"{interval[0]:.3f}-{interval[1]:.3f}"
