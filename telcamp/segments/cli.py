"""`telcamp segment count|save|snapshot|list|show|delete|template-delete|purge`.

The CLI acts as the operator (system principal, every region) unless --region narrows it
to one node of the region tree, exactly as a user of that region would see it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from telcamp.core.errors import NotFound, ValidationFailed
from telcamp.core.security import Principal, system_principal

NAME = "segment"
app = typer.Typer(help="Audience selection: count rules, save segments, take snapshots.",
                  no_args_is_help=True)
console = Console()
REGION = typer.Option(None, "--region", help="Act as a user of this region node "
                                             "(default: the whole operator).")


def _principal(region: str | None) -> Principal:
    base = system_principal()
    if not region:
        return base
    from telcamp.lists.scope import known_region

    if not known_region(region):  # a typo must not count (or save for) nobody silently
        raise NotFound(f"region {region} not found", field="region")
    return replace(base, username="cli", region_code=region)


def read_rule(path: str) -> Any:
    """A rule's JSON from a file ('-' = standard input); errors name file, line, column."""
    name = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationFailed(f"{name}: no such file", field="rules") from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"{name}: not UTF-8 text", field="rules") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
                               field="rules") from None


def _find_segment(session: Any, ref: str, principal: Principal) -> int:
    from sqlalchemy import select

    from telcamp.segments import service
    from telcamp.segments.models import Segment

    if ref.isdigit():
        return service.get(session, segment_id=int(ref), principal=principal).id
    rows = session.scalars(select(Segment).where(Segment.name == ref)).all()
    for seg in rows:
        if seg.region_code == principal.region_code:
            return int(seg.id)
    raise NotFound(f"segment {ref!r} not found", field="segment")


@app.command("count")
def count_cmd(
    rules: str = typer.Argument(..., help="Rule JSON file ('-' for standard input)."),
    as_json: bool = typer.Option(False, "--json", help="Print count, funnel and profile "
                                                       "as JSON."),
    field: str | None = typer.Option(None, "--field", help="Extra profile dimension."),
    region: str | None = REGION,
) -> None:
    """Count the subscribers a rule selects; with --json also the funnel and profile."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service

    rule = read_rule(rules)
    migrate()
    parts = ("count", "funnel", "profile") if as_json else ("count",)
    with session_scope() as s:
        out = service.evaluate(s, rule=rule, principal=_principal(region), parts=parts,
                               field=field)
    if as_json:
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        typer.echo(f"{out['count']}")


@app.command("save")
def save_cmd(
    name: str = typer.Argument(..., help="Segment name (a new version if it exists)."),
    rules: str = typer.Argument(..., help="Rule JSON file ('-' for standard input)."),
    description: str = typer.Option("", "--description"),
    note: str = typer.Option("", "--note", help="What changed (for a new version)."),
    region: str | None = REGION,
) -> None:
    """Save a rule as a segment, or as a new version of the segment with that name."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service
    from telcamp.segments.schemas import SegmentCreate, SegmentUpdate

    rule = read_rule(rules)
    migrate()
    principal = _principal(region)
    before = None
    with session_scope() as s:
        try:
            seg_id = _find_segment(s, name, principal)
        except NotFound:
            seg = service.create(s, segment_in=SegmentCreate(
                name=name, description=description, rule=rule), principal=principal)
        else:
            before = service.read(s, segment_id=seg_id, principal=principal).current_version
            seg = service.update(s, segment_id=seg_id, principal=principal,
                                 segment_in=SegmentUpdate(rule=rule, note=note,
                                                          description=description or None))
    if before is not None and seg.current_version == before:
        # a note belongs to a version: with no new version there is nothing to attach it to,
        # and rewriting the old version's note would change history; say so, not "version N"
        dropped = "; the note was not saved (notes belong to new versions)" if note else ""
        typer.echo(f"segment {seg.id} {seg.name!r}: the rule is unchanged, no new version "
                   f"was made (still version {seg.current_version}){dropped}")
        return
    typer.echo(f"segment {seg.id} {seg.name!r} version {seg.current_version}")


