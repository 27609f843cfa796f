"""Input errors said to people: a field's label and a plain reason, never pydantic's own
wording or its documentation links. One function for the console and the API.

Domains register labels for their field names (`register_labels`); the reasons are
msgids translated with the reader's `gettext`; a validator's own message (value_error)
goes through the domains' message translators like any other error message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from telcamp.core.errors import ValidationFailed
from telcamp.core.i18n import _, say_message

Gettext = Callable[[str], str]
LABELS: dict[str, str] = {}

_TIME_FIELDS = ("window_start", "window_end")
TIME_REASON = _("write a time as HH:MM, from 00:00 to 23:59")
REASONS: dict[str, str] = {
    "missing": _("is required"),
    "string_too_short": _("is required"),
    "string_too_long": _("is too long (at most {max_length} characters)"),
    "string_pattern_mismatch": _("has the wrong format"),
    "less_than_equal": _("must be at most {le}"),
    "less_than": _("must be below {lt}"),
    "greater_than_equal": _("must be at least {ge}"),
    "greater_than": _("must be above {gt}"),
    "int_parsing": _("is not a whole number"),
    "int_from_float": _("is not a whole number"),
    "int_type": _("is not a whole number"),
    "float_parsing": _("is not a number"),
    "float_type": _("is not a number"),
    "literal_error": _("must be one of {expected}"),
    "enum": _("must be one of {expected}"),
    "date_parsing": _("is not a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": _("is not a date (YYYY-MM-DD)"),
    "datetime_parsing": _("is not a date and time"),
    "datetime_from_date_parsing": _("is not a date and time"),
    "bool_parsing": _("must be yes or no"),
    "list_type": _("must be a list"),
    "dict_type": _("must be an object"),
}


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path, e.g. "waves.0.window_start"
    message: str  # "<label>: <reason>" in the reader's language


def register_labels(labels: Mapping[str, str]) -> None:
    """Field name → label msgid (mark them with `_` so they are extracted)."""
    LABELS.update(labels)


def describe(errors: Iterable[Mapping[str, Any]], gettext: Gettext,
             skip: tuple[str, ...] = ("body",)) -> list[FieldError]:
    """pydantic's `exc.errors()` → one FieldError per error, in the reader's language."""
    out: list[FieldError] = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if p not in skip]
        names = [p for p in loc if isinstance(p, str) and not p.startswith("function-")]
        name = names[-1] if names else ""
        where = ".".join(str(p) for p in loc)
        label = gettext(LABELS[name]) if name in LABELS else name
        # the list position the field is in ("waves[0]"), so two waves' errors differ
        nested = [f"{loc[i - 1]}[{p}]" for i, p in enumerate(loc)
                  if isinstance(p, int) and i > 0]
        if nested:
            label = f"{' '.join(nested)} · {label}" if label else " ".join(nested)
        kind = str(err.get("type", ""))
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        if kind == "value_error" and "error" in ctx:
            reason = say_message(str(ctx["error"]), gettext)
        elif kind == "string_pattern_mismatch" and name in _TIME_FIELDS:
            reason = gettext(TIME_REASON)
        elif kind in REASONS:
            try:
                reason = gettext(REASONS[kind]).format(**ctx)
            except (KeyError, IndexError):
                reason = str(err.get("msg", ""))
        else:
            reason = str(err.get("msg", "")).removeprefix("Value error, ")
        out.append(FieldError(where, f"{label}: {reason}" if label else reason))
    return out


class FieldErrors(ValidationFailed):
    """Several input errors of one form, all shown at once (each next to its field)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors),
                         field=errors[0].field if errors else None)
        self.errors = errors
