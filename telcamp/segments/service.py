"""Segments: audience figures, saved segments with versions, snapshots, templates.

Plain verbs with keyword-only arguments; services flush, the edge commits. Every change
writes its audit row in the same transaction. Segments belong to the creator's region
node; a user sees those owned inside their subtree, anything else is "not found".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.core import clock
from telcamp.core.errors import Conflict, NotFound, TelcampError
from telcamp.core.security import Principal
from telcamp.segments import audience
from telcamp.segments.catalogue import Catalogue
from telcamp.segments.compiler import is_heavy, resolve, scoped_condition, sql_dialect
from telcamp.segments.describe import describe
from telcamp.segments.models import Segment, SegmentSnapshot, SegmentTemplate, SegmentVersion
from telcamp.segments.rules import parse_rule, references, to_json
from telcamp.segments.schemas import (
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    SnapshotRead,
    VersionRead,
)


def _audit(session: Session, *, principal: Principal, action: str, object_type: str,
           object_id: int, before: dict[str, Any] | None, after: dict[str, Any] | None
           ) -> None:
    from telcamp.audit import service as audit_service

    audit_service.record(session, actor=principal, action=action, object_type=object_type,
                         object_id=object_id, before=before, after=after)


# ---- audience figures -------------------------------------------------------------

def evaluate(session: Session | None, *, rule: Any, principal: Principal,
             parts: tuple[str, ...] = ("count", "funnel", "profile", "sample"),
             field: str | None = None, size: int = 20, campaign_id: int | None = None,
             con: duckdb.DuckDBPyConnection | None = None,
             gettext: Callable[[str], str] | None = None, locale: str | None = None,
             segment_id: int | None = None) -> dict[str, Any]:
    """Count, funnel, profile and/or sample of a rule for this user, in one connection.
    With `segment_id` (the builder on a saved segment) the rule is counted in that
    segment's own region, as its snapshots are (404 if the user cannot see it): an
    operator admin opening a city's segment saw it counted over the whole operator.
    The description and funnel labels are in the language of `gettext` (default English),
    the description's numbers written as `locale` writes them."""
    if segment_id is not None and session is not None:
        region = get(session, segment_id=segment_id, principal=principal).region_code
        principal = principal if region is None else replace(principal, region_code=region)
    with audience.opened(con) as c:
        resolved, ctx = audience.prepare(session, principal=principal, con=c, rule=rule)
        # In words as the marketer wrote it: segments by reference, lists by name
        out: dict[str, Any] = {"as_of_date": ctx.as_of_date.isoformat(),
                               "region_code": principal.region_code,
                               "description": describe_for(session, rule, ctx.catalogue,
                                                           gettext, locale=locale)}
        excl: list[audience.Exclusion] = []
        if {"funnel", "profile", "sample"} & set(parts):
            excl = audience.exclusions(session, principal=principal, campaign_id=campaign_id,
                                       gettext=gettext)
        matched: audience.Matched = resolved
        if len(parts) > 1 and is_heavy(resolved, ctx):
            matched = audience.materialise_matched(c, resolved, ctx)
        if "count" in parts:
            out["count"] = audience.count(c, matched, ctx)
        if "funnel" in parts:
            out["funnel"] = audience.funnel(c, matched, ctx, excl)
        if "profile" in parts:
            out["profile"] = audience.profile(c, matched, ctx, excl, field)
            out["base"] = out["profile"]["base"]  # the whole base of the user's scope
        if "sample" in parts:
            out["sample"] = audience.sample(c, matched, ctx, excl, principal, size)
        return out


def describe_for(session: Session | None, rule: Any, catalogue: Catalogue | None = None,
                 gettext: Callable[[str], str] | None = None, *, locale: str | None = None
                 ) -> str:
    """A rule's JSON in words; lists and segments given by id are shown by name. Only
    call with a rule already checked for this user (names come from the database)."""
    from telcamp.lists.models import SpecialList

    def name_of(model: Any) -> Callable[[str | int], str | None]:
        def lookup(ref: str | int) -> str | None:
            row = session.get(model, int(ref)) if session is not None else None
            return str(row.name) if row is not None else None
        return lookup

    try:
        parsed = parse_rule(rule, catalogue=catalogue or Catalogue())
    except TelcampError:  # a column the rule used is gone from the profile
        return ""
    return describe(parsed, catalogue, gettext, list_name=name_of(SpecialList),
                    segment_name=name_of(Segment), locale=locale)


