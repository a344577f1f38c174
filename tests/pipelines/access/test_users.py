"""Users: argon2 password hashes, sign-in, and the checks on role, region and department."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from pipelines import store
from pipelines.access import users
from pipelines.access.scope import Scope
from pipelines.access.users import User, add_user, authenticate, deactivate, list_users, load_user, reactivate, set_password
from pipelines.errors import BiduiError
from pipelines.store.tables import users as users_table

# Cheap parameters keep the tests quick; test_the_default_hasher_is_argon2id checks the real one.
DEFAULT_HASHER = users.HASHER
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
REGIONS = pd.DataFrame(
    [
        ("522701000000", "都匀市", "county"),
        ("522725000000", "瓮安县", "county"),
        ("522725101000", "雍阳街道", "township"),
        ("522725101201", "清平村", "village"),
    ],
    columns=["code", "name", "level"],
)


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch):
    monkeypatch.setattr(users, "HASHER", CHEAP)


@pytest.fixture
def engine(settings):
    return store.connect(settings)


@pytest.fixture
def with_regions(engine):
    store.replace_region_reference(engine, REGIONS, source="测试")
    return engine


def _stored_hash(engine, user_name: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(users_table.c.password_hash).where(users_table.c.user_name == user_name)).scalar_one()


def test_add_user_returns_the_stored_user(engine):
    user = add_user(engine, "wang", "secret123", "county", "522725", display_name="王五")
    assert user == User("wang", "王五", "county", "522725", None, True, True)
    assert load_user(engine, "wang") == user


def test_the_password_is_stored_only_as_an_argon2id_hash(engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    stored = _stored_hash(engine, "wang")
    assert stored.startswith("$argon2id$")
    assert "secret123" not in stored


def test_the_default_hasher_is_argon2id():
    stored = DEFAULT_HASHER.hash("secret123")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert DEFAULT_HASHER.verify(stored, "secret123")


def test_authenticate_with_the_right_password(engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    assert authenticate(engine, "wang", "secret123").user_name == "wang"


@pytest.mark.parametrize("user_name, password", [("wang", "secret124"), ("wang", ""), ("nobody", "secret123")])
def test_a_wrong_name_or_password_gets_one_chinese_message(engine, user_name, password):
    add_user(engine, "wang", "secret123", "county", "522725")
    with pytest.raises(BiduiError, match="^用户名或密码不对$"):
        authenticate(engine, user_name, password)


def test_sign_in_rehashes_when_the_parameters_changed(engine, monkeypatch):
    add_user(engine, "wang", "secret123", "county", "522725")
    old = _stored_hash(engine, "wang")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(users, "HASHER", stronger)
    authenticate(engine, "wang", "secret123")
    new = _stored_hash(engine, "wang")
    assert old.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert new.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    authenticate(engine, "wang", "secret123")
    assert _stored_hash(engine, "wang") == new  # no rehash once the parameters match


def test_a_wrong_password_does_not_rehash(engine, monkeypatch):
    add_user(engine, "wang", "secret123", "county", "522725")
    old = _stored_hash(engine, "wang")
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    with pytest.raises(BiduiError):
        authenticate(engine, "wang", "wrong-password")
    assert _stored_hash(engine, "wang") == old


def test_set_password_replaces_the_old_one(engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    set_password(engine, "wang", "another-secret")
    assert authenticate(engine, "wang", "another-secret").user_name == "wang"
    with pytest.raises(BiduiError, match="用户名或密码不对"):
        authenticate(engine, "wang", "secret123")


def test_a_deactivated_user_cannot_sign_in_until_reactivated(engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    assert deactivate(engine, "wang").active is False
    with pytest.raises(BiduiError, match="^用户“wang”已停用，请联系管理员$"):
        authenticate(engine, "wang", "secret123")
    with pytest.raises(BiduiError, match="已停用"):
        Scope.from_user(load_user(engine, "wang"))
    assert reactivate(engine, "wang").active is True
    assert authenticate(engine, "wang", "secret123").active is True


@pytest.mark.parametrize("call", [load_user, deactivate, lambda e, n: set_password(e, n, "secret123")])
def test_unknown_users_are_named_in_chinese(engine, call):
    with pytest.raises(BiduiError, match="^用户“ghost”不存在$"):
        call(engine, "ghost")


@pytest.mark.parametrize(
    "role, region, full_ids",
    [
        ("prefecture", "5227", True),
        ("county", "522725", True),
        ("township", "522725101", False),
        ("village", "522725101201", False),
        ("liaison", "522725", True),
        ("auditor", "522725101", True),
    ],
)
def test_full_ids_defaults_by_role(engine, role, region, full_ids):
    department = "教育" if role == "liaison" else None
    assert add_user(engine, "u1", "secret123", role, region, department).full_ids is full_ids


def test_full_ids_can_be_granted_below_county(engine):
    assert add_user(engine, "u1", "secret123", "township", "522725101", full_ids=True).full_ids is True


@pytest.mark.parametrize(
    "role, region, department, message",
    [
        ("mayor", "522725", None, "未知的角色“mayor”"),
        ("county", "52272", None, "县用户的区划代码应为 6 位，而“52272”是 5 位"),
        ("county", "522725101", None, "县用户的区划代码应为 6 位，而“522725101”是 9 位"),
        ("prefecture", "522725", None, "市（州）用户的区划代码应为 4 位"),
        ("township", "52272510A", None, "区划代码“52272510A”应全为数字"),
        ("village", "５２２７２５１０１２０１", None, "应全为数字"),
        ("auditor", "52272", None, "审计/考核用户的区划代码应为 4 位 或 6 位 或 9 位 或 12 位"),
        ("liaison", "522725", None, "行业部门联络员须指定部门"),
        ("liaison", "5227", "教育", "行业部门联络员用户的区划代码应为 6 位"),
        ("county", "522725", "教育", "只有行业部门联络员才指定部门"),
        ("liaison", "522725", "公安 + 乡镇", "应为单个部门名称"),
    ],
)
def test_invalid_roles_regions_and_departments_are_refused(engine, role, region, department, message):
    with pytest.raises(BiduiError, match=message):
        add_user(engine, "u1", "secret123", role, region, department)
    assert list_users(engine) == []


@pytest.mark.parametrize(
    "user_name, password, message",
    [
        ("", "secret123", "用户名“”不可用"),
        ("wang wu", "secret123", "用户名“wang wu”不可用"),
        ("x" * 65, "secret123", "不可用：须为 1–64 个字符"),
        ("System", "secret123", "为系统保留"),
        ("wang", "short", "密码至少需要 8 个字符"),
        ("wang", " secret123", "密码首尾不能有空格"),
    ],
)
def test_invalid_names_and_passwords_are_refused(engine, user_name, password, message):
    with pytest.raises(BiduiError, match=message):
        add_user(engine, user_name, password, "county", "522725")
    assert list_users(engine) == []


def test_a_user_name_is_taken_once(engine):
    add_user(engine, "wang", "secret123", "county", "522725")
    with pytest.raises(BiduiError, match="^用户名“wang”已存在$"):
        add_user(engine, "wang", "other-secret", "township", "522725101")
    assert load_user(engine, "wang").role == "county"


def test_a_name_taken_between_the_check_and_the_insert_is_not_overwritten(engine, monkeypatch):
    add_user(engine, "wang", "secret123", "county", "522725")
    monkeypatch.setattr(users, "_check_new_user", lambda *args: None)  # the check ran before "wang" was added
    with pytest.raises(BiduiError, match="^用户名“wang”已存在$"):
        add_user(engine, "wang", "other-secret", "township", "522725101")
    assert load_user(engine, "wang").role == "county"
    assert authenticate(engine, "wang", "secret123").role == "county"


def test_the_account_made_without_signing_in_can_only_be_a_data_officer(engine):
    with pytest.raises(BiduiError, match="^不登录只能新建第一个市（州）数据管理员"):
        add_user(engine, "xian", "secret123", "county", "522725", first_officer=True)
    assert users.list_users(engine) == []


def test_two_first_officers_made_at_once_give_one(engine, monkeypatch):
    # Both commands saw no data officer before either inserted (has_active_admin ran first in each).
    add_user(engine, "shi_a", "secret123", "prefecture", "5227", first_officer=True)
    with pytest.raises(BiduiError, match="^已有启用的市（州）数据管理员：新建用户须由数据管理员登录后操作"):
        add_user(engine, "shi_b", "secret123", "prefecture", "5227", first_officer=True)
    assert [u.user_name for u in users.list_users(engine)] == ["shi_a"]


@pytest.mark.parametrize(
    "role, region",
    [
        ("prefecture", "5227"),
        ("county", "522725"),
        ("township", "522725101"),
        ("village", "522725101201"),
        ("auditor", "522701"),
        ("liaison", "522701"),
    ],
)
def test_regions_known_to_the_reference_are_accepted(with_regions, role, region):
    department = "公安" if role == "liaison" else None
    assert add_user(with_regions, "u1", "secret123", role, region, department).region_code == region


@pytest.mark.parametrize(
    "role, region, message",
    [
        ("prefecture", "5226", "区划代码 5226 不在区划参照表中（市（州）级）"),
        ("county", "522726", "区划代码 522726 不在区划参照表中（县级）"),
        ("township", "522725102", "区划代码 522725102 不在区划参照表中（乡镇级）"),
        ("village", "522725101202", "区划代码 522725101202 不在区划参照表中（村级）"),
        # the township's own 12-digit row is not a village
        ("village", "522725101000", "区划代码 522725101000 不在区划参照表中（村级）"),
    ],
)
def test_regions_unknown_to_the_reference_are_refused(with_regions, role, region, message):
    with pytest.raises(BiduiError, match=message):
        add_user(with_regions, "u1", "secret123", role, region)


def test_list_users_orders_by_region_and_filters_by_scope(engine):
    add_user(engine, "pref", "secret123", "prefecture", "5227")
    add_user(engine, "ct", "secret123", "county", "522725")
    add_user(engine, "tw", "secret123", "township", "522725101")
    add_user(engine, "other", "secret123", "county", "522701")
    add_user(engine, "edu", "secret123", "liaison", "522725", "教育")
    add_user(engine, "police", "secret123", "liaison", "522725", "公安")
    deactivate(engine, "tw")
    names = lambda people: [u.user_name for u in people]  # noqa: E731
    assert names(list_users(engine)) == ["pref", "other", "ct", "edu", "police", "tw"]
    assert names(list_users(engine, include_inactive=False)) == ["pref", "other", "ct", "edu", "police"]
    county = Scope.from_user(load_user(engine, "ct"))
    assert names(list_users(engine, county)) == ["ct", "edu", "police", "tw"]
    assert names(list_users(engine, Scope.from_user(load_user(engine, "edu")))) == ["edu"]
    assert names(list_users(engine, Scope.system())) == names(list_users(engine))


def test_region_names_for_display(with_regions):
    assert users.region_names(with_regions, ["5227", "522725", "522725101", "522725101201", "522799"]) == {
        "522725": "瓮安县",
        "522725101": "雍阳街道",
        "522725101201": "清平村",
    }


@pytest.mark.parametrize(
    "user_name, shown",
    [
        ("wa\u200bng", "wa\\u200bng"),  # zero-width space
        ("\ufeffwang", "\\ufeffwang"),  # byte-order mark pasted from Notepad
        ("wang\u3000", "wang\\u3000"),  # ideographic space
        ("wang\x07", "wang\\x07"),  # control character
        ("wang\u00a0wu", "wang\\xa0wu"),  # no-break space
    ],
)
def test_names_with_invisible_or_space_characters_are_refused(engine, user_name, shown):
    with pytest.raises(BiduiError, match="^用户名“.*”不可用：不能含空格、零宽字符或控制字符（" + re.escape(shown) + "）$"):
        add_user(engine, user_name, "secret123", "county", "522725")
    assert list_users(engine) == []


@pytest.mark.parametrize("look_alike", ["ｗａｎｇ", "WANG", "Wang", "ｗang"])
def test_a_name_that_looks_like_an_existing_one_is_refused(engine, look_alike):
    add_user(engine, "wang", "secret123", "county", "522725")
    with pytest.raises(BiduiError, match=f"^用户名“{look_alike}”与已有用户“wang”相同或极易混淆，请换一个$"):
        add_user(engine, look_alike, "other-secret", "township", "522725101")
    assert [u.user_name for u in list_users(engine)] == ["wang"]


@pytest.mark.parametrize(
    "user_name, message",
    [
        # NFKC turns the diaeresis into a space and a combining mark: the stored name held a space.
        ("a\u00a8b", "用户名“a\u00a8b”不可用：不能含空格、零宽字符或控制字符（a\\x20\u0308b）"),
        # One ligature becomes 18 characters: ten of them overran the 64-character column.
        ("\ufdfa" * 10, "用户名“" + "\ufdfa" * 10 + "”不可用：须为 1–64 个字符，不含空格（按统一字形换算后为 180 个字符）"),
    ],
)
def test_names_are_checked_in_the_form_they_are_stored_in(engine, user_name, message):
    with pytest.raises(BiduiError) as caught:
        add_user(engine, user_name, "secret123", "county", "522725")
    assert str(caught.value) == message
    assert list_users(engine) == []


def test_names_are_stored_and_looked_up_in_nfkc_form(engine):
    assert add_user(engine, "ｌｉ＿１", "secret123", "county", "522725").user_name == "li_1"
    assert authenticate(engine, "ｌｉ＿１", "secret123").user_name == "li_1"
    assert authenticate(engine, "LI_1", "secret123").user_name == "li_1"
    assert load_user(engine, "Li_1").user_name == "li_1"
    with pytest.raises(BiduiError, match="^用户名或密码不对$"):
        authenticate(engine, "li\u200b_1", "secret123")
