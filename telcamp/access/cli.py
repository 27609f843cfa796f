"""`telcamp user add|passwd|disable|enable|list` and `telcamp token create|revoke|list`.

The CLI is run by operator IT on the server and acts as the operator (system principal).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from telcamp.access import service, tokens
from telcamp.core.db import migrate, session_scope
from telcamp.core.security import system_principal

console = Console()
user_app = typer.Typer(help="Console users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts and channel systems.",
                        no_args_is_help=True)


def _password(given: str | None) -> str:
    if given:
        return given
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    username: str,
    role: str = typer.Option(..., help="admin, marketer, approver, analyst, agent"),
    region: str | None = typer.Option(None, help="Region code (province, city or county); "
                                      "omit for the whole operator."),
    password: str | None = typer.Option(None, help="Prompted for when omitted."),
    email: str | None = typer.Option(None, help="E-mail address for notifications "
                                     "(approvals)."),
) -> None:
    """Create a user."""
    migrate()
    with session_scope() as session:
        service.check_role(role)
        user = service.create_user(session, username=username, password=_password(password),
                                   role=role, region_code=region, actor=system_principal(),
                                   email=email)
        console.print(f"user {user.username} created: role {user.role}, region "
                      f"{user.region_code or 'whole operator'}, e-mail {user.email or '-'}")


@user_app.command("passwd")
def user_passwd(
    username: str,
    password: str | None = typer.Option(None, help="Prompted for when omitted."),
) -> None:
    """Set a user's password (their open sessions end)."""
    migrate()
    with session_scope() as session:
        service.set_password(session, username=username, password=_password(password),
                             actor=system_principal())
    console.print(f"password of {username} changed; their sessions were ended")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user and end their sessions."""
    migrate()
    with session_scope() as session:
        service.set_disabled(session, username=username, disabled=True,
                             actor=system_principal())
    console.print(f"user {username} disabled")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user again."""
    migrate()
    with session_scope() as session:
        service.set_disabled(session, username=username, disabled=False,
                             actor=system_principal())
    console.print(f"user {username} enabled")


@user_app.command("set")
def user_set(
    username: str,
    role: str | None = typer.Option(None, help="New role."),
    region: str | None = typer.Option(None, help="New region code."),
    whole_operator: bool = typer.Option(False, "--whole-operator",
                                        help="Remove the region limit."),
    email: str | None = typer.Option(None, help='New e-mail address ("" removes it).'),
) -> None:
    """Change a user's role, region or e-mail."""
    migrate()
    with session_scope() as session:
        user = service.update_user(session, username=username, actor=system_principal(),
                                   role=role, region_code=region, clear_region=whole_operator,
                                   email=email)
        console.print(f"user {user.username}: role {user.role}, region "
                      f"{user.region_code or 'whole operator'}, e-mail {user.email or '-'}")


@user_app.command("list")
def user_list() -> None:
    """List users."""
    migrate()
    with session_scope() as session:
        users = service.list_users(session)
        table = Table("username", "role", "region", "e-mail", "status", "created")
        for u in users:
            table.add_row(u.username, u.role, u.region_code or "-", u.email or "-",
                          "disabled" if u.disabled else "active", str(u.created_at)[:19])
    console.print(table)


@token_app.command("create")
def token_create(
    name: str,
    role: str = typer.Option("channel", help="The role the token acts as."),
    region: str | None = typer.Option(None, help="Region code the token is limited to."),
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    migrate()
    with session_scope() as session:
        text, row = tokens.create(session, name=name, role=role, region_code=region,
                                  actor=system_principal())
        token_id = row.id
    scope = f"region {region}" if region else "operator-wide"
    console.print(f"token {token_id} ({name}, role {role}, {scope}); copy it now, it is not "
                  "shown again:")
    typer.echo(text)


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token by id."""
    migrate()
    with session_scope() as session:
        tokens.revoke(session, token_id=token_id, actor=system_principal())
    console.print(f"token {token_id} revoked")


@token_app.command("list")
def token_list() -> None:
    """List API tokens (never their text)."""
    migrate()
    with session_scope() as session:
        rows = tokens.list_tokens(session, actor=system_principal())
        table = Table("id", "name", "prefix", "role", "region", "created", "last used", "status")
        for t in rows:
            table.add_row(str(t.id), t.name, t.prefix + "…", t.role, t.region_code or "-",
                          str(t.created_at)[:19],
                          str(t.last_used_at)[:19] if t.last_used_at else "-",
                          "revoked" if t.revoked_at else "active")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