def count(session: Session | None, *, rule: Any, principal: Principal,
          con: duckdb.DuckDBPyConnection | None = None) -> int:
    return int(evaluate(session, rule=rule, principal=principal, parts=("count",),
                        con=con)["count"])


def condition_for(session: Session | None, *, rule: Any, principal: Principal,
                  alias: str = "p", dialect: str = "duckdb",
                  con: duckdb.DuckDBPyConnection | None = None) -> str:
    """A rule's JSON as a SQL condition over `profile AS <alias>`, fully resolved for this
    user: checked against the warehouse catalogue, lists by name or id in scope, segments
    inlined (with their region), and the user's region scope ANDed. For other domains,
    e.g. campaign cell rules: `... FROM profile p WHERE <condition>`."""
    with audience.opened(con) as c:
        resolved, ctx = audience.prepare(session, principal=principal, con=c, rule=rule)
        return scoped_condition(resolved, alias=alias, context=ctx).sql(
            dialect=sql_dialect(dialect))


# ---- saved segments -----------------------------------------------------------------

def _visible(principal: Principal, owner: str | None) -> bool:
    from telcamp.access.regions import in_scope

    return in_scope(principal, owner)


def get(session: Session, *, segment_id: int, principal: Principal, live: bool = False
        ) -> Segment:
    """The segment, if the user may see it. `live`: for a change (edit, snapshot, delete),
    which a deleted segment refuses; reading it (versions, snapshots) stays possible."""
    seg = session.get(Segment, segment_id)
    if seg is None or not _visible(principal, seg.region_code):
        raise NotFound(f"segment {segment_id} not found", field="segment_id")
    if live and seg.deleted_at is not None:
        raise Conflict(f"segment {segment_id} {seg.name!r} was deleted on "
                       f"{seg.deleted_at:%Y-%m-%d} by {seg.deleted_by}; it can be read, "
                       "not changed", field="segment_id")
    return seg


def _version(session: Session, segment_id: int, version: int) -> SegmentVersion:
    ver = session.scalars(select(SegmentVersion).where(
        SegmentVersion.segment_id == segment_id, SegmentVersion.version == version)).first()
    if ver is None:
        raise NotFound(f"segment {segment_id} has no version {version}", field="version")
    return ver


def to_read(session: Session, seg: Segment) -> SegmentRead:
    ver = _version(session, seg.id, seg.current_version)
    return SegmentRead(id=seg.id, name=seg.name, description=seg.description,
                       region_code=seg.region_code, current_version=seg.current_version,
                       rule=ver.rule, created_by=seg.created_by, created_at=seg.created_at,
                       updated_at=seg.updated_at, deleted_at=seg.deleted_at,
                       deleted_by=seg.deleted_by)


def _checked_rule(session: Session, principal: Principal, rule: Any,
                  segment_id: int | None = None) -> dict[str, Any]:
    """Validate a rule for saving: fields, lists and segments in scope, no cycle."""
    with audience.opened(None) as con:
        ctx = audience.make_context(session, principal=principal, con=con)
        parsed = parse_rule(rule, catalogue=ctx.catalogue)
        if segment_id is not None:  # a reference back to this segment is a cycle
            ctx = replace(ctx, _segment_stack=(segment_id,))
        resolve(parsed, ctx)
    return to_json(parsed)


def _name_free(session: Session, model: type[Segment] | type[SegmentTemplate], name: str,
               region_code: str | None, own_id: int | None = None) -> None:
    rows: list[Any] = list(session.scalars(select(model).where(model.name == name)).all())
    if any(r.region_code == region_code and r.id != own_id for r in rows):
        kind = "segment" if model is Segment else "template"
        raise Conflict(f"a {kind} named {name!r} already exists in this region", field="name")


