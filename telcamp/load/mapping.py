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
    subscribers:
      columns: {PHONE: msisdn, AREA: region_code}

A kind may also be given as a plain ``{operator name: contract name}`` dictionary (columns
only). Mistakes (unknown kind, unknown contract column, a value that is not a string) are
errors naming the mapping file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from telcamp.core.errors import ValidationFailed
from telcamp.warehouse.contracts import CONTRACTS


@dataclass(frozen=True)
class KindMapping:
    columns: dict[str, str] = field(default_factory=dict)  # source name -> contract name
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {src: dst}

    def target(self, source_name: str) -> str:
        return self.columns.get(source_name, source_name)


@dataclass(frozen=True)
class Mapping:
    kinds: dict[str, KindMapping] = field(default_factory=dict)
    file: str | None = None

    def for_kind(self, kind: str) -> KindMapping:
        return self.kinds.get(kind, KindMapping())


EMPTY = Mapping()


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise ValidationFailed(f"{where}: expected a name or value, got {value!r}", field=where)
    return str(value)


def parse(data: Any, *, file: str = "<mapping>") -> Mapping:
    """Check and build a mapping from the YAML document's data."""
    if data is None:
        return Mapping(file=file)
    if not isinstance(data, dict):
        raise ValidationFailed(f"{file}: the mapping must be a dictionary of kinds", field=file)
    kinds: dict[str, KindMapping] = {}
    for kind, spec in data.items():
        where = f"{file}: {kind}"
        if kind not in CONTRACTS:
            raise ValidationFailed(
                f"{where}: unknown kind; known kinds: {', '.join(CONTRACTS)}", field=str(kind)
            )
        contract = CONTRACTS[kind]
        if not isinstance(spec, dict):
            raise ValidationFailed(f"{where}: expected a dictionary", field=str(kind))
        if set(spec) <= {"columns", "values"} and spec:
            columns_raw = spec.get("columns") or {}
            values_raw = spec.get("values") or {}
        else:
            columns_raw, values_raw = spec, {}
        if not isinstance(columns_raw, dict) or not isinstance(values_raw, dict):
            raise ValidationFailed(f"{where}: columns and values must be dictionaries")
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
        kinds[kind] = KindMapping(columns=columns, values=values)
    return Mapping(kinds=kinds, file=file)


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
        raise ValidationFailed(f"mapping file {path} is not valid YAML: {exc}") from exc
    return parse(data, file=str(path))
