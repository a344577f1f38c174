"""The link stage: a night's person rows linked into persons (the algorithm in `linker`,
`deterministic` and `probabilistic`; `matchers/` holds the generic engine) and stored as the base map.

Only the stage is imported here: the linker itself pulls in the whole matcher and is loaded when a
night is linked.
"""

from pipelines.link.stage import STAGE_TEXT, Linked, Linker, default_linker, link_night

__all__ = ["STAGE_TEXT", "Linked", "Linker", "default_linker", "link_night"]
