"""The base map (底图): persons and households built from a night's links, with stable IDs; and what
reads it back — explain a row, the review queue, the links export."""

from pipelines.basemap.build import BaseMap, build_base_map
from pipelines.basemap.explain import explain_row, format_explanation
from pipelines.basemap.export import export_links
from pipelines.basemap.review import DECISIONS, REVIEW_ROLES, decide_pair, list_review
from pipelines.basemap.review_pairs import review_page

__all__ = [
    "DECISIONS",
    "REVIEW_ROLES",
    "BaseMap",
    "build_base_map",
    "decide_pair",
    "explain_row",
    "export_links",
    "format_explanation",
    "list_review",
    "review_page",
]