def create(session: Session, *, segment_in: SegmentCreate, principal: Principal
           ) -> SegmentRead:
    rule = _checked_rule(session, principal, segment_in.rule)
    _name_free(session, Segment, segment_in.name, principal.region_code)
    now = clock.now()
    seg = Segment(name=segment_in.name, description=segment_in.description,
                  region_code=principal.region_code, current_version=1,
                  created_by=principal.username, created_at=now, updated_at=now)
    session.add(seg)
    session.flush()
    session.add(SegmentVersion(segment_id=seg.id, version=1, rule=rule, note="created",
                               created_by=principal.username, created_at=now))
    session.flush()
    read = to_read(session, seg)
    _audit(session, principal=principal, action="segment.create", object_type="segment",
           object_id=seg.id, before=None, after=read.model_dump(mode="json"))
    return read


def update(session: Session, *, segment_id: int, segment_in: SegmentUpdate,
           principal: Principal) -> SegmentRead:
    """Rename/describe in place; a changed rule becomes a new version (old ones stay)."""
    seg = get(session, segment_id=segment_id, principal=principal, live=True)
    before = to_read(session, seg).model_dump(mode="json")
    now = clock.now()
    if segment_in.name is not None and segment_in.name != seg.name:
        _name_free(session, Segment, segment_in.name, seg.region_code, seg.id)
        # rules naming it would stop finding it, or find a later segment given the old
        # name: refused like a delete, naming them
        named_by = users_of(session, seg=seg, principal=principal, by_name=True)
        if named_by:
            raise Conflict(f"segment {seg.name!r} is referred to by name in: "
                           f"{'; '.join(named_by)}; refer to it by id ({seg.id}) there "
                           "first, or keep the name", field="name")
        seg.name = segment_in.name
    if segment_in.description is not None:
        seg.description = segment_in.description
    if segment_in.rule is not None:
        rule = _checked_rule(session, principal, segment_in.rule, segment_id=seg.id)
        if rule != before["rule"]:
            seg.current_version += 1
            session.add(SegmentVersion(segment_id=seg.id, version=seg.current_version,
                                       rule=rule, note=segment_in.note,
                                       created_by=principal.username, created_at=now))
    seg.updated_at = now
    session.flush()
    read = to_read(session, seg)
    _audit(session, principal=principal, action="segment.update", object_type="segment",
           object_id=seg.id, before=before, after=read.model_dump(mode="json"))
    return read


def read(session: Session, *, segment_id: int, principal: Principal) -> SegmentRead:
    return to_read(session, get(session, segment_id=segment_id, principal=principal))


def list_segments(session: Session, *, principal: Principal) -> list[SegmentRead]:
    from telcamp.access.regions import scope_codes

    query = select(Segment).where(Segment.deleted_at.is_(None)).order_by(Segment.id)
    codes = scope_codes(principal)
    if codes is not None:
        query = query.where(Segment.region_code.in_(sorted(codes)))
    return [to_read(session, s) for s in session.scalars(query).all()]


def versions(session: Session, *, segment_id: int, principal: Principal
             ) -> list[VersionRead]:
    get(session, segment_id=segment_id, principal=principal)
    rows = session.scalars(select(SegmentVersion).where(
        SegmentVersion.segment_id == segment_id).order_by(SegmentVersion.version)).all()
    return [VersionRead.model_validate(v) for v in rows]


def version(session: Session, *, segment_id: int, version: int, principal: Principal
            ) -> VersionRead:
    get(session, segment_id=segment_id, principal=principal)
    return VersionRead.model_validate(_version(session, segment_id, version))


# ---- deleting ---------------------------------------------------------------------------

DELETED_SUFFIX = " (deleted #{id})"


