"""Operator commands: `python -m backend init-db | create-user EMAIL ROLE | load-sample-kb | dynamodb-local`."""
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
    commands.add_parser("load-sample-kb", help="add the sample handbook to the knowledge base and index it (idempotent)")
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
    if args.command == "load-sample-kb":
        return load_sample_kb()
    if args.command == "dynamodb-local":
        from backend.runtime.dynamodb_local import run_foreground

        return run_foreground()
    return 2


def load_sample_kb() -> int:
    """The sample handbook, loaded and indexed before returning; the embedded database is started for the
    command when the app is not running (and stopped after)."""
    from backend.runtime.startup import start_local_runtime
    from backend.services.ai import knowledge_base
    from backend.services.platform.access import Actor, Role

    started = start_local_runtime()
    try:
        loaded = knowledge_base.load_sample(Actor("cli", None, Role.ADMIN))
        knowledge_base.wait_idle(timeout=300)
        documents = knowledge_base.list_documents(Actor("cli", None, Role.ADMIN)).documents
        sample = {d.document_id: d for d in documents if d.sample}
        for document in loaded.documents:
            state = sample.get(document.document_id, document)
            print(f"{state.status:>8}  {state.passages:>3} passages  {state.title}" + (f"  ({state.error})" if state.error else ""))
        print(f"added {loaded.added}, already there {loaded.already}")
        return 0 if all(d.status == "indexed" for d in sample.values()) else 1
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        if started is not None:
            started.stop()


if __name__ == "__main__":
    sys.exit(main())
