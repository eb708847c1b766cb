"""`triage staff add USERNAME --role ROLE`: create a staff account; the password is read, never an argument."""

from __future__ import annotations

import argparse
import sys

HELP = "Manage staff accounts for the staff pages (the password is read from the terminal or stdin)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create an account: asks for the password (or reads one line from stdin)")
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--role", choices=["agent", "supervisor"], required=True)


def run(args: argparse.Namespace) -> int:
    from triage.accounts import AccountError, add_user
    from triage.cli import UserError
    from triage.cli.common import start
    from triage.store.db import make_engine, session_factory, transaction

    password = read_password()
    settings = start(log_format="text")
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(session_factory(engine)) as session:
            add_user(session, args.username, password, args.role, actor="cli")
    except AccountError as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"added {args.role} {args.username}")
    return 0


def read_password() -> str:
    """Ask twice on a terminal; from a pipe, take the first line (for scripted set-up)."""
    from getpass import getpass

    from triage.cli import UserError

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass("Password: ")
    if getpass("Password again: ") != password:
        raise UserError("the passwords differ")
    return password
