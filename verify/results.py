"""JSON results: {"tasks": [...], "summary": {"passed", "failed", "seconds", ...}}."""

from __future__ import annotations


def summary_json(results, seconds: float, seed: int = 0) -> dict:
    tasks = [r.as_json() for r in results]
    passed = sum(t["status"] == "pass" for t in tasks)
    not_applicable = sum(t["status"] == "n/a" for t in tasks)
    stages = {}
    for t in tasks:
        for stage, value in t.get("timings", {}).items():
            stages[stage] = round(stages.get(stage, 0.0) + value, 3)
    return {"tasks": tasks,
            "summary": {"passed": passed, "failed": len(tasks) - passed - not_applicable,
                        "not_applicable": not_applicable, "seconds": round(seconds, 3),
                        "seed": seed, "stage_seconds": stages}}
