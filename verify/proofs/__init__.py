"""Derivation files shipped with onestep (TOML), checked by ``python -m verify.steps``."""