@app.command("snapshot")
def snapshot_cmd(
    segment: str = typer.Argument(..., help="Segment id or name."),
    version: int | None = typer.Option(None, "--version", help="Default: the current one."),
    region: str | None = REGION,
) -> None:
    """Materialise a segment's final audience as an immutable snapshot."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service

    migrate()
    principal = _principal(region)
    with session_scope() as s:
        snap = service.take_snapshot(s, segment_id=_find_segment(s, segment, principal),
                                     version=version, principal=principal)
    typer.echo(f"snapshot {snap.id}: {snap.count} members (matched {snap.matched}, "
               f"as of {snap.as_of_date})")
    for step in snap.funnel[1:]:
        removed = f"−{step['removed']:,}" if step["removed"] else "none removed"
        typer.echo(f"  - {step['label']}: {removed} → {step['remaining']:,}")


@app.command("list")
def list_cmd(region: str | None = REGION,
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Saved segments (of the region, with --region)."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service

    migrate()
    with session_scope() as s:
        rows = service.list_segments(s, principal=_principal(region))
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    table = Table("id", "name", "region", "version", "updated", title="Segments")
    for r in rows:
        table.add_row(str(r.id), r.name, r.region_code or "-", str(r.current_version),
                      r.updated_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command("show")
def show_cmd(
    segment: str = typer.Argument(..., help="Segment id or name."),
    version: int | None = typer.Option(None, "--version"),
    region: str | None = REGION,
) -> None:
    """A segment's rule (current or given version), its versions and snapshots."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service

    migrate()
    principal = _principal(region)
    with session_scope() as s:
        seg_id = _find_segment(s, segment, principal)
        seg = service.read(s, segment_id=seg_id, principal=principal)
        ver = service.version(s, segment_id=seg_id, version=version or seg.current_version,
                              principal=principal)
        vers = service.versions(s, segment_id=seg_id, principal=principal)
        snaps = service.snapshots(s, segment_id=seg_id, principal=principal)
    typer.echo(json.dumps({
        "id": seg.id, "name": seg.name, "region_code": seg.region_code,
        "version": ver.version, "rule": ver.rule,
        "versions": [{"version": v.version, "note": v.note, "by": v.created_by,
                      "at": v.created_at.isoformat()} for v in vers],
        "snapshots": [{"id": x.id, "version": x.version, "count": x.count,
                       "taken_at": x.taken_at.isoformat()} for x in snaps],
    }, indent=2, ensure_ascii=False))


@app.command("delete")
def delete_cmd(
    segment: str = typer.Argument(..., help="Segment id or name."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
    region: str | None = REGION,
) -> None:
    """Delete a segment no live campaign, segment or template uses (refused naming them
    otherwise). Its versions and snapshots stay readable (`show ID`)."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service

    migrate()
    principal = _principal(region)
    with session_scope() as s:
        seg_id = _find_segment(s, segment, principal)
    if not yes:
        typer.confirm(f"delete segment {seg_id}?", abort=True)
    with session_scope() as s:
        seg = service.delete(s, segment_id=seg_id, principal=principal)
    typer.echo(f"segment {seg.id} deleted (now {seg.name!r}; versions and snapshots kept)")


@app.command("template-delete")
def template_delete_cmd(
    template_id: int = typer.Argument(..., help="Template id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
    region: str | None = REGION,
) -> None:
    """Delete a criteria template of the region."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import criteria

    migrate()
    if not yes:
        typer.confirm(f"delete template {template_id}?", abort=True)
    with session_scope() as s:
        tpl = criteria.delete_template(s, template_id=template_id,
                                       principal=_principal(region))
    typer.echo(f"template {tpl.id} deleted")


@app.command("purge")
def purge_cmd() -> None:
    """Delete warehouse members of snapshots that were rolled back (maintenance)."""
    from telcamp.core.db import migrate, session_scope
    from telcamp.segments import service

    migrate()
    with session_scope() as s:
        n = service.purge_orphan_members(s)
    typer.echo(f"{n} orphan snapshot member rows deleted")
