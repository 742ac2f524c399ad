"""The `alerting-server` command: serve, and the tools that share the server's engine."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from alerting_server import config as config_module


def _serve(args: argparse.Namespace) -> int:
    from alerting_server.app import serve

    try:
        config = config_module.load(
            args.config,
            overrides={
                "grpc_listen": args.grpc_listen,
                "http_listen": args.http_listen,
                "http_idle_timeout": args.http_idle_timeout,
                "database_url": args.database_url,
                "data_dir": args.data_dir,
                "rules.evaluation_interval": args.rules_evaluation_interval,
                "rules.min_interval": args.rules_min_interval,
            },
        )
    except config_module.ConfigError as exc:
        print(f"alerting-server: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return asyncio.run(serve(config))
    except OSError as exc:
        print(f"alerting-server: {exc}", file=sys.stderr)
        return 1


def _promql_test(args: argparse.Namespace) -> int:
    from alerting_server.query import promqltest

    known = promqltest.load_known_failures(args.known_failures) if args.known_failures else None
    return promqltest.run_files(args.files, sys.stdout, known)


def _test_rules(args: argparse.Namespace) -> int:
    from alerting_server.rules.unittest import run_rule_tests

    return run_rule_tests(args.files, sys.stdout, sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alerting-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the gRPC API and the REST gateway")
    serve.add_argument("--config", help="YAML configuration file")
    serve.add_argument(
        "--grpc-listen", help="gRPC host:port (env ALERTING_GRPC_LISTEN; default 127.0.0.1:50051)"
    )
    serve.add_argument(
        "--http-listen", help="REST host:port (env ALERTING_HTTP_LISTEN; default 127.0.0.1:8080)"
    )
    serve.add_argument(
        "--http-idle-timeout",
        help="how long idle REST keep-alive connections stay open "
        "(env ALERTING_HTTP_IDLE_TIMEOUT; default 10m)",
    )
    serve.add_argument(
        "--database-url", help="SQLAlchemy URL (env ALERTING_DATABASE_URL; default sqlite:///./alerting.db)"
    )
    serve.add_argument(
        "--data-dir",
        help="directory of the embedded time-series store (env ALERTING_DATA_DIR; default ./data)",
    )
    serve.add_argument(
        "--rules-evaluation-interval",
        help="interval of rule groups that set none (env ALERTING_RULES_EVALUATION_INTERVAL; default 15s)",
    )
    serve.add_argument(
        "--rules-min-interval",
        help="least time between evaluations caused by writes (env ALERTING_RULES_MIN_INTERVAL; default 1s)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)
    promql = commands.add_parser(
        "promql-test", help="run PromQL test files (Prometheus' promqltest format) against the engine"
    )
    promql.add_argument("files", nargs="+", metavar="FILE")
    promql.add_argument(
        "--known-failures", help="file of `file.test:line reason` lines not to count as failures"
    )
    promql.set_defaults(func=_promql_test)
    rules = commands.add_parser(
        "test-rules", help="run rule unit tests (the format of `promtool test rules`)"
    )
    rules.add_argument("files", nargs="+", metavar="FILE")
    rules.set_defaults(func=_test_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
