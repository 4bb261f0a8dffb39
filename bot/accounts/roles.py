"""The three roles of the console, each with everything the one below may do.

- officer (cán bộ một cửa): cases (search, status changes, import) and the feedback inbox;
- lead (lãnh đạo): also the dashboard, what citizens ask, and the CSV exports;
- admin (quản trị): also staff accounts, API keys and the audit log.
"""

from __future__ import annotations

ROLES: dict[str, str] = {"officer": "Cán bộ một cửa", "lead": "Lãnh đạo", "admin": "Quản trị viên"}
_RANK = {name: rank for rank, name in enumerate(ROLES)}


def check_role(role: str) -> str:
    """`role` when it is one of ROLES, else ValueError naming them."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    return role


def allows(role: str, needed: str) -> bool:
    """Whether an account of `role` may do what needs `needed` (an unknown role may do nothing)."""
    return role in _RANK and _RANK[role] >= _RANK[needed]
