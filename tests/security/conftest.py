"""The statements API client fixtures, for the upload tests here."""

from tests.statements.conftest import api, flow  # noqa: F401 (fixtures re-exported)
