"""The `alerting-server` command: serve, and the tools that share the server's engine."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from alerting_server import config as config_module

# Libraries that log what they send or store at INFO or DEBUG: URLs of webhooks with their tokens
# and passwords, SQL parameters with channel configs. Their warnings still show.
_TOO_TALKATIVE = ("httpx", "httpcore", "aiosqlite", "hpack", "sqlalchemy.engine")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _TOO_TALKATIVE:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


class _Unusable(Exception):
    """Input a tool cannot use; the message names it and says why, in one line."""


def _serve(args: argparse.Namespace) -> int:
    from alerting_server.app import StartError, serve

    try:
        config = config_module.load(
            args.config,
            overrides={
                "grpc_listen": args.grpc_listen,
                "http_listen": args.http_listen,
                "database_url": args.database_url,
                "data_dir": args.data_dir,
                "rules.evaluation_interval": args.rules_evaluation_interval,
                "rules.min_interval": args.rules_min_interval,
            },
        )
    except config_module.ConfigError as exc:
        print(f"alerting-server: {exc}", file=sys.stderr)
        return 2
    _configure_logging(args.log_level)
    try:
        return asyncio.run(serve(config))
    except StartError as exc:
        print(f"alerting-server: {exc}", file=sys.stderr)
        return 1


def _promql_test(args: argparse.Namespace) -> int:
    from alerting_server.query import promqltest

    known = promqltest.load_known_failures(args.known_failures) if args.known_failures else None
    try:
        return promqltest.run_files(args.files, sys.stdout, known)
    except promqltest.UnusableTestFile as exc:
        raise _Unusable(str(exc)) from None


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
    try:
        code: int = args.func(args)
    except _Unusable as exc:
        print(f"alerting-server {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A file named on the command line that cannot be read, a port that cannot be bound.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"alerting-server {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
