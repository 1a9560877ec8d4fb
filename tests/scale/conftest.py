"""The scale test's fixture: the local scale stack, started when it is not up."""

from __future__ import annotations

import pytest

from tests.scale.scale_stack import ScaleStack, scale_settings, up


@pytest.fixture(scope="session")
def scale_stack() -> ScaleStack:
    up()
    return ScaleStack(scale_settings())


def pytest_ignore_collect(collection_path, config):
    """test_scale.py runs only when tests/scale is named (`make test-scale`): it starts its
    own stack of seven processes, so the default run (`make test`) leaves it out."""
    if collection_path.name == "test_scale.py":
        named = [str((config.invocation_params.dir / arg).resolve()) for arg in config.args]
        if not any(arg.startswith(str(collection_path.parent)) for arg in named):
            return True
    return None
