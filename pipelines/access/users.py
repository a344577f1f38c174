"""Users of the ledger chain: who they are, what region they answer for, and their passwords.

A user has one role (ledgers contract) and one region scope, a region-code prefix whose length
matches the role: prefecture 4, county 6, township 9, village 12; a department liaison holds a
county (6) and a department; an auditor any of 4/6/9/12. Passwords are stored only as argon2id
hashes (argon2-cffi), re-hashed on the next sign-in when the hashing parameters change.
What a role may do lives in pipelines.access.scope.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, select, text, update

from pipelines.errors import BiduiError
from pipelines.store.snapshots import load_region_reference
from pipelines.store.tables import users
from pipelines.store.transactions import write_transaction
from pipelines.store.upsert import upsert

__all__ = [
    "ADMIN_ROLE",
    "HASHER",
    "ROLES",
    "ROLE_LABELS",
    "User",
    "add_user",
    "authenticate",
    "check_new_user",
    "deactivate",
    "has_active_admin",
    "list_users",
    "load_user",
    "normalise_user_name",
    "reactivate",
    "region_names",
    "require_role",
    "set_password",
]

ROLES = ("prefecture", "county", "township", "village", "liaison", "auditor")
# The data officer's role: runs the nights, keeps the user accounts, decides review pairs.
ADMIN_ROLE = "prefecture"
ROLE_LABELS = {
    "prefecture": "市（州）",
    "county": "县",
    "township": "乡镇",
    "village": "村",
    "liaison": "行业部门联络员",
    "auditor": "审计/考核",
    "system": "系统",
}
# Region-code prefix lengths a role may hold.
REGION_LENGTHS: dict[str, tuple[int, ...]] = {
    "prefecture": (4,),
    "county": (6,),
    "township": (9,),
    "village": (12,),
    "liaison": (6,),
    "auditor": (4, 6, 9, 12),
}
LEVEL_LABELS = {4: "市（州）", 6: "县", 9: "乡镇", 12: "村"}
# Below county level ID numbers are masked unless the user is explicitly allowed to see them.
FULL_IDS_BY_DEFAULT = {"prefecture": True, "county": True, "auditor": True, "liaison": True, "township": False, "village": False}
# The region_reference level whose codes a prefix of this length must start: a prefecture exists
# when some county's code starts with it (the reference has no prefecture rows).
_REFERENCE_LEVEL = {4: "county", 6: "county", 9: "township", 12: "village"}
MIN_PASSWORD_LENGTH = 8
RESERVED_NAMES = ("system",)  # the nightly run's name in clue_events
MAX_NAME_LENGTH = 64
# Unicode categories a user name may not hold: control, format (zero-width, BOM), separators, and
# unassigned or private code points, all invisible or unreliable on screen.
_BAD_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp")

# argon2id with the library's current defaults; tests swap in cheaper parameters.
HASHER = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash("bidui-no-such-user")


@dataclass(frozen=True)
class User:
    """A user as the rest of bidui sees one (never with the password hash)."""

    user_name: str
    display_name: str | None
    role: str
    region_code: str
    department: str | None
    full_ids: bool
    active: bool

    @property
    def label(self) -> str:
        """'张三（县 522725）' for messages."""
        return f"{self.display_name or self.user_name}（{ROLE_LABELS.get(self.role, self.role)} {self.region_code}）"


_COLUMNS = ("user_name", "display_name", "role", "region_code", "department", "full_ids", "active")


def _user(row) -> User:
    values = {c: row[c] for c in _COLUMNS}
    return User(**{**values, "full_ids": bool(values["full_ids"]), "active": bool(values["active"])})


# --- validation --------------------------------------------------------------------------------


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise BiduiError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if password != password.strip():
        raise BiduiError("密码首尾不能有空格")


def normalise_user_name(user_name: str) -> str:
    """A user name as stored and looked up: NFKC, so full-width 'ｗａｎｇ' is 'wang'."""
    return unicodedata.normalize("NFKC", user_name) if isinstance(user_name, str) else user_name


def _name_key(user_name: str) -> str:
    """What two names must not share: 'WANG', 'ｗａｎｇ' and 'wang' look alike to a county clerk."""
    return unicodedata.normalize("NFKC", user_name).casefold()


def _bad_character(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in _BAD_CATEGORIES


def _check_user_name(user_name: str) -> None:
    # Checked in the form it is stored in: NFKC can add spaces ('¨' is a space and a combining mark)
    # and lengthen a name (one ligature is 18 characters, past the column's 64).
    stored = normalise_user_name(user_name)
    if not isinstance(stored, str) or not 1 <= len(stored) <= MAX_NAME_LENGTH:
        grown = f"（按统一字形换算后为 {len(stored)} 个字符）" if isinstance(stored, str) and stored != user_name else ""
        raise BiduiError(f"用户名“{user_name}”不可用：须为 1–{MAX_NAME_LENGTH} 个字符，不含空格{grown}")
    typed_bad = any(_bad_character(c) for c in user_name)
    if typed_bad or any(_bad_character(c) for c in stored):
        # The bad characters are invisible, so they are shown escaped where they sit: as typed
        # (an ideographic space, not the space NFKC makes of it) unless only NFKC brought one in.
        shown = "".join(_escaped(c) if _bad_character(c) else c for c in (user_name if typed_bad else stored))
        raise BiduiError(f"用户名“{user_name}”不可用：不能含空格、零宽字符或控制字符（{shown}）")
    if _name_key(user_name) in RESERVED_NAMES:
        raise BiduiError(f"用户名“{user_name}”为系统保留，请换一个")


def _escaped(character: str) -> str:
    """A character as a Python escape; a plain space too, which unicode_escape would leave invisible."""
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _check_role_region(regions: pd.DataFrame, role: str, region_code: str, department: str | None) -> None:
    if role not in ROLES:
        known = "、".join(f"{r}（{ROLE_LABELS[r]}）" for r in ROLES)
        raise BiduiError(f"未知的角色“{role}”，可选：{known}")
    lengths = REGION_LENGTHS[role]
    wanted = " 或 ".join(f"{n} 位" for n in lengths)
    if not isinstance(region_code, str) or not region_code.isascii() or not region_code.isdigit():
        raise BiduiError(f"区划代码“{region_code}”应全为数字（{ROLE_LABELS[role]}用户为 {wanted}）")
    if len(region_code) not in lengths:
        raise BiduiError(f"{ROLE_LABELS[role]}用户的区划代码应为 {wanted}，而“{region_code}”是 {len(region_code)} 位")
    if role == "liaison" and not department:
        raise BiduiError("行业部门联络员须指定部门（例如 --department 教育）")
    if role != "liaison" and department:
        raise BiduiError(f"只有行业部门联络员才指定部门；{ROLE_LABELS[role]}用户不需要 --department")
    if department and re.search(r"[+＋\s]", department):
        raise BiduiError(f"部门“{department}”应为单个部门名称，例如“公安”“教育”")
    if not _region_exists(regions, region_code):
        raise BiduiError(f"区划代码 {region_code} 不在区划参照表中（{LEVEL_LABELS[len(region_code)]}级），请核对")


def _region_exists(regions: pd.DataFrame, region_code: str) -> bool:
    """True when the reference knows the region, or holds no rows at all (nothing to check against)."""
    if regions.empty:
        return True
    level = regions.loc[regions["level"] == _REFERENCE_LEVEL[len(region_code)], "code"]
    return bool(level.str.startswith(region_code).any())


def check_new_user(engine: Engine, user_name: str, role: str, region_code: str, department: str | None = None) -> None:
    """Everything add_user checks except the password, so a CLI can refuse before asking for one."""
    regions = load_region_reference(engine)
    with engine.connect() as conn:
        _check_new_user(conn, regions, user_name, role, region_code, (department or "").strip() or None)


def _check_new_user(conn, regions: pd.DataFrame, user_name: str, role: str, region_code: str, department: str | None) -> None:
    _check_user_name(user_name)
    _check_role_region(regions, role, region_code, department)
    if conn.execute(select(users.c.user_name).where(users.c.user_name == user_name)).first():
        raise BiduiError(f"用户名“{user_name}”已存在")
    # User tables hold hundreds of names, not millions: comparing them all is cheap.
    for (existing,) in conn.execute(select(users.c.user_name)):
        if _name_key(existing) == _name_key(user_name):
            raise BiduiError(f"用户名“{user_name}”与已有用户“{existing}”相同或极易混淆，请换一个")


# --- users ---------------------------------------------------------------------------------------


def add_user(
    engine: Engine,
    user_name: str,
    password: str,
    role: str,
    region_code: str,
    department: str | None = None,
    display_name: str | None = None,
    full_ids: bool | None = None,
    first_officer: bool = False,
) -> User:
    """Create a user; BiduiError (Chinese) when a field is invalid or the name is taken.

    `first_officer`: the account made without signing in, allowed only while no active data officer
    exists — checked inside the inserting transaction, so two such commands at once make one.

    `full_ids` None means the role's default: full ID numbers at county level and above, for
    liaisons and auditors; masked for township and village users.
    """
    department = (department or "").strip() or None
    display_name = (display_name or "").strip() or None
    if not _insert_user(engine, user_name, password, role, region_code, department, display_name, full_ids, first_officer):
        # added by someone else between the check and the insert
        raise BiduiError(f"用户名“{user_name}”已存在")
    return load_user(engine, normalise_user_name(user_name))


def _insert_user(engine, user_name, password, role, region_code, department, display_name, full_ids, first_officer) -> bool:
    """False when the name was taken after all: a stored user is never overwritten."""
    regions = load_region_reference(engine)
    with write_transaction(engine) as conn:
        if first_officer:
            if role != ADMIN_ROLE:
                raise BiduiError(f"不登录只能新建第一个市（州）数据管理员（--role {ADMIN_ROLE}），不能新建其他角色的用户")
            if conn.dialect.name == "postgresql":  # SQLite's write_transaction already holds the database
                conn.execute(text("lock table users in share row exclusive mode"))
            if _has_active_admin(conn):
                raise BiduiError("已有启用的市（州）数据管理员：新建用户须由数据管理员登录后操作（--user）")
        _check_new_user(conn, regions, user_name, role, region_code, department)
        _check_password(password)
        row = {
            "user_name": normalise_user_name(user_name),
            "display_name": display_name,
            "password_hash": HASHER.hash(password),
            "role": role,
            "region_code": region_code,
            "department": department,
            "full_ids": FULL_IDS_BY_DEFAULT[role] if full_ids is None else bool(full_ids),
            "active": True,
            "created_at": dt.datetime.now().replace(microsecond=0),
        }
        return upsert(conn, users, row, update=())


def load_user(engine: Engine, user_name: str) -> User:
    """The user of that name (active or not); BiduiError when there is none."""
    with engine.connect() as conn:
        row = _find(conn, user_name)
    if row is None:
        raise BiduiError(f"用户“{user_name}”不存在")
    return _user(row)


def _find(conn, user_name: str):
    """The stored row a typed name means: the same name after NFKC, else the one name equal to it
    after NFKC and casefold (new names are kept apart that way, so there is at most one)."""
    if not isinstance(user_name, str) or not user_name:
        return None
    stored = normalise_user_name(user_name)
    row = conn.execute(select(users).where(users.c.user_name == stored)).mappings().first()
    if row is not None:
        return row
    key = _name_key(user_name)
    found = [r for r in conn.execute(select(users)).mappings() if _name_key(r["user_name"]) == key]
    return found[0] if len(found) == 1 else None


def authenticate(engine: Engine, user_name: str, password: str) -> User:
    """The active user whose password this is. A wrong name and a wrong password get the same
    message, so the error does not tell which user names exist."""
    wrong = BiduiError("用户名或密码不对")
    with engine.connect() as conn:
        row = _find(conn, user_name)
    if row is None:
        _verify(_DUMMY_HASH, password or "")
        raise wrong
    if not _verify(row["password_hash"], password or ""):
        raise wrong
    if not row["active"]:
        raise BiduiError(f"用户“{row['user_name']}”已停用，请联系管理员")
    if HASHER.check_needs_rehash(row["password_hash"]):
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.user_name == row["user_name"]).values(password_hash=HASHER.hash(password)))
    return _user(row)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def list_users(engine: Engine, scope=None, include_inactive: bool = True) -> list[User]:
    """Users ordered by region and name; with a scope, only those whose region lies inside it
    (a liaison sees the users of its county and department)."""
    statement = select(users).order_by(users.c.region_code, users.c.user_name)
    region = getattr(scope, "region_code", None)
    if region:
        statement = statement.where(users.c.region_code.startswith(region, autoescape=True))
    if getattr(scope, "role", None) == "liaison":
        statement = statement.where(users.c.department == scope.department)
    if not include_inactive:
        statement = statement.where(users.c.active.is_(True))
    with engine.connect() as conn:
        return [_user(row) for row in conn.execute(statement).mappings()]


def set_password(engine: Engine, user_name: str, password: str) -> None:
    """Replace a user's password (an administrator's act: the old password is not asked)."""
    _check_password(password)
    _set(engine, user_name, password_hash=HASHER.hash(password))


def deactivate(engine: Engine, user_name: str) -> User:
    """Stop a user from signing in; their past signatures and events stay as they were."""
    _set(engine, user_name, active=False)
    return load_user(engine, user_name)


def reactivate(engine: Engine, user_name: str) -> User:
    """Let a deactivated user sign in again."""
    _set(engine, user_name, active=True)
    return load_user(engine, user_name)


def _set(engine: Engine, user_name: str, **values) -> None:
    with engine.begin() as conn:
        row = _find(conn, user_name)
        if row is None:
            raise BiduiError(f"用户“{user_name}”不存在")
        conn.execute(update(users).where(users.c.user_name == row["user_name"]).values(**values))


def has_active_admin(engine: Engine) -> bool:
    """Whether some active data officer (prefecture user) exists; until one does, the first may be
    created without signing in."""
    with engine.connect() as conn:
        return _has_active_admin(conn)


def _has_active_admin(conn) -> bool:
    statement = select(users.c.user_name).where(users.c.role == ADMIN_ROLE, users.c.active.is_(True)).limit(1)
    return conn.execute(statement).first() is not None


def require_role(user: User, roles: tuple[str, ...], what: str) -> None:
    """BiduiError unless `user` is active and holds one of `roles`; `what` names the act ('运行夜间比对')."""
    if not user.active:
        raise BiduiError(f"用户“{user.user_name}”已停用，请联系管理员")
    if user.role not in roles:
        allowed = "、".join(f"{ROLE_LABELS.get(r, r)}（{r}）" for r in roles)
        raise BiduiError(f"用户 {user.label}无权{what}：只有{allowed}用户可以")


def region_names(engine: Engine, codes: list[str]) -> dict[str, str]:
    """Names of region prefixes for display: a 6-digit county code is found as its 12-digit row."""
    wanted = {c for c in codes if c and len(c) in _REFERENCE_LEVEL}
    if not wanted:
        return {}
    regions = load_region_reference(engine)
    reference = dict(zip(zip(regions["code"], regions["level"]), regions["name"]))
    names = {}
    for code in wanted:
        padded = code.ljust(12, "0")
        name = reference.get((padded, _REFERENCE_LEVEL[len(code)])) or reference.get((code, _REFERENCE_LEVEL[len(code)]))
        if name and len(code) != 4:
            names[code] = name
    return names
