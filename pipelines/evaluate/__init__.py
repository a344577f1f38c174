"""Score a demo delivery against its truth: linkage (`bidui evaluate`) and clue rules (`bidui evaluate clues`)."""

from pipelines.evaluate.clues import evaluate_rules
from pipelines.evaluate.links import evaluate_delivery

__all__ = ["evaluate_delivery", "evaluate_rules"]
