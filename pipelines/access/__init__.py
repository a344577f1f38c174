"""Who may see and do what: users and their passwords, region scopes, the one ID-number mask."""

from pipelines.access.scope import ACTION_TEXT, ROLE_ACTIONS, Scope, mask_id
from pipelines.access.users import (
    ROLE_LABELS,
    ROLES,
    User,
    add_user,
    authenticate,
    check_new_user,
    deactivate,
    list_users,
    load_user,
    reactivate,
    region_names,
    set_password,
)

__all__ = [
    "ACTION_TEXT",
    "ROLES",
    "ROLE_ACTIONS",
    "ROLE_LABELS",
    "Scope",
    "User",
    "add_user",
    "authenticate",
    "check_new_user",
    "deactivate",
    "list_users",
    "load_user",
    "mask_id",
    "reactivate",
    "region_names",
    "set_password",
]
