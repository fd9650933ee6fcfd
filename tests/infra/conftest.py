"""One render of the whole dev stack, shared by the platform tests that look at the stack as a whole."""

import pytest

from offline.engine import run_stack


@pytest.fixture(scope="session")
def dev_stack():
    return run_stack("dev")
