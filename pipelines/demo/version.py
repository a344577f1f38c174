"""The demo generator's version, written into every delivery's truth: a delivery is rebuilt for
`--after` only by the version that made it."""

__all__ = ["GENERATOR_VERSION"]

GENERATOR_VERSION = "1.0"
