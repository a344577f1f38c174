"""Suite enterprise_registry (市场监管·企业, optional): shared checks plus the credit code's shape."""

from __future__ import annotations

from .common import SuiteContext, finding_meta, standard_expectations

__all__ = ["CREDIT_CODE", "SUITE_NAME", "build_expectations"]

SUITE_NAME = "enterprise_registry"

# GB 32100-2015: 18 characters from digits and upper-case letters without I, O, S, V, Z.
CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


def build_expectations(ctx: SuiteContext) -> list:
    """Shared checks; the unified social credit code looks like one (a warning: it is still a key)."""
    import great_expectations.expectations as gxe

    out = standard_expectations(ctx)
    if ctx.has("credit_code"):
        out.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column="credit_code",
                regex=CREDIT_CODE,
                meta=finding_meta(
                    "credit_code", "credit_code_format", "warning", "统一社会信用代码格式不符（应为 18 位）：{value}"
                ),
            )
        )
    return out
