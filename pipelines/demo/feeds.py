"""Each feed as its department would export it, still clean: canonical field names, true values,
record keys, and `_pid` (the true person of the row) for the truth files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import pools
from .datetext import zero_padded
from .model import World

__all__ = ["FEED_BUILDERS", "hukou_rows"]

_SEX = np.array(["女", "男"], dtype=object)


def _keys(rng: np.random.Generator, prefix: np.ndarray | str, n: int, width: int) -> np.ndarray:
    """Unique department numbers: prefix + a running number, handed out in a shuffled row order."""
    numbers = np.empty(n, dtype=np.int64)
    numbers[rng.permutation(n)] = np.arange(1, n + 1)
    prefix = np.broadcast_to(np.asarray(prefix, dtype=object), (n,))
    return prefix + zero_padded(numbers, width)


def _person(world: World, pid: np.ndarray, column: str) -> np.ndarray:
    return world.people[column].to_numpy()[pid]


def _births(world: World, pid: np.ndarray) -> np.ndarray:
    return world.people["birth"].to_numpy().astype("datetime64[D]")[pid]


def _county(world: World, pid: np.ndarray) -> np.ndarray:
    return _person(world, pid, "county_code").astype(object)


def _village_code(world: World, pid: np.ndarray) -> np.ndarray:
    return world.villages["code"].to_numpy()[_person(world, pid, "village")]


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def poverty_households(rng: np.random.Generator, world: World) -> pd.DataFrame:
    reg = world.registry_households
    head = reg["head"].to_numpy()
    return pd.DataFrame(
        {
            "household_no": reg["household_no"].to_numpy(),
            "head_name": _person(world, head, "name"),
            "head_id": _person(world, head, "id18"),
            "village_code": world.villages["code"].to_numpy()[reg["village"].to_numpy()],
            "category": reg["category"].to_numpy(),
            "identified_year": reg["identified_year"].to_numpy(),
            "status": reg["status"].to_numpy(),
            "exit_year": reg["exit_year"].to_numpy(),
            "main_cause": reg["main_cause"].to_numpy(),
            "size": reg["size"].to_numpy(),
            "income_per_capita": reg["income_per_capita"].to_numpy(),
            "dibao_income": reg["dibao_income"].to_numpy(),
            "relocated": reg["relocated"].to_numpy(),
            "moved_in": reg["moved_in"].to_numpy(),
            "phone": reg["phone"].to_numpy(),
            "helper": np.where(rng.random(len(reg)) < 0.5, "", rng.choice(pools.HELPER_REMARKS, size=len(reg))).astype(object),
            "_pid": head,
        }
    )


def poverty_members(rng: np.random.Generator, world: World) -> pd.DataFrame:
    m = world.members
    pid = m["pid"].to_numpy()
    return pd.DataFrame(
        {
            "member_no": m["member_no"].to_numpy(),
            "household_no": world.registry_households["household_no"].to_numpy()[m["r"].to_numpy()],
            "name": _person(world, pid, "name"),
            "id_number": _person(world, pid, "id18"),
            "sex": _SEX[_person(world, pid, "male").astype(int)],
            "ethnicity": _person(world, pid, "ethnicity"),
            "birth_date": _births(world, pid),
            "relation": m["relation"].to_numpy(),
            "schooling": m["schooling"].to_numpy(),
            "health": m["health"].to_numpy(),
            "insured": m["insured"].to_numpy(),
            "_pid": pid,
        }
    )


def hukou(rng: np.random.Generator, world: World) -> pd.DataFrame:
    return hukou_rows(world, np.arange(len(world.people)))


def hukou_rows(world: World, pid: np.ndarray) -> pd.DataFrame:
    """The clean hukou rows of persons `pid`, in that order."""
    people = world.people
    hh = people["hh"].to_numpy()[pid]
    group = zero_padded(hh % 9 + 1, 2)
    number = (hh * 7919) % 97 + 1
    address = (
        world.villages["address"].to_numpy()[_person(world, pid, "village")]
        + np.array([g.lstrip("0") for g in group], dtype=object)
        + "组"
        + np.array([str(x) for x in number.tolist()], dtype=object)
        + "号"
    )
    return pd.DataFrame(
        {
            "person_no": "R" + _county(world, pid) + zero_padded(pid + 1, 8),
            "id_number": _person(world, pid, "id18"),
            "name": _person(world, pid, "name"),
            "sex": _SEX[_person(world, pid, "male").astype(int)],
            "ethnicity": _person(world, pid, "ethnicity"),
            "birth_date": _births(world, pid),
            "hukou_no": world.households["hukou_no"].to_numpy()[hh],
            "relation": _person(world, pid, "relation"),
            "village_code": _village_code(world, pid),
            "address": address,
            "state": _person(world, pid, "state"),
            "changed_on": _person(world, pid, "changed_on").astype("datetime64[D]"),
            "moved_to": _person(world, pid, "moved_to"),
            "_pid": pid,
        }
    )


def medical_insurance(rng: np.random.Generator, world: World) -> pd.DataFrame:
    ins = world.facts["insurance"]
    pid = ins["pid"].to_numpy()
    return _sorted(
        pd.DataFrame(
            {
                "insured_no": _keys(rng, _county(world, pid), len(pid), 8),
                "name": _person(world, pid, "name"),
                "id_number": _person(world, pid, "id18"),
                "village_code": ins["village_code"].to_numpy(),
                "year": ins["year"].to_numpy(),
                "state": ins["state"].to_numpy(),
                "critical_illness_cover": ins["critical"].to_numpy(),
                "_pid": pid,
            }
        ),
        "insured_no",
    )


def illness_registry(rng: np.random.Generator, world: World) -> pd.DataFrame:
    ill = world.facts["illness"]
    pid = ill["pid"].to_numpy()
    return _sorted(
        pd.DataFrame(
            {
                "registry_no": _keys(rng, "WJ" + _county(world, pid), len(pid), 7),
                "name": _person(world, pid, "name"),
                "id_number": _person(world, pid, "id18"),
                "kind": ill["kind"].to_numpy(),
                "disease": ill["disease"].to_numpy(),
                "diagnosed_on": ill["diagnosed_on"].to_numpy(),
                "self_paid": ill["self_paid"].to_numpy(),
                "_pid": pid,
            }
        ),
        "registry_no",
    )


def school_enrolment(rng: np.random.Generator, world: World) -> pd.DataFrame:
    school = world.facts["school"]
    pid = school["pid"].to_numpy()
    return _sorted(
        pd.DataFrame(
            {
                "student_no": _keys(rng, "G" + _county(world, pid), len(pid), 9),
                "name": _person(world, pid, "name"),
                "id_number": _person(world, pid, "id18"),
                "sex": _SEX[_person(world, pid, "male").astype(int)],
                "birth_date": _births(world, pid),
                "school": school["school"].to_numpy(),
                "stage": school["stage"].to_numpy(),
                "grade": school["grade"].to_numpy(),
                "state": school["state"].to_numpy(),
                "village_code": school["village_code"].to_numpy(),
                "_pid": pid,
            }
        ),
        "student_no",
    )


def dangerous_housing(rng: np.random.Generator, world: World) -> pd.DataFrame:
    house = world.facts["housing"]
    pid = house["pid"].to_numpy()
    years = house["appraised_on"].to_numpy().astype("datetime64[Y]").astype(np.int64) + 1970
    return _sorted(
        pd.DataFrame(
            {
                "appraisal_no": _keys(rng, "WF" + _county(world, pid) + years.astype(str).astype(object), len(pid), 6),
                "owner_name": _person(world, pid, "name"),
                "owner_id": _person(world, pid, "id18"),
                "village_code": house["village_code"].to_numpy(),
                "grade": house["grade"].to_numpy(),
                "appraised_on": house["appraised_on"].to_numpy(),
                "renovation": house["renovation"].to_numpy(),
                "completed_on": house["completed_on"].to_numpy(),
                "remark": house["remark"].to_numpy(),
                "_pid": pid,
            }
        ),
        "appraisal_no",
    )


def minimum_living(rng: np.random.Generator, world: World) -> pd.DataFrame:
    ml = world.facts["minimum_living"]
    pid = ml["pid"].to_numpy()
    case = ml["case"].to_numpy()
    first = np.unique(case, return_index=True)[1]
    case_keys = _keys(rng, "DB" + _county(world, pid[first]), len(first), 6)
    return _sorted(
        pd.DataFrame(
            {
                "person_no": _keys(rng, "MZ" + _county(world, pid), len(pid), 7),
                "case_no": case_keys[case],
                "name": _person(world, pid, "name"),
                "id_number": _person(world, pid, "id18"),
                "village_code": ml["village_code"].to_numpy(),
                "kind": ml["kind"].to_numpy(),
                "monthly_amount": ml["monthly"].to_numpy(),
                "since": ml["since"].to_numpy(),
                "state": ml["state"].to_numpy(),
                "_pid": pid,
            }
        ),
        "person_no",
    )


def public_payroll(rng: np.random.Generator, world: World) -> pd.DataFrame:
    pay = world.facts["payroll"]
    pid = pay["pid"].to_numpy()
    return _sorted(
        pd.DataFrame(
            {
                "person_no": _keys(rng, "CZ", len(pid), 8),
                "name": _person(world, pid, "name"),
                "id_number": _person(world, pid, "id18"),
                "employer": pay["employer"].to_numpy(),
                "hired_on": pay["hired_on"].to_numpy(),
                "_pid": pid,
            }
        ),
        "person_no",
    )


def enterprise_registry(rng: np.random.Generator, world: World) -> pd.DataFrame:
    ent = world.facts["enterprises"]
    pid = ent["pid"].to_numpy()
    return _sorted(
        pd.DataFrame(
            {
                "credit_code": ent["credit_code"].to_numpy(),
                "enterprise_name": ent["name"].to_numpy(),
                "legal_rep_name": _person(world, pid, "name"),
                "legal_rep_id": _person(world, pid, "id18"),
                "registered_capital": ent["capital"].to_numpy(),
                "founded_on": ent["founded_on"].to_numpy(),
                "state": ent["state"].to_numpy(),
                "_pid": pid,
            }
        ),
        "credit_code",
    )


def vehicles(rng: np.random.Generator, world: World) -> pd.DataFrame:
    car = world.facts["vehicles"]
    pid = car["pid"].to_numpy()
    return _sorted(
        pd.DataFrame(
            {
                "plate_no": car["plate"].to_numpy(),
                "owner_name": _person(world, pid, "name"),
                "owner_id": _person(world, pid, "id18"),
                "vehicle_type": car["kind"].to_numpy(),
                "registered_on": car["registered_on"].to_numpy(),
                "_pid": pid,
            }
        ),
        "plate_no",
    )


FEED_BUILDERS = {
    "poverty_households": poverty_households,
    "poverty_members": poverty_members,
    "hukou": hukou,
    "medical_insurance": medical_insurance,
    "illness_registry": illness_registry,
    "school_enrolment": school_enrolment,
    "dangerous_housing": dangerous_housing,
    "minimum_living": minimum_living,
    "public_payroll": public_payroll,
    "enterprise_registry": enterprise_registry,
    "vehicles": vehicles,
}
