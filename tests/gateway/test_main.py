from __future__ import annotations

import httpx

from gateway.__main__ import build_app, parse_args


def test_defaults() -> None:
    args = parse_args([])

    assert (args.grpc_target, args.host, args.port) == ("127.0.0.1:50051", "127.0.0.1", 8080)
    assert args.max_body_bytes == 4 * 1024 * 1024
    # Longer than Prometheus' remote-write client keeps idle connections (5m): the client closes them.
    assert args.idle_timeout == 600


def test_options() -> None:
    args = parse_args(
        [
            *("--grpc-target", "server:9090", "--port", "0", "--max-body-bytes", "100"),
            *("--timeout", "2.5", "--idle-timeout", "120"),
        ]
    )

    assert (args.grpc_target, args.port, args.max_body_bytes, args.timeout) == ("server:9090", 0, 100, 2.5)
    assert args.idle_timeout == 120


async def test_on_loopback_only_the_gateways_own_names_pass() -> None:
    app = build_app(parse_args(["--grpc-target", "127.0.0.1:9", "--allowed-host", "alerts.internal"]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        for host in ("127.0.0.1:8080", "localhost:8080", "alerts.internal:8080"):
            assert (await client.get("/openapi.json", headers={"Host": host})).status_code == 200
        rebound = await client.get("/openapi.json", headers={"Host": "evil.example:8080"})
        assert rebound.status_code == 403
        assert "is not a name of this server" in rebound.json()["error"]["message"]


async def test_beyond_loopback_any_name_passes() -> None:
    app = build_app(parse_args(["--grpc-target", "127.0.0.1:9", "--host", "0.0.0.0"]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://alerts.example.org") as client:
        assert (await client.get("/openapi.json")).status_code == 200
