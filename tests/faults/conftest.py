from tests.e2e.conftest import stack  # noqa: F401  (the whole stack, as in the e2e tests)
