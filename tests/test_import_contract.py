"""The independence of the two halves is enforced, not assumed (import-linter).

numerics must never import derivations (it is the independent check); derivations must
never import torch or numerics. The negative control shows the checker can fail: a
contract the code base violates on purpose (verify imports derivations) is reported.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(*args, cwd=ROOT):
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_project_contracts_hold():
    proc = lint_imports()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "numerics never imports derivations KEPT" in proc.stdout
    assert "derivations never imports torch or numerics KEPT" in proc.stdout


def test_a_violated_contract_is_reported(tmp_path):
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    derivations\n    verify\n\n"
        "[importlinter:contract:1]\nname = verify never imports derivations (false on purpose)\n"
        "type = forbidden\nsource_modules =\n    verify\nforbidden_modules =\n    derivations\n")
    proc = lint_imports("--config", str(config))
    assert proc.returncode != 0
    assert "BROKEN" in proc.stdout


#: import cycles untangled on purpose: (a, b) means a must not reach b by any chain of imports
#: (function-level imports count), because b already imports a
NO_CHAIN = [("verify.numeric", "verify.nonlinear_bridge"),
            ("verify.nonlinear_bridge", "verify.runner"),
            ("verify.numeric", "verify.runner"),
            ("derivations.nonlinear.parse", "derivations.task")]


def _graph():
    grimp = pytest.importorskip("grimp")
    return grimp.build_graph("verify", "derivations", "numerics")


@pytest.mark.parametrize(("importer", "imported"), NO_CHAIN)
def test_no_import_cycle(importer, imported):
    graph = _graph()
    # the reverse direction exists, so a chain this way would close a cycle
    assert graph.find_shortest_chain(importer=imported, imported=importer) is not None
    assert graph.find_shortest_chain(importer=importer, imported=imported) is None


def test_the_cycle_check_can_fail():
    graph = _graph()
    # verify.runner imports verify.numeric, which the check above would report as a chain
    assert graph.find_shortest_chain(importer="verify.runner", imported="verify.numeric") is not None
