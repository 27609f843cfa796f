"""`telcamp list create|show|add|remove|import|search|delete|exclusions|override|sync`.

The CLI acts as the operator (every region, full numbers) unless --region narrows it to
one node of the region tree, exactly as a user of that region would see it. LIST is a
list id or name.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from telcamp.core.db import session_scope
from telcamp.core.errors import FileRejected, ValidationFailed
from telcamp.core.security import Principal, system_principal
from telcamp.lists import coverage, exclusions, importer, service, sync
from telcamp.lists.schemas import ListCreate, ListType, ListUpdate, parse_msisdn

NAME = "list"
app = typer.Typer(help="Special lists: blacklists, greylists, opt-outs, test numbers, "
                       "imported lists; default exclusions.", no_args_is_help=True)
console = Console()
REGION = typer.Option(None, "--region", help="Act as a user of this region node "
                                             "(default: the whole operator).")


def _principal(region: str | None) -> Principal:
    base = system_principal()
    return replace(base, username="cli", region_code=region) if region else replace(
        base, username="cli")


def _list_id(ref: str, principal: Principal) -> int:
    with session_scope() as s:
        return service.resolve_list(s, principal=principal, ref=ref).id


@app.command("create")
def create(
    name: str,
    type_: ListType = typer.Option(..., "--type", help="blacklist, greylist, optout, test "
                                                       "or custom."),
    owner: str | None = typer.Option(None, "--owner", help="Owning region node (default: "
                                     "--region, or operator-wide)."),
    description: str = typer.Option("", "--description"),
    region: str | None = REGION,
) -> None:
    """Create a list (blacklist, greylist and optout are excluded from every campaign)."""
    who = _principal(region)
    with session_scope() as s:
        lst = service.create_list(s, principal=who, list_in=ListCreate(
            name=name, type=type_, region_code=owner, description=description))
        list_id, owner_code = lst.id, lst.region_code
    sync.sync_lists([list_id])
    console.print(f"list {list_id} {name!r} ({type_}) owned by {owner_code or 'operator-wide'}")


@app.command("rename")
def rename(list_ref: str, new_name: str, region: str | None = REGION) -> None:
    """Rename a list."""
    who = _principal(region)
    list_id = _list_id(list_ref, who)
    with session_scope() as s:
        service.update_list(s, principal=who, list_id=list_id, list_in=ListUpdate(name=new_name))
    console.print(f"list {list_id} renamed to {new_name!r}")


@app.command("show")
def show(
    list_ref: str | None = typer.Argument(None, help="A list; without it, every list."),
    limit: int = typer.Option(20, help="Members to show."),
    as_json: bool = typer.Option(False, "--json"),
    region: str | None = REGION,
) -> None:
    """Every list with its member counts, or one list and its newest members."""
    who = _principal(region)
    sync.ensure_synced()
    with session_scope() as s:
        if list_ref is None:
            lists = service.visible_lists(s, principal=who)
            if as_json:
                typer.echo(json.dumps([x.model_dump(mode="json") for x in lists], indent=2))
                return
            table = Table("id", "name", "type", "owner", "members", "expired", "default excl.")
            for x in lists:
                table.add_row(str(x.id), x.name, x.type, x.region_code or "operator-wide",
                              f"{x.members:,}", f"{x.expired:,}",
                              "yes" if x.default_excluded else "")
            console.print(table)
            return
        info = service.read_list(s, principal=who, list_id=_list_id(list_ref, who))
        rows = service.members(s, principal=who, list_id=info.id, limit=limit)
    if as_json:
        typer.echo(json.dumps({"list": info.model_dump(mode="json"),
                               "members": [m.model_dump(mode="json") for m in rows]}, indent=2))
        return
    console.print(f"list {info.id} {info.name!r} ({info.type}), owner "
                  f"{info.region_code or 'operator-wide'}: {info.members:,} members, "
                  f"{info.expired:,} expired")
    table = Table("msisdn", "reason", "expires", "added by", "added at")
    for m in rows:
        table.add_row(m.msisdn + (" (expired)" if m.expired else ""), m.reason or "",
                      (f"through {m.expires_through} ({m.zone})" if m.expires_through
                       else f"{m.expires_local} ({m.zone})" if m.expires_at else "never"),
                      m.added_by,
                      m.added_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command("add")
def add(
    list_ref: str,
    msisdn: str,
    reason: str | None = typer.Option(None, "--reason"),
    expires: str | None = typer.Option(None, "--expires", help="ISO date (counts through "
                                       "that day, UTC) or datetime."),
    region: str | None = REGION,
) -> None:
    """Add one number (or update its reason and expiry)."""
    who = _principal(region)
    list_id = _list_id(list_ref, who)
    with session_scope() as s:
        service.add_member(s, principal=who, list_id=list_id, msisdn=msisdn, reason=reason,
                           expires_at=expires)
    sync.sync_member(list_id, parse_msisdn(msisdn))
    console.print(f"{parse_msisdn(msisdn)} is on list {list_id}")
    _say_coverage(coverage.check([parse_msisdn(msisdn)]), one=True)


@app.command("remove")
def remove(list_ref: str, msisdn: str, region: str | None = REGION) -> None:
    """Remove one number from a list."""
    who = _principal(region)
    list_id = _list_id(list_ref, who)
    with session_scope() as s:
        service.remove_member(s, principal=who, list_id=list_id, msisdn=msisdn)
    sync.sync_member(list_id, parse_msisdn(msisdn))
    console.print(f"{parse_msisdn(msisdn)} removed from list {list_id}")


@app.command("import")
def import_(
    list_ref: str,
    file: Path = typer.Argument(..., help="UTF-8 CSV: msisdn[,reason[,expiry]], header "
                                "optional."),
    accept_partial: bool = typer.Option(False, "--accept-partial", help="Import the good "
                                        "rows even when some rows are rejected."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    region: str | None = REGION,
) -> None:
    """Import numbers from CSV. Any bad row: nothing is imported unless --accept-partial."""
    who = _principal(region)
    list_id = _list_id(list_ref, who)
    if not file.is_file():
        raise ValidationFailed(f"{file}: no such file", field="file")
    with session_scope() as s:
        zone = service.list_zone(s, principal=who, list_id=list_id)
    try:
        parsed = importer.parse(file.read_bytes(), file=file.name, tz=zone)
        with session_scope() as s:
            report = importer.apply(s, principal=who, list_id=list_id, parsed=parsed,
                                    confirm_partial=accept_partial)
    except FileRejected as exc:
        if not as_json:
            raise
        # the refusal as the API gives it (a partial import: with its report of rows),
        # on stdout for the script that asked for JSON; still exit 2
        typer.echo(json.dumps(exc.to_dict(), indent=2, default=str))
        raise typer.Exit(2) from None
    sync.sync_import(list_id, parsed.valid)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    for row in report.rejected:
        column = f" [{row.column}]" if row.column else ""
        # markup=False: "[expiry]" is text, not a Rich style tag
        console.print(f"  rejected {file.name}:{row.line}{column} {row.value!r}: {row.reason}",
                      highlight=False, markup=False)
    console.print(f"{file.name}: {report.rows:,} rows, {report.added:,} added, "
                  f"{report.updated:,} updated, {report.rejected_total:,} rejected")
    _say_coverage(coverage.Coverage(report.not_subscribers, report.national_like, False)
                  if report.not_subscribers is not None else None)


def coverage_lines(cov: coverage.Coverage | None, *, one: bool = False) -> list[str]:
    """The report's notes on numbers no subscriber has (coverage.check), with the verb
    agreeing with the count ("1 of the numbers is", not "are"); `one`: said of the one
    number just added."""
    if cov is None or not cov.not_subscribers:
        return []
    n, national = cov.not_subscribers, cov.national_like
    kept = "(kept: it will count once such a subscriber is loaded)" if one or n == 1 else (
        "(kept: they will count once such subscribers are loaded)")
    lines = [("the number is not a subscriber" if one else
              "1 of the numbers is not a subscriber" if n == 1 else
              f"{n:,} of the numbers are not subscribers") + f" in the warehouse {kept}"]
    if national:
        who = ("it looks like a subscriber's number" if one else
               "1 of them looks like a subscriber's number" if national == 1 else
               f"{national:,} of them look like subscribers' numbers")
        again = "add it again" if one or national == 1 else "add them again"
        lines.append(f"{who} written the national way (trunk prefix instead of the country "
                     "code) and will never match: no numbering plan is configured; set "
                     f"{', '.join(coverage.PLAN_SETTINGS)} (docs/lists.md) and {again}")
    return lines


def _say_coverage(cov: coverage.Coverage | None, *, one: bool = False) -> None:
    for line in coverage_lines(cov, one=one):
        console.print(f"note: {line}", highlight=False)


@app.command("search")
def search(msisdn: str, as_json: bool = typer.Option(False, "--json"),
           region: str | None = REGION) -> None:
    """Is a number on any list: which, why, until when."""
    who = _principal(region)
    with session_scope() as s:
        hits = service.search(s, principal=who, msisdn=msisdn)
    if as_json:
        typer.echo(json.dumps([h.model_dump(mode="json") for h in hits], indent=2))
        return
    if not hits:
        console.print(f"{msisdn.strip()} is on no list")
        return
    for h in hits:
        until = (f"until the end of {h.expires_through} ({h.zone})" if h.expires_through
                 else f"until {h.expires_local} ({h.zone})" if h.expires_at
                 else "no expiry")
        state = "EXPIRED " if h.expired else ""
        console.print(f"{state}list {h.list_id} {h.list_name!r} ({h.list_type}): "
                      f"{h.reason or 'no reason given'}; {until}", highlight=False)


@app.command("delete")
def delete(list_ref: str, yes: bool = typer.Option(False, "--yes", help="Do not ask."),
           region: str | None = REGION) -> None:
    """Delete a list and its members."""
    who = _principal(region)
    list_id = _list_id(list_ref, who)
    if not yes:
        typer.confirm(f"delete list {list_id} and all its members?", abort=True)
    with session_scope() as s:
        service.delete_list(s, principal=who, list_id=list_id)
    sync.sync_lists([list_id])
    console.print(f"list {list_id} deleted")


@app.command("exclusions")
def show_exclusions(campaign: int | None = typer.Option(None, "--campaign"),
                    region: str | None = REGION) -> None:
    """The default exclusions in funnel order (minus the campaign's overrides)."""
    with session_scope() as s:
        rules = exclusions.default_exclusions(s, principal=_principal(region),
                                              campaign_id=campaign)
    for i, rule in enumerate(rules, 1):
        console.print(f"{i}. {rule.label}", highlight=False)


@app.command("override")
def override(campaign: int, list_ref: str, reason: str = typer.Option("", "--reason"),
             remove_it: bool = typer.Option(False, "--remove", help="Remove the override."),
             region: str | None = REGION) -> None:
    """Let one campaign ignore one default exclusion list (audited)."""
    who = _principal(region)
    list_id = _list_id(list_ref, who)
    with session_scope() as s:
        if remove_it:
            exclusions.remove_override(s, principal=who, campaign_id=campaign, list_id=list_id)
        else:
            exclusions.add_override(s, principal=who, campaign_id=campaign, list_id=list_id,
                                    reason=reason)
    console.print(f"campaign {campaign}: list {list_id} "
                  f"{'excluded again' if remove_it else 'no longer excluded'}")


@app.command("sync")
def sync_cmd() -> None:
    """Repair the warehouse copy of list members (after a crash or a busy warehouse)."""
    copied = sync.ensure_synced()
    console.print(f"{len(copied)} lists copied to the warehouse" if copied else
                  "the warehouse copy is up to date")
