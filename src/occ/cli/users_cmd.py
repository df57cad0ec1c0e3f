"""``occ users``: the operators who sign in to the dashboard."""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import Connection

from occ.cli.links import check_base_url, dashboard_address, signin_link
from occ.cli.shared import ConfigOption, DbOption, handles_errors, open_engine, out, settings_from
from occ.errors import InputFileError, NotFoundError
from occ.store.operators import (
    MIN_PASSWORD_LENGTH,
    add_operator,
    issue_api_token,
    issue_signin_link,
    normalize_email,
)

__all__ = ["DEMO_OPERATOR", "demo_operator_link", "users_app"]

DEMO_OPERATOR = "demo@occ.local"


def demo_operator_link(connection: Connection, now: datetime) -> str:
    """A one-time sign-in link token for the demo operator (created with a random password)."""
    try:
        issue = issue_signin_link(connection, DEMO_OPERATOR, now, timedelta(hours=1))
    except NotFoundError:
        add_operator(connection, DEMO_OPERATOR, secrets.token_urlsafe(24), now)
        issue = issue_signin_link(connection, DEMO_OPERATOR, now, timedelta(hours=1))
    return issue


users_app = typer.Typer(help="Operators who sign in to the dashboard.", no_args_is_help=True)


@users_app.command("add")
@handles_errors
def add(
    email: Annotated[str, typer.Argument(help="The operator's e-mail (their sign-in name)")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Add an operator; prompts for the password (argon2-hashed, never stored in clear)."""
    address = normalize_email(email)
    settings = settings_from(config, db)
    not_utf8 = InputFileError("the password is not UTF-8 text; type it again or pipe it as UTF-8")
    try:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt(
                f"Password for {address} (at least {MIN_PASSWORD_LENGTH} characters)",
                hide_input=True,
                confirmation_prompt=True,
            )
        password.encode("utf-8")  # undecodable bytes arrive as lone surrogates
    except UnicodeError:
        raise not_utf8 from None
    if not password:
        raise InputFileError("no password given; type one or pipe it to --password-stdin")
    engine = open_engine(settings)
    try:
        with engine.begin() as connection:
            operator = add_operator(connection, address, password, datetime.now(UTC))
    finally:
        engine.dispose()
    out.print(f"Operator {operator.email} added; sign in at the dashboard (occ serve).")


@users_app.command("token")
@handles_errors
def token(
    email: Annotated[str, typer.Argument(help="The operator's e-mail")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Issue a new API bearer token for an operator (replaces the previous one; shown once)."""
    engine = open_engine(settings_from(config, db))
    try:
        with engine.begin() as connection:
            value = issue_api_token(connection, email)
    finally:
        engine.dispose()
    sys.stdout.write(value + "\n")


@users_app.command("link")
@handles_errors
def link(
    email: Annotated[str, typer.Argument(help="The operator's e-mail")],
    minutes: Annotated[int, typer.Option(min=1, max=1440, help="Minutes the link is valid")] = 60,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Dashboard address (default from settings)")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Print a one-time sign-in link for an operator."""
    settings = settings_from(config, db)
    if base_url is None:
        base = dashboard_address(settings.web_host, settings.web_port)
        origin = "the web_host setting"
    else:
        base, origin = base_url, "--base-url"
    check_base_url(base, origin=origin)  # before a token is issued for a link nobody can open
    engine = open_engine(settings)
    try:
        with engine.begin() as connection:
            value = issue_signin_link(
                connection, email, datetime.now(UTC), timedelta(minutes=minutes)
            )
    finally:
        engine.dispose()
    sys.stdout.write(signin_link(base, value, origin=origin) + "\n")
