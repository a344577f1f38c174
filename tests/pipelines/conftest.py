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


OFFICER_PASSWORD = "officer-secret-2026"


@pytest.fixture
def cheap_passwords(monkeypatch) -> None:
    """argon2 with the cheapest parameters, so a test signs in within milliseconds."""
    from argon2 import PasswordHasher

    from pipelines.access import users

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def make_officer(tmp_path, cheap_passwords):
    """A function making the prefecture's data officer 'officer' (region 5227) in a store, with a
    password file; it returns `--user officer --password-file F`, to append to a command line."""
    from pipelines import store
    from pipelines.access import add_user

    def make(settings) -> list[str]:
        add_user(store.connect(settings), "officer", OFFICER_PASSWORD, "prefecture", "5227", display_name="数据管理员")
        password_file = tmp_path / "officer.password"
        password_file.write_text(OFFICER_PASSWORD + "\n", encoding="utf-8")
        return ["--user", "officer", "--password-file", str(password_file)]

    return make


@pytest.fixture
def officer(settings, make_officer) -> list[str]:
    """The data officer in the test store: the arguments admin commands need to sign in."""
    return make_officer(settings)


@pytest.fixture
def race(monkeypatch):
    """race(module, name, calls): run `calls` in threads that all pass `module.name` (the read of
    what they will change) before any of them writes — when the store lets them: a locked read makes
    the others wait, and the meeting point gives up after 3 seconds. Returns each call's result, or
    the BiduiError it raised."""
    import contextlib
    import threading

    from pipelines.errors import BiduiError

    def run_together(module, name: str, calls) -> list[object]:
        meet = threading.Barrier(len(calls))
        real = getattr(module, name)

        def read_then_meet(*args, **kwargs):
            found = real(*args, **kwargs)
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait(timeout=3)
            return found

        monkeypatch.setattr(module, name, read_then_meet)
        outcomes: list[object] = [None] * len(calls)

        def run(i, call):
            try:
                outcomes[i] = call()
            except BiduiError as exc:
                outcomes[i] = exc

        threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    return run_together
