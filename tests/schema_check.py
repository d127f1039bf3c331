"""Check one answer of the test client against what /api/schema/ documents for it, as the fuzzing in
tests/test_api_schema_fuzz.py does for generated requests: for answers it may not reach (a running wave,
a refusal for a given role)."""

import functools

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from schemathesis.core.transport import Response


@functools.cache
def _schema():
    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


def assert_documented(response, method: str, path: str) -> dict:
    """`path` as the schema names it (`/api/waves/{id}/approve/`); raises with schemathesis' account of
    what differs. Returns the answer's JSON."""
    operation = _schema()[path][method.upper()]
    assert str(response.status_code) in operation.definition.raw["responses"], (
        f"{method} {path} answered {response.status_code}, which the schema does not document"
    )
    wrapped = Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=requests.Request(method.upper(), f"http://testserver{path}").prepare(),
        elapsed=0.0,
        verify=False,
    )
    operation.validate_response(wrapped)
    return response.json()
