"""Operator commands: `python -m backend init-db | create-user EMAIL ROLE | dynamodb-local`."""
from __future__ import annotations

import argparse
import getpass
import sys

from backend.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help="create every table, index and TTL (idempotent)")
    user = commands.add_parser("create-user", help="add a local user (asks for the password)")
    user.add_argument("email")
    user.add_argument("role", choices=["Viewer", "Operator", "Admin"])
    commands.add_parser("dynamodb-local", help="run DynamoDB Local in the foreground until Ctrl-C")
    args = parser.parse_args(argv)

    if args.command == "init-db":
        from backend.models.schema import init_db

        for line in init_db() or ["all tables up to date"]:
            print(line)
        return 0
    if args.command == "create-user":
        from backend.services.platform.access import Actor, Role
        from backend.services.platform.users import create_user

        password = getpass.getpass("Password (at least 12 characters): ")
        try:
            user = create_user(Actor("cli", None, Role.ADMIN), args.email, args.role, password)
        except DomainError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 1
        print(f"created {user.role.value} {user.email}")
        return 0
    if args.command == "dynamodb-local":
        from backend.runtime.dynamodb_local import run_foreground

        return run_foreground()
    return 2


if __name__ == "__main__":
    sys.exit(main())
