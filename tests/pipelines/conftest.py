"""Fixtures for the base-map tests, built on the hand-made night in basemap_sample.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SAMPLE_MODULE = "bidui_tests_basemap_sample"


def load_basemap_sample() -> ModuleType:
    """basemap_sample.py as one shared module (importlib mode puts no test folder on sys.path)."""
    if SAMPLE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, Path(__file__).with_name("basemap_sample.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return sys.modules[SAMPLE_MODULE]


@pytest.fixture
def night_sample() -> ModuleType:
    """The hand-made night's builders and constants."""
    return load_basemap_sample()


@pytest.fixture
def linked_night(settings, night_sample):
    """A store holding the hand-made night, linked into the base map."""
    night_sample.link_sample_night(settings)
    return settings
