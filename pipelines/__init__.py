"""bidui: the nightly cross-department comparison for rural-population monitoring."""

__all__: list[str] = []
