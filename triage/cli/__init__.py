"""The `triage` command.

Each subcommand lives in its own module here with `HELP`, `add_arguments(parser)`
and `run(args) -> int`; modules import heavy libraries inside `run`, so that
`triage --help` and `triage deadlines` start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, str] = {
    "run": "triage.cli.run",
    "worker": "triage.cli.worker",
    "scheduler": "triage.cli.scheduler",
    "deadlines": "triage.cli.deadlines",
    "cases": "triage.cli.cases",
    "db": "triage.cli.db",
    "sweep": "triage.cli.sweep",
    "smtp": "triage.cli.smtp",
    "imap": "triage.cli.imap",
    "telegram": "triage.cli.telegram",
    "post": "triage.cli.post",
    "classify": "triage.cli.classify",
    "train": "triage.cli.train",
    "evaluate": "triage.cli.evaluate",
    "models": "triage.cli.models",
    "staff": "triage.cli.staff",
    "report": "triage.cli.report",
}


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as a single line (and a pointer to --help)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="triage", description="Council correspondence triage.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from triage.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (UserError, ConfigError) as exc:
        print(f"triage {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
