"""`triage report ni14|performance --from DATE --to DATE [--csv]`: the council's reporting duties."""

from __future__ import annotations

import argparse
from datetime import date

HELP = "NI14 avoidable contact, or service-standard performance, over London dates (both ends included)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["ni14", "performance"])
    parser.add_argument("--from", dest="start", type=_date, required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="end", type=_date, required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--csv", action="store_true", help="CSV on standard output instead of a table")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-04-30") from None


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from triage import reports
    from triage.cli import UserError
    from triage.cli.common import start
    from triage.deadlines import london_date
    from triage.store.db import make_engine, session_factory

    if args.end < args.start:
        raise UserError("--to is before --from")
    settings = start(log_format="text")
    engine = make_engine(settings.effective_database_url)
    try:
        with session_factory(engine)() as session:
            if args.kind == "ni14":
                report = reports.ni14(reports.contact_rows(session, args.start, args.end), args.start, args.end)
            else:
                report = reports.performance(reports.case_rows(session, args.start, args.end), args.start,
                                             args.end, london_date(datetime.now(UTC)))
    finally:
        engine.dispose()
    if args.csv:
        print(reports.ni14_csv(report) if args.kind == "ni14" else reports.performance_csv(report), end="")
    else:
        print(ni14_table(report) if args.kind == "ni14" else performance_table(report))
    return 0


def ni14_table(report) -> str:
    lines = [f"NI14 avoidable contact, {report.start} to {report.end}",
             f"{'':9}{'name':24}{'total':>7}{'avoidable':>11}{'%':>7}"]
    for line in report.lines:
        percent = "-" if line.percent_avoidable is None else f"{line.percent_avoidable:.1f}"
        lines.append(f"{line.breakdown:9}{line.name:24}{line.total:>7}{line.avoidable:>11}{percent:>7}")
    if report.unlabelled:
        lines.append(f"{report.unlabelled} contacts not labelled yet are left out")
    return "\n".join(lines)


def performance_table(report) -> str:
    def share(standard) -> str:
        percent = "-" if standard.percent_met is None else f"{standard.percent_met:.1f}%"
        return f"{percent} met ({standard.met} met, {standard.breached} breached, {standard.pending} not yet due)"

    lines = [f"Service standards, cases received {report.start} to {report.end}",
             f"processed by the processing date: {share(report.processing)}",
             f"responded to by the measured date: {share(report.response)}"]
    for o in report.breaches:
        lines.append(f"breach {o.row.reference:10} {o.row.service or '-':22} processing {o.processing:8} "
                     f"response {o.response}")
    return "\n".join(lines)
