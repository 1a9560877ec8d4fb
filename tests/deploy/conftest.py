"""Fixtures for the offline checks of deploy/: the validators' binaries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stacktools import manifests
from stacktools.stack import Stack


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    binary = manifests.compose_binary()
    assert os.access(binary, os.X_OK), f"{binary} is not executable"
    return binary


@pytest.fixture(scope="session")
def jaeger_binary(stack: Stack) -> Path:
    """The Jaeger v2 binary deploy/local/up builds (the `stack` fixture builds it if needed)."""
    binary = manifests.jaeger_binary()
    assert os.access(binary, os.X_OK), f"{binary} is missing: run deploy/local/up"
    return binary
