r"""``shopkeeper console …``: manage the review console's users.

::

    shopkeeper console add-user ana                 # asks for the password twice
    printf '%s\n' "$PASSWORD" | shopkeeper console add-user ana --password-stdin
    shopkeeper console list-users
    shopkeeper console remove-user ana

Users live in our database (``SHOPKEEPER_DB_URL``); passwords are stored as Argon2id hashes.
The accounts' logic is the console's own (:mod:`web.console.accounts`); this module only reads the
command line and prints.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from store.db import StoreSettings, create_schema, make_engine
from web.console.accounts import AccountError, AccountStore

__all__ = ["add_console_parser"]


def _accounts(args: argparse.Namespace) -> AccountStore:
    engine = make_engine(args.db or StoreSettings.from_env().url)
    create_schema(engine)
    return AccountStore(engine)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {args.name}: ")
    second = getpass.getpass("Once more: ")
    if first != second:
        raise AccountError("the two passwords differ")
    return first


def _cmd_add_user(args: argparse.Namespace) -> int:
    try:
        _accounts(args).add_user(args.name, _read_password(args))
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Created console user {args.name}. Sign in at /console.")
    return 0


def _cmd_list_users(args: argparse.Namespace) -> int:
    users = _accounts(args).list_users()
    if not users:
        print("No console users yet: shopkeeper console add-user NAME")
        return 0
    print(f"{'name':<24}  {'created (UTC)':<16}  last sign-in (UTC)")
    for name, created, last in users:
        last_text = last.strftime("%Y-%m-%d %H:%M") if last else "never"
        print(f"{name:<24}  {created.strftime('%Y-%m-%d %H:%M'):<16}  {last_text}")
    return 0


def _cmd_remove_user(args: argparse.Namespace) -> int:
    try:
        _accounts(args).remove_user(args.name)
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Removed console user {args.name} and ended their sessions.")
    return 0


def add_console_parser(commands: Any) -> None:
    """Register ``console`` and its subcommands on the CLI's subparsers.

    Args:
        commands: the object ``ArgumentParser.add_subparsers()`` returned.
    """
    console = commands.add_parser(
        "console", help="manage review-console users",
        description="Create, list and remove the users who may sign in to the review console (/console).",
    )
    sub = console.add_subparsers(dest="console_command", required=True, metavar="SUBCOMMAND")

    def with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--db", metavar="URL",
                            help="database URL (default SHOPKEEPER_DB_URL or build/shopkeeper.db)")
        return parser

    add = with_db(sub.add_parser(
        "add-user", help="create a user (asks for the password twice)",
        description="Create a console user. The password (at least 8 characters) is asked twice, or read "
                    "from the first line of standard input with --password-stdin; it is stored as an "
                    "Argon2id hash.",
    ))
    add.add_argument("name", help="the user's sign-in name (no spaces)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_cmd_add_user)

    listing = with_db(sub.add_parser("list-users", help="list users and their last sign-in",
                                     description="List console users with when they were created and last signed in."))
    listing.set_defaults(func=_cmd_list_users)

    remove = with_db(sub.add_parser("remove-user", help="delete a user and end their sessions",
                                    description="Delete a console user; their open sessions end at once."))
    remove.add_argument("name", help="the user to remove")
    remove.set_defaults(func=_cmd_remove_user)
