"""One landscape per task for the whole test session (each costs seconds: a Groebner basis or a search)."""

import pytest

from derivations.landscape import landscape

_CACHE: dict = {}


def _cached(task, starts=8):
    key = (task.describe(), starts)          # Task compares by identity; its description is canonical
    if key not in _CACHE:
        _CACHE[key] = landscape(task, starts=starts, seed=0)
    return _CACHE[key]


@pytest.fixture(scope="session")
def landscape_of():
    return _cached
