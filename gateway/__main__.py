"""`python -m gateway`: serve the REST gateway in front of a running gRPC server."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.body import DEFAULT_MAX_BODY_BYTES
from gateway.guard import own_names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument("--grpc-target", default="127.0.0.1:50051", help="host:port of the gRPC server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline of unary calls, seconds")
    parser.add_argument(
        "--idle-timeout",
        type=int,
        default=600,
        help="seconds idle keep-alive connections stay open (longer than the clients' own: Prometheus 300)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        help="a further name the gateway answers to when it listens on loopback (repeatable)",
    )
    return parser.parse_args(argv)


def build_app(args: argparse.Namespace) -> Starlette:
    # The gRPC server checks tokens.
    allowed_hosts = own_names(args.host, args.allowed_host)
    return create_app(
        args.grpc_target,
        max_body_bytes=args.max_body_bytes,
        timeout=args.timeout,
        allowed_hosts=allowed_hosts,
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    app = build_app(args)
    # No access log: paths carry secrets (the tokens of /ack/{token} links).
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, timeout_keep_alive=args.idle_timeout)


if __name__ == "__main__":
    main()
