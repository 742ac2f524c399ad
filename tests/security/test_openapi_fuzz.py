"""Every operation of the gateway's OpenAPI document, called with generated requests against a real server:
no answer is a server error, and every answer is what the document says it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from gateway import remote_write
from tests.integration.server import ServerProcess

# Enough to reach every operation's error paths a few times; the whole run stays within seconds.
EXAMPLES_PER_OPERATION = 20
# A stream that stays open, and a protobuf body the generator cannot write (test_remote_write.py has it).
NOT_FUZZED = {"/alerts/watch", remote_write.PATH}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    proc = ServerProcess(f"sqlite+aiosqlite:///{workdir / 'alerting.db'}", workdir)
    proc.start()
    yield proc
    proc.kill()


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(server: ServerProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        # An operation the document describes wrongly fails the run here, with the reason.
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue
        operations += 1
        found: list[str] = []

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        # Valid requests, and requests that break the document (which must be refused as it says).
        @given(
            case=st.one_of(
                operation.as_strategy(),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            )
        )
        def call(case: Case[Any]) -> None:
            try:
                case.call_and_validate(
                    base_url=server.base_url,
                    checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
                    timeout=10,
                )
            except (AssertionError, FailureGroup) as exc:
                # Collected rather than raised: one run reports every operation that fails, not the first.
                found.append(f"{operation.method.upper()} {operation.path}: {exc}")  # noqa: B023

        call()
        failures.extend(found[:1])
    assert operations > 40
    assert failures == []
