"""Fixtures for the site: a hand-made store (site_sample.py) and a TestClient per user."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

SAMPLE_MODULE = "bidui_tests_site_sample"


def load_site_sample() -> ModuleType:
    if SAMPLE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, Path(__file__).with_name("site_sample.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[SAMPLE_MODULE]


@pytest.fixture
def site_sample() -> ModuleType:
    return load_site_sample()


@pytest.fixture
def site_settings(sqlite_settings, cheap_passwords, site_sample):
    """A SQLite store holding the site sample (see site_sample.py)."""
    site_sample.build_site_store(sqlite_settings)
    return sqlite_settings


@pytest.fixture
def site_settings_any(settings, cheap_passwords, site_sample):
    """The site sample on SQLite and on PostgreSQL."""
    site_sample.build_site_store(settings)
    return settings


@pytest.fixture
def client_for(site_settings, site_sample):
    """client_for('wengan') → a TestClient signed in as that user (a fresh one each call)."""
    from pipelines.web import create_app

    app = create_app(site_settings)
    made: list[TestClient] = []

    def make(user_name: str | None) -> TestClient:
        client = TestClient(app, base_url="http://bidui.test")
        made.append(client)
        if user_name:
            response = site_sample.sign_in(client, user_name)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in made:
        client.close()
