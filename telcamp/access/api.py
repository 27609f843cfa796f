"""/api/access: users, API tokens, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from telcamp.access import regions, service, tokens
from telcamp.access.deps import require
from telcamp.access.schemas import (
    Me,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from telcamp.core.db import session_scope
from telcamp.core.security import Principal

router = APIRouter(prefix="/api/access", tags=["access"])


@router.get("/me", response_model=Me)
def me(principal: Principal = Depends(require("warehouse.read"))) -> Me:
    return _me(principal)


@router.get("/whoami", response_model=Me)
def whoami_channel(principal: Principal = Depends(require("offer.query"))) -> Me:
    """The same for machine callers (channel tokens lack warehouse.read)."""
    return _me(principal)


def _me(principal: Principal) -> Me:
    return Me(username=principal.username, role=principal.role,
              region_code=principal.region_code, region_name=principal.region_name,
              permissions=sorted(principal.permissions))


@router.get("/users", response_model=list[UserRead])
def list_users(principal: Principal = Depends(require("user.manage"))) -> list[UserRead]:
    with session_scope() as session:
        return [UserRead.model_validate(u) for u in service.list_users(session, actor=principal)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    body: UserCreate, principal: Principal = Depends(require("user.manage"))
) -> UserRead:
    with session_scope() as session:
        user = service.create_user(
            session, username=body.username, password=body.password, role=body.role,
            region_code=body.region_code, actor=principal, email=body.email,
        )
        return UserRead.model_validate(user)


@router.patch("/users/{username}", response_model=UserRead)
def update_user(
    username: str, body: UserUpdate, principal: Principal = Depends(require("user.manage"))
) -> UserRead:
    with session_scope() as session:
        user = service.get_user(session, username=username)
        if not regions.in_scope(principal, user.region_code):
            # Not "forbidden": a user outside one's region does not exist for one.
            from telcamp.core.errors import NotFound

            raise NotFound(f"no user {username!r}", field="username")
        if body.role is not None or body.region_code is not None or body.email is not None:
            user = service.update_user(session, username=username, actor=principal,
                                       role=body.role, region_code=body.region_code,
                                       email=body.email)
        if body.password is not None:
            user = service.set_password(session, username=username, password=body.password,
                                        actor=principal)
        if body.disabled is not None:
            user = service.set_disabled(session, username=username, disabled=body.disabled,
                                        actor=principal)
        return UserRead.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(principal: Principal = Depends(require("token.manage"))) -> list[TokenRead]:
    with session_scope() as session:
        return [TokenRead.model_validate(t) for t in tokens.list_tokens(session, actor=principal)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate, principal: Principal = Depends(require("token.manage"))
) -> TokenCreated:
    with session_scope() as session:
        text, row = tokens.create(session, name=body.name, role=body.role,
                                  region_code=body.region_code, actor=principal)
        return TokenCreated(token=text, **TokenRead.model_validate(row).model_dump())


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(
    token_id: int, principal: Principal = Depends(require("token.manage"))
) -> TokenRead:
    with session_scope() as session:
        return TokenRead.model_validate(tokens.revoke(session, token_id=token_id, actor=principal))
