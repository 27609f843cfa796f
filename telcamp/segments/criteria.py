"""Criteria templates: a rule with named parameters ("ARPU above {x} in region {r}")
that marketers fill in. A parameter stands for a whole JSON value (or one list item),
written as the string "{name}"; filling replaces it with the typed value given.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telcamp.core import clock
from telcamp.core.errors import Forbidden, NotFound, ValidationFailed
from telcamp.core.security import Principal
from telcamp.segments import service as segment_service
from telcamp.segments.models import SegmentTemplate
from telcamp.segments.schemas import ParamSpec, SegmentCreate, TemplateCreate, TemplateRead

PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def placeholders(obj: Any) -> set[str]:
    if isinstance(obj, str):
        m = PLACEHOLDER.match(obj)
        return {m.group(1)} if m else set()
    if isinstance(obj, list):
        return set().union(*[placeholders(v) for v in obj]) if obj else set()
    if isinstance(obj, dict):
        return set().union(*[placeholders(v) for v in obj.values()]) if obj else set()
    return set()


def _fill(obj: Any, values: dict[str, Any]) -> Any:
    if isinstance(obj, str):
        m = PLACEHOLDER.match(obj)
        return values[m.group(1)] if m else obj
    if isinstance(obj, list):
        return [_fill(v, values) for v in obj]
    if isinstance(obj, dict):
        return {k: _fill(v, values) for k, v in obj.items()}
    return obj


def _check_param(name: str, spec: ParamSpec, value: Any) -> Any:
    where = f"parameter '{name}'"
    if spec.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise ValidationFailed(f"{where}: {value!r} is not a whole number", field=name)
    elif spec.type == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
        try:
            if isinstance(value, bool):  # float(True) is 1.0: a tick is not a number
                raise TypeError
            value = float(value)
        except (TypeError, ValueError):
            raise ValidationFailed(f"{where}: {value!r} is not a number", field=name) from None
    elif spec.type == "bool" and not isinstance(value, bool):
        # the builder's fill-in form sends text: "true" / "false" as JSON writes them
        word = value.strip().lower() if isinstance(value, str) else None
        if word not in {"true", "false"}:
            raise ValidationFailed(f"{where}: {value!r} is not true or false", field=name)
        value = word == "true"
    elif spec.type in {"str", "date"} and not isinstance(value, str):
        raise ValidationFailed(f"{where}: {value!r} is not text", field=name)
    if spec.type == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(f"{where}: {value!r} is not an ISO date", field=name) from None
    if spec.values is not None and value not in spec.values:
        raise ValidationFailed(
            f"{where}: {value!r} is not one of {', '.join(map(str, spec.values))}", field=name)
    return value


def fill(template: TemplateRead | SegmentTemplate, values: dict[str, Any]) -> dict[str, Any]:
    """The template's rule with its parameters filled in and checked (types, allowed
    values, then the whole rule against the warehouse catalogue)."""
    specs = {k: ParamSpec.model_validate(v) for k, v in template.params.items()}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ValidationFailed(f"unknown parameter(s) {unknown}; this template takes "
                               f"{sorted(specs)}", field=unknown[0])
    typed: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in values and values[name] not in (None, ""):
            typed[name] = _check_param(name, spec, values[name])
        elif spec.default is not None:
            typed[name] = spec.default
        else:
            raise ValidationFailed(f"parameter '{name}' is missing", field=name)
    from telcamp.segments.rules import parse_rule, to_json

    return to_json(parse_rule(_fill(template.rule, typed)))


# A value of each parameter type, to try a new template's rule with (see _fillable).
_SAMPLES: dict[str, Any] = {"int": 1, "float": 1.0, "bool": True, "str": "x",
                            "date": "2000-01-01"}


def _fillable(template_in: TemplateCreate) -> None:
    """Refuse now a template no value could ever fill, not at its first use: a default or
    allowed value not of its parameter's type, or a rule that refuses any value of the
    parameters' types (a text parameter on a whole-number field, one placeholder where
    'between' needs two values, or 'in' a list)."""
    from telcamp.segments.rules import NotAllowedValue, parse_rule

    sample: dict[str, Any] = {}
    for name, spec in template_in.params.items():
        loose = spec.model_copy(update={"values": None})
        for given in [*([spec.default] if spec.default is not None else []),
                      *(spec.values or [])]:
            _check_param(name, loose, given)
        pick = (spec.default if spec.default is not None
                else spec.values[0] if spec.values else _SAMPLES[spec.type])
        sample[name] = _check_param(name, loose, pick)
    try:
        parse_rule(_fill(template_in.rule, sample))
    except NotAllowedValue:  # a closed set: the value the user picks when filling decides
        return
    except ValidationFailed as exc:
        raise ValidationFailed(f"no value of the parameters' types fits this rule: "
                               f"{exc.message}", field="rule") from None


def create_template(session: Session, *, template_in: TemplateCreate, principal: Principal
                    ) -> TemplateRead:
    used = placeholders(template_in.rule)
    declared = set(template_in.params)
    if used - declared:
        raise ValidationFailed(f"the rule uses undeclared parameter(s) {sorted(used - declared)}",
                               field="params")
    if declared - used:
        raise ValidationFailed(f"parameter(s) {sorted(declared - used)} are not used in the rule",
                               field="params")
    _fillable(template_in)
    segment_service._name_free(session, SegmentTemplate, template_in.name,
                               principal.region_code)
    tpl = SegmentTemplate(
        name=template_in.name, description=template_in.description,
        region_code=principal.region_code,
        params={k: v.model_dump(exclude_none=True) for k, v in template_in.params.items()},
        rule=template_in.rule, created_by=principal.username, created_at=clock.now())
    session.add(tpl)
    session.flush()
    read = TemplateRead.model_validate(tpl)
    segment_service._audit(session, principal=principal, action="segment_template.create",
                           object_type="segment_template", object_id=tpl.id, before=None,
                           after=read.model_dump(mode="json"))
    return read


def _ancestors_or_subtree(principal: Principal, owner: str | None) -> bool:
    # Templates hold no subscriber data and any audience they make is scoped to its user,
    # so a template is usable below the region that made it as well as inside it.
    from telcamp.access.regions import in_scope

    if owner is None or principal.region_code is None:
        return True
    return in_scope(principal, owner) or in_scope(
        principal.__class__(username="", role="", region_code=owner), principal.region_code)


def get_template(session: Session, *, template_id: int, principal: Principal
                 ) -> SegmentTemplate:
    tpl = session.get(SegmentTemplate, template_id)
    if (tpl is None or tpl.deleted_at is not None
            or not _ancestors_or_subtree(principal, tpl.region_code)):
        raise NotFound(f"template {template_id} not found", field="template_id")
    return tpl


def delete_template(session: Session, *, template_id: int, principal: Principal
                    ) -> TemplateRead:
    """Soft-delete a template (nothing depends on one: segments made from it keep their
    own rule). Only its own region (or above) may delete it, not a region below that
    merely uses it. The row stays for audit; the name is free again."""
    from telcamp.access.regions import in_scope

    tpl = get_template(session, template_id=template_id, principal=principal)
    if not in_scope(principal, tpl.region_code):
        raise Forbidden(f"template {tpl.id} {tpl.name!r} belongs to region "
                        f"{tpl.region_code}; only that region can delete it")
    before = TemplateRead.model_validate(tpl).model_dump(mode="json")
    suffix = segment_service.DELETED_SUFFIX.format(id=tpl.id)
    tpl.name = tpl.name[:120 - len(suffix)] + suffix
    tpl.deleted_at, tpl.deleted_by = clock.now(), principal.username
    session.flush()
    read = TemplateRead.model_validate(tpl)
    segment_service._audit(session, principal=principal, action="segment_template.delete",
                           object_type="segment_template", object_id=tpl.id, before=before,
                           after=read.model_dump(mode="json"))
    return read


def list_templates(session: Session, *, principal: Principal) -> list[TemplateRead]:
    rows = session.scalars(select(SegmentTemplate).where(SegmentTemplate.deleted_at.is_(None))
                           .order_by(SegmentTemplate.id)).all()
    return [TemplateRead.model_validate(t) for t in rows
            if _ancestors_or_subtree(principal, t.region_code)]


def use_template(session: Session, *, template_id: int, values: dict[str, Any],
                 principal: Principal, save_as: str | None = None) -> dict[str, Any]:
    """Fill a template; with `save_as`, also save the result as a new segment."""
    tpl = get_template(session, template_id=template_id, principal=principal)
    rule = fill(tpl, values)
    out: dict[str, Any] = {"rule": rule}
    if save_as:
        seg = segment_service.create(session, segment_in=SegmentCreate(
            name=save_as, description=f"from template {tpl.name}", rule=rule),
            principal=principal)
        out["segment"] = seg.model_dump(mode="json")
    return out
