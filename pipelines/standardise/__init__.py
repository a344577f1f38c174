"""Pure standardisation functions: ID numbers, names, dates.

Import from the submodules (`pipelines.standardise.ids`, `.dates`, `.names`); the names module
loads OpenCC and pypinyin only when first used.
"""

__all__ = ["dates", "ids", "names"]
