"""Suite regions (区划与贫困村名录, optional): shared checks plus the shape of each code.

This feed *is* the region reference, so its codes are not checked against the stored one.
"""

from __future__ import annotations

from .common import SuiteContext, finding_meta, standard_expectations

__all__ = ["LEVEL_PATTERNS", "SUITE_NAME", "build_expectations"]

SUITE_NAME = "regions"

# A county's code ends in 000000, a township's in 000 (and not 000000), a village's in neither.
LEVEL_PATTERNS = {
    "county": r"^[0-9]{6}000000$",
    "township": r"^[0-9]{6}(?!000)[0-9]{3}000$",
    "village": r"^[0-9]{9}(?!000)[0-9]{3}$",
}
LEVEL_NAMES = {"county": "县级", "township": "乡镇级", "village": "村级"}


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks; every code has 12 digits; the code's shape matches its level."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    out = standard_expectations(ctx)
    if not ctx.has("code"):
        return out
    out.append(
        gxe.ExpectColumnValuesToMatchRegex(
            column="code",
            regex=r"^[0-9]{12}$",
            meta=finding_meta("code", "region_format", "error", "区划代码应为 12 位数字：{value}"),
        )
    )
    if ctx.has("level"):
        for level, pattern in LEVEL_PATTERNS.items():
            out.append(
                gxe.ExpectColumnValuesToMatchRegex(
                    column="code",
                    regex=pattern,
                    row_condition=Column("level") == level,
                    meta=finding_meta(
                        "code", "region_level", "warning", f"区划代码与级别（{LEVEL_NAMES[level]}）不符：{{value}}"
                    ),
                )
            )
    return out