def users_of(session: Session, *, seg: Segment, principal: Principal,
             by_name: bool = False) -> list[str]:
    """Who still needs this segment, in words naming each user: campaigns that are not
    finished using one of its snapshots or referring to it in a cell rule, and live
    segments and templates referring to it with in_segment. Things outside the reader's
    region are counted without their names. `by_name`: only the rules naming it (what a
    rename would silently repoint)."""
    from telcamp.campaigns.models import LIVE_CAMPAIGN_STATES, Campaign, Cell, Wave

    refs = {seg.name} if by_name else {str(seg.id), seg.name}
    snaps = set() if by_name else set(session.scalars(select(SegmentSnapshot.id).where(
        SegmentSnapshot.segment_id == seg.id)).all())
    out: list[str] = []
    hidden = 0
    campaigns = session.scalars(select(Campaign).where(
        Campaign.state.in_(LIVE_CAMPAIGN_STATES)).order_by(Campaign.id)).all()
    for c in campaigns:
        used: list[int] = []
        if not by_name:  # snapshots are used by id: a rename leaves them be
            mine = {int(i) for i in session.scalars(select(Wave.snapshot_id).where(
                Wave.campaign_id == c.id, Wave.snapshot_id.is_not(None))).all()
                if i is not None}
            if c.snapshot_id is not None:
                mine.add(int(c.snapshot_id))
            used = sorted(mine & snaps)
        cells = [cell.name for cell in session.scalars(select(Cell).where(
            Cell.campaign_id == c.id)).all() if references(cell.rule, "in_segment") & refs]
        direct = not by_name and c.segment_id == seg.id  # recurring waves re-take its snapshots
        if not used and not cells and not direct:
            continue
        if not _visible(principal, c.region_code):
            hidden += 1
            continue
        how = ", ".join([*(["its audience"] if direct else []),
                         *(f"snapshot #{i}" for i in used),
                         *(f"cell {name!r}" for name in cells)])
        out.append(f"campaign {c.id} {c.name!r} ({c.state}; {how})")
    others = session.scalars(select(Segment).where(
        Segment.deleted_at.is_(None), Segment.id != seg.id).order_by(Segment.id)).all()
    for other in others:
        if references(_version(session, other.id, other.current_version).rule,
                      "in_segment") & refs:
            if _visible(principal, other.region_code):
                out.append(f"segment {other.id} {other.name!r} (in_segment)")
            else:
                hidden += 1
    for tpl in session.scalars(select(SegmentTemplate).where(
            SegmentTemplate.deleted_at.is_(None)).order_by(SegmentTemplate.id)).all():
        if references(tpl.rule, "in_segment") & refs:
            if _visible(principal, tpl.region_code):
                out.append(f"template {tpl.id} {tpl.name!r} (in_segment)")
            else:
                hidden += 1
    if hidden:
        out.append(f"{hidden} more in other regions")
    return out


def delete(session: Session, *, segment_id: int, principal: Principal) -> SegmentRead:
    """Soft-delete a segment nobody needs any more (see users_of): it leaves the lists and
    can no longer be edited, snapshotted or referred to, while its versions and snapshots
    stay readable for audit. Its name gets a suffix so the name can be used again."""
    seg = get(session, segment_id=segment_id, principal=principal, live=True)
    users = users_of(session, seg=seg, principal=principal)
    if users:
        raise Conflict(f"segment {seg.id} {seg.name!r} is still used, so it cannot be "
                       f"deleted: {'; '.join(users)}", field="segment_id")
    before = to_read(session, seg).model_dump(mode="json")
    now = clock.now()
    suffix = DELETED_SUFFIX.format(id=seg.id)
    seg.name = seg.name[:120 - len(suffix)] + suffix
    seg.deleted_at, seg.deleted_by, seg.updated_at = now, principal.username, now
    session.flush()
    read = to_read(session, seg)
    _audit(session, principal=principal, action="segment.delete", object_type="segment",
           object_id=seg.id, before=before, after=read.model_dump(mode="json"))
    return read


# ---- snapshots ------------------------------------------------------------------------

