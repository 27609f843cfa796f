"""Special lists: create, rename, delete, add and remove numbers, search one number.

Services only flush; the edge commits and then calls `telcamp.lists.sync.sync_lists` with
the ids it changed (the warehouse copy is written after the commit, never before). Every
change writes an audit row in the same transaction. Lists outside the actor's scope are
"not found" (see telcamp.lists.scope).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from telcamp.core import clock
from telcamp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from telcamp.core.security import Principal
from telcamp.lists.models import DEFAULT_EXCLUDED_TYPES, ListMember, SpecialList
from telcamp.lists.schemas import (
    ListCreate,
    ListRead,
    ListUpdate,
    MemberRead,
    SearchHit,
    expiry_display,
    parse_expiry,
    parse_msisdn,
)
from telcamp.lists.scope import Scope, known_region, scope_of


def audit(
    session: Session,
    *,
    actor: Principal,
    action: str,
    object_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    object_type: str = "special_list",
) -> None:
    from telcamp.audit import service as audit_service

    audit_service.record(
        session, actor=actor, action=action, object_type=object_type,
        object_id=str(object_id), before=before, after=after,
    )


def _snapshot(lst: SpecialList) -> dict[str, Any]:
    return {
        "name": lst.name, "type": lst.type, "region_code": lst.region_code,
        "description": lst.description, "default_excluded": lst.default_excluded,
    }


def _not_found(list_id: int | str) -> NotFound:
    return NotFound(f"list {list_id} not found", field="list_id")


def get_list(
    session: Session,
    *,
    principal: Principal,
    list_id: int,
    write: bool = False,
    scope: Scope | None = None,
) -> SpecialList:
    """The list if the principal may read it (and change it, with write=True)."""
    lst = session.get(SpecialList, list_id)
    scope = scope or scope_of(principal)
    if lst is None or not scope.can_read(lst.region_code):
        raise _not_found(list_id)
    if write and not scope.can_write(lst.region_code):
        # Readable (an ancestor's list) but not theirs: say so, it leaks nothing new.
        # operator-wide is no region: its users are those without one (operator IT, the
        # CLI without --region)
        raise Forbidden(
            f"list {list_id} belongs to region {lst.region_code}; only that region's users "
            "can change it" if lst.region_code is not None else
            f"list {list_id} is operator-wide; only users without a region (operator IT, "
            "the CLI without --region) can change it",
            field="list_id",
        )
    return lst


def resolve_list(session: Session, *, principal: Principal, ref: int | str) -> SpecialList:
    """A list by id or by name, among the lists the principal may read (for `in_list`).

    A name owned by several visible regions resolves to the one closest to the user: their
    own region first, then the deepest ancestor. Still ambiguous (two sub-regions use the
    name) → an error asking for the id.
    """
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        return get_list(session, principal=principal, list_id=int(ref))
    scope = scope_of(principal)
    rows = session.scalars(select(SpecialList).where(SpecialList.name == ref.strip())).all()
    visible = [r for r in rows if scope.can_read(r.region_code)]
    if not visible:
        raise NotFound(f"list {ref!r} not found", field="in_list")
    if len(visible) == 1:
        return visible[0]
    own = [r for r in visible if r.region_code == principal.region_code]
    if len(own) == 1:
        return own[0]
    raise ValidationFailed(
        f"list name {ref!r} is used by several regions ("
        + ", ".join(f"id {r.id}: {r.region_code or 'operator-wide'}" for r in visible)
        + "); use the id",
        field="in_list",
    )


def _op_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    now = clock.now()
    expired = case(
        (ListMember.expires_at.is_not(None) & (ListMember.expires_at <= now), 1), else_=0
    )
    rows = session.execute(
        select(ListMember.list_id, func.count(), func.sum(expired))
        .where(ListMember.list_id.in_(ids))
        .group_by(ListMember.list_id)
    ).all()
    return {int(r[0]): (int(r[1]) - int(r[2] or 0), int(r[2] or 0)) for r in rows}


def _counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """(active, expired) members per list. Counted in the warehouse copy when it holds the
    list's current version (milliseconds for millions of members), else in the
    operational DB, so the figures are always those of the committed state."""
    if not ids:
        return {}
    versions = dict(session.execute(
        select(SpecialList.id, SpecialList.version).where(SpecialList.id.in_(ids))).all())
    out: dict[int, tuple[int, int]] = {}
    try:
        from telcamp.core import warehouse

        with warehouse.connect(timeout_s=1.0) as con:
            held = dict(con.execute(
                "SELECT list_id, version FROM list_sync WHERE list_id IN "
                "(SELECT unnest(?::BIGINT[]))", [ids]).fetchall())
            current = [i for i in ids if held.get(i) == versions.get(i)]
            if current:
                rows = con.execute(
                    "SELECT list_id, count(*) FILTER (WHERE expires_at IS NULL OR "
                    "expires_at > ?), count(*) FILTER (WHERE expires_at <= ?) "
                    "FROM list_members WHERE list_id IN (SELECT unnest(?::BIGINT[])) "
                    "GROUP BY list_id", [clock.now(), clock.now(), current]).fetchall()
                out = {int(r[0]): (int(r[1]), int(r[2])) for r in rows}
                out.update({i: out.get(i, (0, 0)) for i in current})
    except Exception:  # no or busy warehouse: the operational DB has the same answer
        out = {}
    return out | _op_counts(session, [i for i in ids if i not in out])


def to_read(lst: SpecialList, scope: Scope, counts: tuple[int, int] = (0, 0), *,
            can_write: bool = True) -> ListRead:
    out = ListRead.model_validate(lst)
    out.members, out.expired = counts
    out.writable = can_write and scope.can_write(lst.region_code)
    return out


def read_list(session: Session, *, principal: Principal, list_id: int) -> ListRead:
    scope = scope_of(principal)
    lst = get_list(session, principal=principal, list_id=list_id, scope=scope)
    return to_read(lst, scope, _counts(session, [lst.id]).get(lst.id, (0, 0)),
                   can_write=principal.can("list.write"))


def visible_lists(session: Session, *, principal: Principal) -> list[ListRead]:
    """Every list the principal may read, with active and expired member counts."""
    scope = scope_of(principal)
    lists = [
        lst for lst in session.scalars(select(SpecialList).order_by(SpecialList.id)).all()
        if scope.can_read(lst.region_code)
    ]
    counts = _counts(session, [lst.id for lst in lists])
    return [to_read(lst, scope, counts.get(lst.id, (0, 0)), can_write=principal.can("list.write"))
            for lst in lists]


def _check_name_free(
    session: Session, *, name: str, region_code: str | None, except_id: int | None = None
) -> None:
    stmt = select(SpecialList.id).where(
        SpecialList.name == name,
        SpecialList.region_code.is_(None) if region_code is None
        else SpecialList.region_code == region_code,
    )
    found = session.scalars(stmt).first()
    if found is not None and found != except_id:
        raise Conflict(
            f"a list named {name!r} already exists in region {region_code or 'operator-wide'}",
            field="name",
        )


def create_list(session: Session, *, principal: Principal, list_in: ListCreate) -> SpecialList:
    scope = scope_of(principal)
    region = list_in.region_code if list_in.region_code is not None else principal.region_code
    if not scope.can_write(region) or (region is not None and not known_region(region)):
        raise NotFound(f"region {region} not found", field="region_code")
    _check_name_free(session, name=list_in.name, region_code=region)
    now = clock.now()
    lst = SpecialList(
        name=list_in.name, type=list_in.type, region_code=region,
        description=list_in.description, default_excluded=list_in.type in DEFAULT_EXCLUDED_TYPES,
        version=1, created_by=principal.username, created_at=now, updated_at=now,
    )
    session.add(lst)
    session.flush()
    audit(session, actor=principal, action="list.create", object_id=lst.id, before=None,
          after=_snapshot(lst))
    return lst


def list_users(session: Session, *, lst: SpecialList, principal: Principal,
               by_name: bool = False) -> list[str]:
    """The rules that name this list, in words: live segments (their current version),
    templates, and cells of campaigns not yet finished. A name counts only where it finds
    this list, i.e. from an owner whose region can read the list's. Things outside the
    reader's region are counted without their names. `by_name`: only the rules naming it
    (what a rename would break or, later, silently repoint)."""
    from telcamp.access.regions import in_scope
    from telcamp.campaigns.models import LIVE_CAMPAIGN_STATES, Campaign, Cell
    from telcamp.segments.models import Segment, SegmentTemplate, SegmentVersion
    from telcamp.segments.rules import references

    scopes: dict[str | None, Scope] = {}

    def names_it(rule: Any, owner: str | None) -> bool:
        refs = references(rule, "in_list")
        if not by_name and str(lst.id) in refs:
            return True
        if lst.name not in refs:
            return False
        if owner not in scopes:
            scopes[owner] = scope_of(Principal(username="", role="", region_code=owner))
        return scopes[owner].can_read(lst.region_code)

    found: list[tuple[str | None, str]] = []
    segments = session.execute(
        select(Segment, SegmentVersion.rule).join(SegmentVersion, (
            SegmentVersion.segment_id == Segment.id)
            & (SegmentVersion.version == Segment.current_version))
        .where(Segment.deleted_at.is_(None)).order_by(Segment.id)).all()
    found += [(seg.region_code, f"segment {seg.id} {seg.name!r}")
              for seg, rule in segments if names_it(rule, seg.region_code)]
    found += [(t.region_code, f"template {t.id} {t.name!r}")
              for t in session.scalars(select(SegmentTemplate).where(
                  SegmentTemplate.deleted_at.is_(None)).order_by(SegmentTemplate.id)).all()
              if names_it(t.rule, t.region_code)]
    # the cells of every live campaign in one query, grouped by campaign here
    cells: dict[int, tuple[Campaign, list[str]]] = {}
    for c, cell in session.execute(
            select(Campaign, Cell).join(Cell, Cell.campaign_id == Campaign.id)
            .where(Campaign.state.in_(LIVE_CAMPAIGN_STATES))
            .order_by(Campaign.id, Cell.id)).all():
        if names_it(cell.rule, c.region_code):
            cells.setdefault(c.id, (c, []))[1].append(cell.name)
    found += [(c.region_code, f"campaign {c.id} {c.name!r} ({c.state}; "
               + ", ".join(f"cell {n!r}" for n in names) + ")")
              for c, names in cells.values()]
    out = [what for owner, what in found if in_scope(principal, owner)]
    if len(out) < len(found):
        out.append(f"{len(found) - len(out)} more in other regions")
    return out


def update_list(
    session: Session, *, principal: Principal, list_id: int, list_in: ListUpdate
) -> SpecialList:
    lst = get_list(session, principal=principal, list_id=list_id, write=True)
    before = _snapshot(lst)
    if list_in.name is not None and list_in.name.strip() != lst.name:
        name = list_in.name.strip()
        if not name:
            raise ValidationFailed("name must not be blank", field="name")
        _check_name_free(session, name=name, region_code=lst.region_code, except_id=lst.id)
        # rules naming it would stop finding it, or find a later list given the old name:
        # refused like a delete, naming them
        named_by = list_users(session, lst=lst, principal=principal, by_name=True)
        if named_by:
            raise Conflict(f"list {lst.name!r} is referred to by name in: "
                           f"{'; '.join(named_by)}; refer to it by id ({lst.id}) there "
                           "first, or keep the name", field="name")
        lst.name = name
    if list_in.description is not None:
        lst.description = list_in.description
    lst.updated_at = clock.now()
    session.flush()
    audit(session, actor=principal, action="list.update", object_id=lst.id, before=before,
          after=_snapshot(lst))
    return lst


def delete_list(session: Session, *, principal: Principal, list_id: int) -> None:
    lst = get_list(session, principal=principal, list_id=list_id, write=True)
    users = list_users(session, lst=lst, principal=principal)
    if users:
        raise Conflict(f"list {lst.id} {lst.name!r} is still used, so it cannot be "
                       f"deleted: {'; '.join(users)}", field="list_id")
    before = _snapshot(lst)
    before["members"] = _counts(session, [lst.id]).get(lst.id, (0, 0))[0]
    session.execute(delete(ListMember).where(ListMember.list_id == lst.id))
    session.delete(lst)
    session.flush()
    audit(session, actor=principal, action="list.delete", object_id=list_id, before=before,
          after=None)


def add_member(
    session: Session,
    *,
    principal: Principal,
    list_id: int,
    msisdn: str,
    reason: str | None = None,
    expires_at: str | None = None,
) -> ListMember:
    """Add one number, or update its reason and expiry when it is already on the list."""
    lst = get_list(session, principal=principal, list_id=list_id, write=True)
    number = parse_msisdn(msisdn)
    expiry = parse_expiry(expires_at or "", tz=zone_of(session, lst.region_code))
    now = clock.now()
    if expiry is not None and expiry <= now:
        raise ValidationFailed(f"expiry {expires_at} is in the past", field="expires_at")
    reason = (reason or "").strip() or None
    member = session.get(ListMember, (lst.id, number))
    before = None if member is None else _member_dict(member)
    if member is None:
        member = ListMember(list_id=lst.id, msisdn=number, added_by=principal.username,
                            added_at=now)
        session.add(member)
    member.reason = reason
    member.expires_at = expiry
    lst.version += 1
    lst.updated_at = now
    session.flush()
    audit(session, actor=principal, action="list.member_add", object_id=lst.id,
          before=before, after=_member_dict(member))
    return member


def remove_member(session: Session, *, principal: Principal, list_id: int, msisdn: str) -> None:
    lst = get_list(session, principal=principal, list_id=list_id, write=True)
    number = parse_msisdn(msisdn)
    member = session.get(ListMember, (lst.id, number))
    if member is None:
        raise NotFound(f"{msisdn.strip()} is not on list {lst.name!r}", field="msisdn")
    before = _member_dict(member)
    session.delete(member)
    lst.version += 1
    lst.updated_at = clock.now()
    session.flush()
    audit(session, actor=principal, action="list.member_remove", object_id=lst.id,
          before=before, after=None)


def _member_dict(m: ListMember) -> dict[str, Any]:
    return {
        "msisdn": str(m.msisdn), "reason": m.reason,
        "expires_at": m.expires_at.isoformat() if m.expires_at else None,
    }


def _mask(value: int, principal: Principal) -> str:
    from telcamp.access.masking import mask_msisdn

    return str(mask_msisdn(str(value), principal))


def zone_of(session: Session, region_code: str | None) -> str:
    """The time zone a list's dates mean: its region's (the region tree, as quiet hours),
    else the contact policy's default zone (the operator's)."""
    from telcamp.policy import quiet
    from telcamp.policy import service as policy_service

    return quiet.quiet_for(region_code, policy_service.current(session)).tz


def list_zone(session: Session, *, principal: Principal, list_id: int) -> str:
    lst = get_list(session, principal=principal, list_id=list_id)
    return zone_of(session, lst.region_code)


def _shown(expires_at: datetime | None, zone: str, added_at: datetime) -> dict[str, Any]:
    through, local = expiry_display(expires_at, zone)
    added = added_at if added_at.tzinfo else added_at.replace(tzinfo=UTC)
    return {"zone": zone, "expires_through": through, "expires_local": local,
            # in the same zone as the expiry beside it on the page
            "added_local": added.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")}


def members(
    session: Session, *, principal: Principal, list_id: int, limit: int = 100, offset: int = 0
) -> list[MemberRead]:
    """Members newest first (expired ones included, flagged); numbers masked without PII."""
    lst = get_list(session, principal=principal, list_id=list_id)
    now = clock.now()
    rows = session.scalars(
        select(ListMember).where(ListMember.list_id == lst.id)
        .order_by(ListMember.added_at.desc(), ListMember.msisdn).limit(limit).offset(offset)
    ).all()
    zone = zone_of(session, lst.region_code)
    return [
        MemberRead(
            msisdn=_mask(m.msisdn, principal), reason=m.reason, expires_at=m.expires_at,
            expired=m.expires_at is not None and m.expires_at <= now, added_by=m.added_by,
            added_at=m.added_at, **_shown(m.expires_at, zone, m.added_at),
        )
        for m in rows
    ]


def search(session: Session, *, principal: Principal, msisdn: str) -> list[SearchHit]:
    """Is this number on any list the principal may read: which, why, until when."""
    number = parse_msisdn(msisdn)
    scope = scope_of(principal)
    now = clock.now()
    rows = session.execute(
        select(ListMember, SpecialList)
        .join(SpecialList, SpecialList.id == ListMember.list_id)
        .where(ListMember.msisdn == number)
        .order_by(SpecialList.id)
    ).all()
    return [
        SearchHit(
            msisdn=_mask(m.msisdn, principal), list_id=lst.id, list_name=lst.name,
            list_type=lst.type, region_code=lst.region_code,
            default_excluded=lst.default_excluded, reason=m.reason, expires_at=m.expires_at,
            expired=m.expires_at is not None and m.expires_at <= now, added_by=m.added_by,
            added_at=m.added_at,
            **_shown(m.expires_at, zone_of(session, lst.region_code), m.added_at),
        )
        for m, lst in rows
        if scope.can_read(lst.region_code)
    ]
