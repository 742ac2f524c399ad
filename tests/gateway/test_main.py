from __future__ import annotations

from gateway.__main__ import parse_args


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
