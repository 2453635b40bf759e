"""Tests of the all-d proof engine (derivations.alld)."""
