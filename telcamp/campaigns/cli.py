"""`telcamp campaign create|show|list|submit|approve|reject|launch|pause|resume|cancel|
rehearse|tick` and `telcamp campaign program-create`: JSON in, JSON out.

Commands act as the operator (system principal) unless `--as USER` names a console
user, whose role and region then apply (an approval needs an approver who is not the
submitter).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from telcamp.core.db import migrate, session_scope
from telcamp.core.errors import ValidationFailed
from telcamp.core.security import Principal, system_principal

NAME = "campaign"
app = typer.Typer(help="Programs and campaigns: create, approve, launch (JSON in and out).",
                  no_args_is_help=True)
AS = typer.Option(None, "--as", help="Act as this console user (default: the operator).")


def _actor(username: str | None) -> Principal:
    if username is None:
        return system_principal()
    from telcamp.access import service as access_service

    with session_scope() as s:
        return access_service.principal_for(access_service.get_user(s, username=username))


def _load(source: str) -> Any:
    """JSON from a file path, '-' (stdin) or the argument itself."""
    if source == "-":
        text = sys.stdin.read()
    elif source.lstrip().startswith(("{", "[")):
        text = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ValidationFailed(f"{source}: no such file (give JSON, a file or -)")
        text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{source}: not JSON (line {exc.lineno}, column {exc.colno}: "
                               f"{exc.msg})") from exc


def _parse(model: Any, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from exc


def _print(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _show(campaign_id: int, actor: Principal) -> dict[str, Any]:
    from telcamp.campaigns import service
    from telcamp.campaigns.schemas import CampaignRead

    with session_scope() as s:
        return CampaignRead.model_validate(service.get_campaign(
            session=s, actor=actor, campaign_id=campaign_id)).model_dump(mode="json")


@app.command("program-create")
def program_create(body: str = typer.Argument(..., help="JSON, a file, or - for stdin"),
                   as_user: str | None = AS) -> None:
    """Create a program (营销案) from JSON and print it (with its id).

    \b
    Fields (dates are YYYY-MM-DD; region_code must be inside your region):
      name         required, 1-200 characters
      goal         free text (default "")
      kpis         JSON object of targets (default {})
      budget       number >= 0 (campaign budgets under it may not exceed it)
      start_date   required; end_date required, not before start_date
      region_code  required, the owning region (e.g. P01)
    \b
    Example:
      telcamp campaign program-create '{"name": "Winter data", "goal": "grow data",
        "kpis": {"conversion": 0.05}, "budget": 50000, "start_date": "2026-11-01",
        "end_date": "2027-03-31", "region_code": "P01"}'
    """
    from telcamp.campaigns import service
    from telcamp.campaigns.schemas import ProgramCreate, ProgramRead

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        p = service.create_program(session=s, actor=actor,
                                   program_in=_parse(ProgramCreate, _load(body)))
        _print(ProgramRead.model_validate(p).model_dump(mode="json"))


@app.command("program-edit")
def program_edit(program_id: int,
                 body: str = typer.Argument(..., help="JSON, a file, or - for stdin"),
                 as_user: str | None = AS) -> None:
    """Change a program's name, goal, kpis, budget, start_date or end_date (any subset).

    \b
    The budget cannot go below what its campaigns already committed, and the period
    must still contain every campaign's start and end. Audited (program.update).
    Example:
      telcamp campaign program-edit 1 '{"budget": 60000, "end_date": "2027-04-30"}'
    """
    from telcamp.campaigns import service
    from telcamp.campaigns.schemas import ProgramRead, ProgramUpdate

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        p = service.update_program(session=s, actor=actor, program_id=program_id,
                                   program_in=_parse(ProgramUpdate, _load(body)))
        _print(ProgramRead.model_validate(p).model_dump(mode="json"))


@app.command("program-delete")
def program_delete(program_id: int, as_user: str | None = AS) -> None:
    """Delete a program whose campaigns are all drafts or cancelled (they go with it).
    Audited (program.delete)."""
    from telcamp.campaigns import service

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        service.delete_program(session=s, actor=actor, program_id=program_id)
    _print({"deleted": program_id})


@app.command("override")
def override(campaign_id: int,
             body: str = typer.Argument(..., help="JSON, a file, or - for stdin"),
             as_user: str | None = AS) -> None:
    """Let a campaign ignore default exclusion lists (admins: list.override).

    \b
    {"skip": [{"list_id": 3, "reason": "service notice"}]} replaces the campaign's
    overrides ({"skip": []} removes them). Audited; a submitted or approved campaign
    goes back to draft; the audience snapshot is taken again for the campaign.
    """
    from telcamp.campaigns import overrides

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        overrides.set_overrides(session=s, actor=actor, campaign_id=campaign_id,
                                overrides_in=overrides.parse(_load(body)))
    _print(_show(campaign_id, actor))


@app.command("create")
def create(body: str = typer.Argument(..., help="JSON, a file, or - for stdin"),
           as_user: str | None = AS) -> None:
    """Create a draft campaign from JSON (see docs/campaigns.md for the shape)."""
    from telcamp.campaigns import service
    from telcamp.campaigns.schemas import CampaignCreate

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        cid = service.create_campaign(session=s, actor=actor,
                                      campaign_in=_parse(CampaignCreate, _load(body))).id
    _print(_show(cid, actor))


@app.command("show")
def show(campaign_id: int, as_user: str | None = AS) -> None:
    """Print a campaign with its cells, waves and approvals."""
    migrate()
    _print(_show(campaign_id, _actor(as_user)))


@app.command("list")
def list_(state: str | None = None, as_user: str | None = AS) -> None:
    """List campaigns (id, name, state, region)."""
    from telcamp.campaigns import service

    migrate()
    with session_scope() as s:
        _print([{"id": c.id, "name": c.name, "state": c.state, "region_code": c.region_code}
                for c in service.list_campaigns(session=s, actor=_actor(as_user), state=state)])


@app.command("rehearse")
def rehearse(campaign_id: int, as_user: str | None = AS) -> None:
    """Compute and store the rehearsal figures; print them."""
    from telcamp.campaigns import rehearsal

    migrate()
    with session_scope() as s:
        _print(rehearsal.rehearse(session=s, actor=_actor(as_user), campaign_id=campaign_id))


@app.command("submit")
def submit(campaign_id: int, as_user: str | None = AS) -> None:
    """Submit a draft for approval (rehearses it first)."""
    from telcamp.campaigns import approvals

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        approvals.submit(session=s, actor=actor, campaign_id=campaign_id)
    _print(_show(campaign_id, actor))


@app.command("approve")
def approve(campaign_id: int, comment: str = "", as_user: str | None = AS) -> None:
    """Approve the current step of a submitted campaign."""
    from telcamp.campaigns import approvals

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        approvals.approve(session=s, actor=actor, campaign_id=campaign_id, comment=comment)
    _print(_show(campaign_id, actor))


@app.command("reject")
def reject(campaign_id: int, comment: str = typer.Option(..., help="Why (required)."),
           as_user: str | None = AS) -> None:
    """Reject a submitted campaign with a comment; it goes back to its author."""
    from telcamp.campaigns import approvals

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        approvals.reject(session=s, actor=actor, campaign_id=campaign_id, comment=comment)
    _print(_show(campaign_id, actor))


@app.command("launch")
def launch(campaign_id: int, as_user: str | None = AS) -> None:
    """Launch an approved campaign now and create the contacts of its due waves."""
    from telcamp.campaigns import schedule

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        schedule.launch(session=s, actor=actor, campaign_id=campaign_id)
    report = schedule.run_due()
    _print({"campaign": _show(campaign_id, actor), "materialised": report["materialised"],
            "failed": report["failed"]})


def _control(verb: str, campaign_id: int, as_user: str | None, reason: str = "") -> None:
    from telcamp.campaigns import schedule

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        if verb == "pause":
            schedule.pause(session=s, actor=actor, campaign_id=campaign_id, reason=reason)
        elif verb == "resume":
            schedule.resume(session=s, actor=actor, campaign_id=campaign_id)
        else:
            schedule.cancel(session=s, actor=actor, campaign_id=campaign_id, reason=reason)
    _print(_show(campaign_id, actor))


@app.command("pause")
def pause(campaign_id: int, reason: str = "", as_user: str | None = AS) -> None:
    """Pause a running campaign (its waves wait)."""
    _control("pause", campaign_id, as_user, reason)


@app.command("resume")
def resume(campaign_id: int, as_user: str | None = AS) -> None:
    """Resume a paused campaign."""
    _control("resume", campaign_id, as_user)


@app.command("cancel")
def cancel(campaign_id: int, reason: str = "", as_user: str | None = AS) -> None:
    """Cancel a live campaign; contacts not yet sent are withdrawn."""
    _control("cancel", campaign_id, as_user, reason)


@app.command("tick")
def tick(recover: bool = typer.Option(False, help="Also roll back crashed materialisations "
                                      "(only when no server is running).")) -> None:
    """Run one scheduler tick now (what the server does every minute)."""
    from telcamp.campaigns import schedule

    migrate()
    _print(schedule.run_due(recover=recover))


chain_app = typer.Typer(help="The approval chain: which region levels approve, the budget "
                        "threshold (JSON in and out).", no_args_is_help=True)


@chain_app.command("show")
def chain_show() -> None:
    """Print the approval chain in force (version 0 = the defaults)."""
    from telcamp.campaigns import chain

    migrate()
    with session_scope() as s:
        _print(chain.current(s))


@chain_app.command("set")
def chain_set(body: str = typer.Argument(..., help="JSON, a file, or - for stdin"),
              as_user: str | None = AS) -> None:
    """Replace the approval chain (a new version, audited).

    \b
    levels           for a campaign owned at county / city / province level, the
                     levels whose head approves, in order (all three required; never
                     below the campaign's own level)
    budget_threshold a budget above this adds the above_threshold levels
                     (null = TELCAMP_APPROVAL_BUDGET_THRESHOLD)
    above_threshold  default ["province"]
    Example:
      telcamp approval-chain set '{"levels": {"county": ["city", "province"],
        "city": ["province"], "province": ["province"]}, "budget_threshold": 50000}'
    """
    from telcamp.campaigns import chain

    migrate()
    actor = _actor(as_user)
    with session_scope() as s:
        _print(chain.set_chain(s, actor=actor, config=chain.parse(_load(body))))


def register(app_: typer.Typer) -> None:
    app_.add_typer(chain_app, name="approval-chain")
