"""The permission matrix as markdown: docs/permissions.md is generated from permissions.py
(`python -m telcamp.access.matrix > docs/permissions.md`), and a test keeps them equal."""

from __future__ import annotations

from telcamp.access.permissions import PERMISSIONS, ROLES

HEADER = """# Permissions

Generated from `telcamp/access/permissions.py` (the single source) by
`python -m telcamp.access.matrix > docs/permissions.md`; `tests/access/test_matrix.py`
fails when the two differ. Every API route and console page declares one permission with
`Depends(require("<permission>"))`; a test fails when a route declares none.

Besides the permission, everything a user reads or changes is limited to the subtree of
their region node (province, city or county); see docs/security.md.
"""


def render() -> str:
    roles = list(ROLES)
    lines = [HEADER, "| permission | meaning | " + " | ".join(roles) + " |",
             "| --- | --- | " + " | ".join(":-:" for _r in roles) + " |"]
    for name, meaning in PERMISSIONS.items():
        marks = " | ".join("✓" if name in ROLES[r] else "" for r in roles)
        lines.append(f"| `{name}` | {meaning} | {marks} |")
    lines.append("")
    lines.append("## Roles")
    lines.append("")
    for role in roles:
        perms = ", ".join(f"`{p}`" for p in PERMISSIONS if p in ROLES[role])
        lines.append(f"- **{role}**: {perms}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
