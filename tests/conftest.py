"""Shared fixtures; hypothesis profiles chosen by HYPOTHESIS_PROFILE (ci: fewer examples)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
VALIDATION = SHARED / "validation"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def validation_dir() -> Path:
    """The published indices in ../shared/validation. In CI their absence is a failure, never a
    skip; elsewhere (a checkout without shared/) the tests that need them are skipped."""
    if not VALIDATION.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATION} is missing: CI must provide ../shared/validation")
        pytest.skip("../shared/validation is not present in this checkout")
    return VALIDATION
