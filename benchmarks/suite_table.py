"""The README's suite table, from the JSON of a run: ``python -m verify.all --json run.json``.

    python -m verify.all --no-report --json /tmp/run.json
    python benchmarks/suite_table.py /tmp/run.json

Per task: the exact answer (eta* when Gamma* is eta I or eta Sigma^-1, else its first row), L*,
the strength label, the checks that passed out of those that apply, the largest |z| of the Monte
Carlo checks and the verdict -- the terminal table's columns, as Markdown.
"""

from __future__ import annotations

import json
import math
import sys

from verify.console import gamma_cell


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _code(text: str) -> str:
    return "-" if text in ("", "-", None) else f"`{text}`"


def row(task: dict) -> str:
    sym = task.get("symbolic") or {}
    applicable = [c for c in task["checks"] if c["status"] != "n/a"]
    passed = sum(c["status"] == "pass" for c in applicable)
    zs = [abs(c["z"]) for c in task["checks"]
          if c.get("z") is not None and c["status"] != "n/a" and math.isfinite(c["z"])]
    worst = f"{max(zs):.2f}" if zs else "-"
    control = task["spec"].get("role") == "control" if task.get("spec") else task["name"].startswith("control")
    status = task["status"] + (" (control: refuted)" if control and task["status"] == "pass" else "")
    return (f"| {task['name']} | {_code(gamma_cell(sym, 44))} | {_code(_cut(sym.get('loss') or '-', 36))} "
            f"| {sym.get('strength', '-')} | {passed}/{len(applicable)} | {worst} | {status} |")


def table(run: dict) -> str:
    lines = ["| task | Gamma* (exact) | L* (exact) | strength | checks | worst abs(z) | status |",
             "|---|---|---|---|---|---|---|"]
    lines += [row(t) for t in run["tasks"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python benchmarks/suite_table.py RUN.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        print(table(json.load(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