def take_snapshot(session: Session, *, segment_id: int, version: int | None = None,
                  principal: Principal, campaign_id: int | None = None,
                  con: duckdb.DuckDBPyConnection | None = None) -> SnapshotRead:
    """Materialise a version's final audience (after default exclusions) as an immutable
    member list in the warehouse, with its counts and funnel here.

    The warehouse rows are written set-based in one DuckDB transaction after the
    snapshot row has its id; any earlier rows under that id (left by a rolled-back
    attempt that reused it) are replaced, so a snapshot's members are exactly its own.
    """
    seg = get(session, segment_id=segment_id, principal=principal, live=True)
    ver = _version(session, seg.id, version or seg.current_version)
    # The segment's own region is the scope (it lies inside the user's, or the user could
    # not see the segment): a province admin or a scheduler job re-taking a city's
    # segment must not widen it to the province.
    scope = replace(principal, region_code=seg.region_code or principal.region_code)
    with audience.opened(con) as c:
        rule, ctx = audience.prepare(session, principal=principal, con=c, rule=ver.rule)
        ctx = replace(ctx, region_code=scope.region_code)
        excl = audience.exclusions(session, principal=principal, campaign_id=campaign_id)
        fun = audience.funnel(c, rule, ctx, excl)
        steps = [{"label": "matched", "kind": "rule", "removed": 0,
                  "remaining": fun["matched"]}, *fun["steps"]]
        snap = SegmentSnapshot(segment_id=seg.id, version=ver.version, taken_at=clock.now(),
                               taken_by=principal.username, matched=fun["matched"],
                               count=0, funnel=steps, as_of_date=ctx.as_of_date,
                               region_code=scope.region_code)
        session.add(snap)
        session.flush()
        final = audience.final_sql(rule, ctx, excl)
        c.execute("BEGIN TRANSACTION")
        try:
            c.execute("DELETE FROM segment_snapshot_members WHERE snapshot_id = ?", [snap.id])
            c.execute(f"INSERT INTO segment_snapshot_members SELECT CAST(? AS BIGINT), "
                      f"p.msisdn FROM profile p WHERE {final}", [snap.id])
            row = c.execute("SELECT count(*) FROM segment_snapshot_members "
                            "WHERE snapshot_id = ?", [snap.id]).fetchone()
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    snap.count = int(row[0]) if row else 0
    session.flush()
    out = SnapshotRead.model_validate(snap)
    _audit(session, principal=principal, action="segment.snapshot", object_type="segment",
           object_id=seg.id, before=None, after=out.model_dump(mode="json"))
    return out


def snapshots(session: Session, *, segment_id: int, principal: Principal
              ) -> list[SnapshotRead]:
    get(session, segment_id=segment_id, principal=principal)
    rows = session.scalars(select(SegmentSnapshot).where(
        SegmentSnapshot.segment_id == segment_id).order_by(SegmentSnapshot.id)).all()
    return [SnapshotRead.model_validate(s) for s in rows]


def get_snapshot(session: Session, *, snapshot_id: int, principal: Principal
                 ) -> SnapshotRead:
    snap = session.get(SegmentSnapshot, snapshot_id)
    if snap is None:
        raise NotFound(f"snapshot {snapshot_id} not found", field="snapshot_id")
    try:
        get(session, segment_id=snap.segment_id, principal=principal)
    except NotFound:
        raise NotFound(f"snapshot {snapshot_id} not found", field="snapshot_id") from None
    return SnapshotRead.model_validate(snap)


def snapshot_members(session: Session, *, snapshot_id: int, principal: Principal,
                     limit: int = 100, offset: int = 0,
                     con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """A page of a snapshot's members in number order, from `offset` (numbers masked for
    roles without PII rights)."""
    from telcamp.access.masking import mask_msisdn

    get_snapshot(session, snapshot_id=snapshot_id, principal=principal)
    with audience.opened(con) as c:
        rows = c.execute("SELECT msisdn FROM segment_snapshot_members WHERE snapshot_id = ? "
                         "ORDER BY msisdn LIMIT ? OFFSET ?",
                         [snapshot_id, limit, max(0, offset)]).fetchall()
    return [str(mask_msisdn(str(r[0]), principal)) for r in rows]


def purge_orphan_members(session: Session, *, con: duckdb.DuckDBPyConnection | None = None
                         ) -> int:
    """Delete warehouse members of snapshots the operational DB does not know (left when
    its transaction rolled back after the warehouse insert, on databases that never
    reuse ids). Returns how many rows went. Maintenance, e.g. nightly."""
    known = [int(i) for i in session.scalars(select(SegmentSnapshot.id)).all()]
    with audience.opened(con) as c:
        before = c.execute("SELECT count(*) FROM segment_snapshot_members").fetchone()
        c.execute("DELETE FROM segment_snapshot_members WHERE NOT list_contains(?, "
                  "snapshot_id)", [known])
        after = c.execute("SELECT count(*) FROM segment_snapshot_members").fetchone()
    return int(before[0] if before else 0) - int(after[0] if after else 0)
