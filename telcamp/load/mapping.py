"""YAML column mapping: lets an operator whose export names things differently load it unchanged.

Format (every key optional)::

    usage:
      columns:            # operator's column name -> contract column name
        MSISDN: msisdn
        START_TIME: event_time
        SERVICE_TYPE: service
      values:             # per contract column: operator's value -> contract value
        service:
          GPRS: data
          CALL: voice
      decimal: ","        # CSV numbers written 12,50 (a decimal comma)
      encoding: windows-1251   # CSV bytes in this encoding, not UTF-8
    subscribers:
      columns: {PHONE: msisdn, AREA: region_code}
    csv:                  # decimal and encoding for every kind not saying its own
      decimal: ","

A kind may also be given as a plain ``{operator name: contract name}`` dictionary (columns
only); a kind's dictionary with any of the keys columns, values, decimal or encoding is a
section, and may have no other key. Mistakes (unknown kind, unknown key of a section,
unknown contract column, a value that is not a string, a decimal other than "." or ",",
an encoding Python does not know) are errors naming the mapping file and the key (an
unknown key with the keys allowed).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from telcamp.core.errors import ValidationFailed
from telcamp.warehouse.contracts import CONTRACTS


@dataclass(frozen=True)
class KindMapping:
    columns: dict[str, str] = field(default_factory=dict)  # source name -> contract name
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {src: dst}
    decimal: str = "."  # CSV: the decimal separator of number columns ("." or ",")
    encoding: str | None = None  # CSV: the file's encoding when not UTF-8 (a Python codec)

    def target(self, source_name: str) -> str:
        if source_name in self.columns:
            return self.columns[source_name]
        # then whatever the case, as contract names match: a mapping written from the
        # export's documentation says start_time where the file's header says START_TIME
        folded = source_name.lower()
        for source, target in self.columns.items():
            if source.lower() == folded:
                return target
        return source_name


@dataclass(frozen=True)
class Mapping:
    kinds: dict[str, KindMapping] = field(default_factory=dict)
    file: str | None = None
    csv: KindMapping = field(default_factory=KindMapping)  # the `csv:` section: every kind

    def for_kind(self, kind: str) -> KindMapping:
        return self.kinds.get(kind, self.csv)


EMPTY = Mapping()


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise ValidationFailed(f"{where}: expected a name or value, got {value!r}", field=where)
    return str(value)


# The keys of a kind's section besides columns and values, and of the `csv:` section.
_CSV_KEYS = ("decimal", "encoding")
_SECTION_ORDER = ("columns", "values", *_CSV_KEYS)
_SECTION_KEYS = set(_SECTION_ORDER)
CSV_SECTION = "csv"
# Keys people try that the loader decides itself: the reason, not just "unknown".
_NOT_SET_HERE = {
    "delimiter": "the delimiter is detected from the header (, ; tab or |)",
    "separator": "the delimiter is detected from the header (, ; tab or |)",
    "quote": 'the quote character is always "',
    "header": "the first line is always the header",
}


def _known_keys(spec: dict[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    """Refuse a key the section does not have, naming it and the keys it has."""
    for key in spec:
        if key not in allowed:
            why = _NOT_SET_HERE.get(str(key).lower())
            raise ValidationFailed(
                f"{where}.{key}: unknown key; allowed: {', '.join(allowed)}"
                + (f" ({why})" if why else ""), field=str(key))


def _csv_options(spec: dict[Any, Any], where: str, base: KindMapping) -> KindMapping:
    """decimal and encoding of a section, over `base` (the csv: section's)."""
    out = base
    if "decimal" in spec:
        decimal = _scalar(spec["decimal"], f"{where}.decimal")
        if decimal not in (".", ","):
            raise ValidationFailed(
                f'{where}.decimal: must be "." or "," (quote it in YAML), got {decimal!r}',
                field="decimal")
        out = replace(out, decimal=decimal)
    if "encoding" in spec:
        encoding = _scalar(spec["encoding"], f"{where}.encoding")
        try:
            codec = codecs.lookup(encoding)
        except LookupError as exc:
            raise ValidationFailed(
                f"{where}.encoding: unknown encoding {encoding!r} (e.g. windows-1251, "
                "koi8-r, utf-16, latin-1)", field="encoding") from exc
        # UTF-8 is what the reader takes as is: no conversion (utf-8-sig: the BOM is
        # skipped by the reader too)
        out = replace(out, encoding=None if codec.name in ("utf-8", "utf-8-sig") else encoding)
    return out


def parse(data: Any, *, file: str = "<mapping>") -> Mapping:
    """Check and build a mapping from the YAML document's data."""
    if data is None:
        return Mapping(file=file)
    if not isinstance(data, dict):
        raise ValidationFailed(f"{file}: the mapping must be a dictionary of kinds", field=file)
    defaults = KindMapping()
    if CSV_SECTION in data:
        spec = data[CSV_SECTION]
        where = f"{file}: {CSV_SECTION}"
        if not isinstance(spec, dict):
            raise ValidationFailed(
                f"{where}: expected a dictionary of {', '.join(_CSV_KEYS)}", field=CSV_SECTION)
        _known_keys(spec, _CSV_KEYS, where)
        defaults = _csv_options(spec, where, defaults)
    kinds: dict[str, KindMapping] = {}
    for kind, spec in data.items():
        where = f"{file}: {kind}"
        if kind == CSV_SECTION:
            continue
        if kind not in CONTRACTS:
            raise ValidationFailed(
                f"{where}: unknown kind; known kinds: {', '.join(CONTRACTS)} (and {CSV_SECTION}: "
                f"{', '.join(_CSV_KEYS)} for every kind)", field=str(kind)
            )
        contract = CONTRACTS[kind]
        if not isinstance(spec, dict):
            raise ValidationFailed(f"{where}: expected a dictionary", field=str(kind))
        # A section with any of its keys is a section: its other keys are mistakes (a
        # `delimiter:`, a typo), said as such instead of being taken for column names.
        if set(spec) & _SECTION_KEYS:
            _known_keys(spec, _SECTION_ORDER, where)
            columns_raw = spec.get("columns") or {}
            values_raw = spec.get("values") or {}
        else:
            columns_raw, values_raw = spec, {}
        for key, raw in (("columns", columns_raw), ("values", values_raw)):
            if not isinstance(raw, dict):
                raise ValidationFailed(f"{where}.{key}: expected a dictionary, got {raw!r}",
                                       field=key)
        columns: dict[str, str] = {}
        for src, dst in columns_raw.items():
            src_s = _scalar(src, f"{where}.columns")
            dst_s = _scalar(dst, f"{where}.columns.{src_s}")
            if dst_s not in contract.column_names and not contract.extra_columns_allowed:
                raise ValidationFailed(
                    f"{where}.columns.{src_s}: '{dst_s}' is not a column of {kind}; columns: "
                    + ", ".join(contract.column_names),
                    field=src_s,
                )
            if dst_s in columns.values():
                raise ValidationFailed(
                    f"{where}.columns.{src_s}: two columns map to '{dst_s}'", field=src_s
                )
            columns[src_s] = dst_s
        values: dict[str, dict[str, str]] = {}
        for col, table in values_raw.items():
            col_s = _scalar(col, f"{where}.values")
            if col_s not in contract.column_names:
                raise ValidationFailed(
                    f"{where}.values.{col_s}: not a column of {kind}", field=col_s
                )
            if not isinstance(table, dict):
                raise ValidationFailed(f"{where}.values.{col_s}: expected a dictionary")
            values[col_s] = {
                _scalar(k, f"{where}.values.{col_s}"): _scalar(v, f"{where}.values.{col_s}.{k}")
                for k, v in table.items()
            }
        options = _csv_options(spec, where, defaults) if columns_raw is not spec else defaults
        kinds[kind] = replace(options, columns=columns, values=values)
    return Mapping(kinds=kinds, file=file, csv=defaults)


def load(path: Path | None) -> Mapping:
    """Read a mapping file (None: no mapping)."""
    if path is None:
        return EMPTY
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValidationFailed(f"mapping file {path} not found", field="mapping") from exc
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"mapping file {path} is not UTF-8", field="mapping") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # PyYAML's own text names the file "<unicode string>" and counts from 0 in places:
        # say the line and column of the mapping file, and show it
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        snippet = mark.get_snippet() if mark else None
        raise ValidationFailed(f"mapping file {path} is not valid YAML{where}: {problem}"
                               + (f"\n{snippet}" if snippet else ""),
                               field="mapping") from exc
    return parse(data, file=str(path))
