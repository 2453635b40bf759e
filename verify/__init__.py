"""onestep.verify: where the exact derivations and the Monte Carlo numerics meet.

``python -m verify.all`` runs the default suite (or a user's task file) and reports, per
task, the exact optimum, the Monte Carlo optimum and the statistical checks between them.
"""
