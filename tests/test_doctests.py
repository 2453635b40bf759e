"""Every docstring example in the three packages runs and shows what it claims."""

import doctest
import importlib
import pkgutil

import pytest

import derivations
import numerics
import verify

MODULES = sorted(m.name for pkg in (derivations, numerics, verify)
                 for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."))
SKIP = {"verify.all", "verify.steps"}          # CLI entry points (run as subprocesses in tests/verify)


@pytest.mark.parametrize("name", [m for m in MODULES if m not in SKIP])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=False, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
