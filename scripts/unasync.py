"""Writes the blocking client (clients/alerting/client/_sync.py) from the asyncio one (_async.py).

The two clients are the same code but for async/await and grpc.aio's names: the asyncio one is
written by hand, the blocking one derived from it here (as httpx derives its sync code with
unasync), so that they cannot drift apart. `make gen` runs this; `make gen-check` fails when the
committed _sync.py is not what it writes.

    python scripts/unasync.py [OUT]     # OUT defaults to clients/alerting/client/_sync.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "clients/alerting/client/_async.py"
TARGET = ROOT / "clients/alerting/client/_sync.py"

_ASYNC_DOC = (
    '    """Asyncio client of the alerting service over one grpc.aio channel; '
    "same behaviour as AlertingClient.\n\n"
    "    Create it inside a running event loop (`await AsyncAlertingClient.connect(...)` or\n"
    "    `async with AsyncAlertingClient(...)`), since the aio channel binds to the loop.\n"
    '    """'
)
_SYNC_DOC = '''    """Blocking client of the alerting service over one gRPC channel.

    Every call carries the bearer token (when given) and a deadline of `timeout` seconds unless the
    call passes its own `timeout` (None: no deadline). Calls that fail with UNAVAILABLE are retried
    by the channel according to `retry`. Failures raise `alerting.client.errors.AlertingError`.
    """'''

# Literal replacements first (each must be found: a change to _async.py that breaks one fails here
# rather than writing a wrong client), then the general async-to-sync rewrites.
LITERAL: list[tuple[str, str]] = [
    (
        '"""AsyncAlertingClient: the asyncio client (grpc.aio), one typed method per RPC of alerting.v1."""',
        '"""AlertingClient: the blocking client, one typed method per RPC of alerting.v1.\n\n'
        'Written by scripts/unasync.py from _async.py: change that file, then run `make gen`.\n"""',
    ),
    (
        "# `timeout` is the gRPC deadline, which travels to the server with the call; asyncio.timeout would\n"
        "# only stop waiting locally. So these async methods take it as a parameter, like grpc.aio does.\n"
        "# ruff: noqa: ASYNC109\n\n",
        "",
    ),
    (
        "from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence",
        "from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence",
    ),
    ("import grpc.aio\n", ""),
    ("class AsyncAlertingClient:", "class AlertingClient:"),
    (_ASYNC_DOC, _SYNC_DOC),
    ("await self._channel.close(grace=None)", "self._channel.close()"),
    (
        "Closing the iterator (`aclose()`, or `contextlib.aclosing(...)`) cancels the stream.",
        "Closing the iterator (or leaving a `with contextlib.closing(...)` block) cancels the stream.",
    ),
    ("async for response in call:\n                yield response", "yield from call"),
    (
        "call.cancel()",
        "call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves RpcContext.cancel unannotated",
    ),
]
PATTERNS: list[tuple[str, str]] = [
    (r"\basync_pages\b", "pages"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\bgrpc\.aio\.AioRpcError\b", "grpc.RpcError"),
    (r"\bgrpc\.aio\.", "grpc."),
    (r"\bAsyncIterator\[", "Iterator["),
    (r"\bAsyncGenerator\[", "Generator["),
    (r"\basync def ", "def "),
    # `(await call()).field` becomes `call().field`.
    (r"\(\s*await (self\._unary\((?:[^()]|\([^()]*\))*\))\s*\)", r"\1"),
    (r"\bawait ", ""),
]


def unasync(source: str) -> str:
    text = source
    for old, new in LITERAL:
        if old not in text:
            raise SystemExit(f"unasync: {old.splitlines()[0]!r} is no longer in {SOURCE.name}")
        text = text.replace(old, new)
    for pattern, replacement in PATTERNS:
        text = re.sub(pattern, replacement, text)
    leftover = re.search(r"\b(async|await|aio|Async)\b", text)
    if leftover:
        line = text[: leftover.start()].count("\n") + 1
        raise SystemExit(f"unasync: {leftover.group()!r} left at line {line} of the blocking client")
    return _formatted(text)


def _formatted(text: str) -> str:
    ruff = Path(sys.executable).parent / "ruff"
    command = [str(ruff), "format", "--stdin-filename", str(TARGET), "-"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    out.write_text(unasync(SOURCE.read_text()))


if __name__ == "__main__":
    main()
