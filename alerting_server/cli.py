"""The `alerting-server` command: serve, and the tools that share the server's engine."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from alerting_server import config as config_module
from alerting_server.query.features import KNOWN_FEATURES

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
            args.config, overrides={key: getattr(args, _dest(key)) for key in _FLAG_KEYS}
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
    from alerting_server.tools import promqltest

    known = promqltest.load_known_failures(args.known_failures) if args.known_failures else None
    try:
        return promqltest.run_files(args.files, sys.stdout, known, frozenset(args.enable_feature))
    except promqltest.UnusableTestFile as exc:
        raise _Unusable(str(exc)) from None


def _test_rules(args: argparse.Namespace) -> int:
    from alerting_server.tools.ruletest.runner import run_rule_tests

    return run_rule_tests(args.files, sys.stdout, sys.stderr)


# The settings that have a flag of `serve` too (every setting is in the file; see config-reference).
_FLAG_KEYS = (
    "grpc_listen",
    "http_listen",
    "http_idle_timeout",
    "database_url",
    "data_dir",
    "rules.evaluation_interval",
    "rules.min_interval",
    "fallback_receiver",
    "alertmanager_config",
    "cluster.replica_id",
    "cluster.advertise_address",
    "cluster.lease_ttl",
)


def _dest(key: str) -> str:
    return key.replace(".", "_")


def _flag(key: str) -> str:
    return "--" + _dest(key).replace("_", "-")


def _config_reference(args: argparse.Namespace) -> int:
    print(config_reference())
    return 0


def config_reference() -> str:
    """Every setting as a Markdown table: the serve command's flags, then the file's keys."""
    rows = ["| flag | environment | key in the file | default | meaning |", "|---|---|---|---|---|"]
    keyed = {_dest(key) for key in _FLAG_KEYS} | {"help"}
    serve = argparse.ArgumentParser(add_help=False)
    _serve_arguments(serve)
    for action in serve._actions:
        if action.option_strings and action.dest not in keyed:
            default = "" if action.default is None else f"`{action.default}`"
            rows.append(f"| `{action.option_strings[0]}` | | | {default} | {_cell(action.help or '')} |")
    for setting in config_module.settings():
        flag = f"`{_flag(setting.key)}`" if setting.key in _FLAG_KEYS else ""
        env = f"`{setting.env}`" if setting.env else ""
        default = f"`{setting.default}`" if setting.default else ""
        rows.append(f"| {flag} | {env} | `{setting.key}` | {default} | {_cell(setting.meaning)} |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--config", help="YAML configuration file")
    documented = {setting.key: setting for setting in config_module.settings()}
    for key in _FLAG_KEYS:
        setting = documented[key]
        env = f"env {setting.env}; " if setting.env else ""
        serve.add_argument(
            _flag(key), dest=_dest(key), help=f"{setting.meaning} ({env}default {setting.default or 'none'})"
        )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="least level of what the server logs, on stderr",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alerting-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the gRPC API and the REST gateway")
    _serve_arguments(serve)
    serve.set_defaults(func=_serve)
    reference = commands.add_parser(
        "config-reference", help="print every setting (flag, environment, file key, default) as Markdown"
    )
    reference.set_defaults(func=_config_reference)
    promql = commands.add_parser(
        "promql-test", help="run PromQL test files (Prometheus' promqltest format) against the engine"
    )
    promql.add_argument("files", nargs="+", metavar="FILE")
    promql.add_argument(
        "--known-failures", help="file of `file.test:line reason` lines not to count as failures"
    )
    promql.add_argument(
        "--enable-feature",
        action="append",
        default=[],
        choices=sorted(KNOWN_FEATURES),
        help="enable a PromQL feature Prometheus keeps behind --enable-feature (repeatable)",
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
