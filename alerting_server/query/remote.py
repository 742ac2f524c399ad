"""A Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics) as a query source."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, NoReturn

import httpx
import numpy as np

from alerting_server.errors import FailedPrecondition, InvalidArgument, ResourceExhausted, Unavailable
from alerting_server.outbound import DestinationDenied
from alerting_server.query.errors import NativeHistogramsUnsupported, QueryError
from alerting_server.query.histogram import FloatHistogram, HistogramError, histogram_from_api
from alerting_server.query.labels import from_mapping
from alerting_server.query.result import Result, ResultSeries, ValueKind

log = logging.getLogger(__name__)

# Pauses before the second and third attempts: long enough for a restarting peer, short enough for a rule.
DEFAULT_BACKOFF_S = (0.1, 0.4)
# A large range query's answer stays well under this; a source that sends more is misbehaving.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def _seconds(ms: int) -> str:
    """Milliseconds as the decimal seconds Prometheus' API takes, exactly (no float rounding)."""
    return str(Decimal(ms).scaleb(-3))


def _ms(seconds: Any) -> int:
    return round(float(seconds) * 1000)


class _Retryable(Exception):
    """A failure worth another attempt; `reason` is safe to show (never the URL or credentials)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PrometheusSource:
    """Runs PromQL on a remote Prometheus HTTP API and returns the same Result the embedded engine does.

    The AsyncClient is shared by every source (one connection pool); this class only adds the base
    URL, the auth headers and the timeout to each request.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        client: httpx.AsyncClient,
        bearer_token: str = "",
        basic_auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_ms: int = 30_000,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
    ) -> None:
        self.name = name
        self._base = url.rstrip("/")
        self._client = client
        self._headers = dict(headers or {})
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        self._auth = httpx.BasicAuth(*basic_auth) if basic_auth else None
        self._timeout_ms = timeout_ms
        self._timeout = httpx.Timeout(timeout_ms / 1000)
        self._max_response_bytes = max_response_bytes
        self._backoff_s = tuple(backoff_s)

    def __repr__(self) -> str:
        return f"PrometheusSource({self.name!r})"

    async def instant(self, query: str, t_ms: int) -> Result:
        data = await self._call("/api/v1/query", {"query": query, "time": _seconds(t_ms)})
        return self._result(data, t_ms)

    async def range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        form = {
            "query": query,
            "start": _seconds(start_ms),
            "end": _seconds(end_ms),
            "step": _seconds(step_ms),
        }
        return self._result(await self._call("/api/v1/query_range", form), end_ms)

    async def _call(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        # Prometheus stops evaluating at its own deadline too, instead of working for a caller who left.
        form = {**form, "timeout": _seconds(self._timeout_ms)}
        for delay in self._backoff_s:
            try:
                return await self._attempt(path, form)
            except _Retryable as exc:
                log.info("datasource %r: %s; retrying in %gs", self.name, exc.reason, delay)
                await asyncio.sleep(delay)
        try:
            return await self._attempt(path, form)
        except _Retryable as exc:
            raise Unavailable(
                f"datasource {self.name!r} is unavailable after {len(self._backoff_s) + 1} attempts: "
                f"{exc.reason}"
            ) from None

    async def _attempt(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            response, content = await self._post(path, form)
        except httpx.TimeoutException:
            raise _Retryable(f"no answer within {self._timeout_ms / 1000:g}s") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        except DestinationDenied as exc:
            raise FailedPrecondition(f"datasource {self.name!r}: {exc}") from None
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}{self._error_suffix(content)}")
        if response.status_code == 429:
            raise ResourceExhausted(
                f"datasource {self.name!r} is rate limiting queries (HTTP 429){self._error_suffix(content)}"
            )
        if response.status_code >= 400 and response.status_code not in (400, 422):
            raise FailedPrecondition(
                f"datasource {self.name!r} refused the query: HTTP {response.status_code} "
                f"{response.reason_phrase}"
            )
        body = self._json(response.status_code, content)
        if body.get("status") == "success" and response.status_code < 300:
            data = body.get("data")
            if not isinstance(data, dict):
                self._malformed("no data")
            data["warnings"] = body.get("warnings") or []
            data["infos"] = body.get("infos") or []
            return data
        self._raise_api_error(response.status_code, body)

    async def _post(self, path: str, form: dict[str, str]) -> tuple[httpx.Response, bytes]:
        """The response and its body, read up to the size limit: past it the source is refused
        rather than held in memory whole."""
        request = self._client.build_request(
            "POST", self._base + path, data=form, headers=self._headers, timeout=self._timeout
        )
        response = await self._client.send(request, auth=self._auth or httpx.USE_CLIENT_DEFAULT, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_response_bytes:
                    raise FailedPrecondition(
                        f"datasource {self.name!r} answered with more than "
                        f"{self._max_response_bytes} bytes (its max_response_bytes)"
                    )
        finally:
            await response.aclose()
        return response, bytes(body)

    def _raise_api_error(self, status: int, body: dict[str, Any]) -> NoReturn:
        kind, message = str(body.get("errorType") or ""), str(body.get("error") or "")
        if kind == "bad_data" or status == 400:
            raise InvalidArgument.field("query", message or f"rejected by datasource {self.name!r}")
        if kind == "execution" or status == 422:
            raise QueryError(message or f"evaluation failed on datasource {self.name!r}")
        self._malformed(f"status {body.get('status')!r}, HTTP {status}")

    def _error_suffix(self, content: bytes) -> str:
        try:
            message = json.loads(content).get("error")
        except (ValueError, AttributeError):
            return ""
        return f": {message}" if isinstance(message, str) and message else ""

    def _json(self, status: int, content: bytes) -> dict[str, Any]:
        try:
            body = json.loads(content)
        except ValueError:
            self._malformed(f"HTTP {status} with a body that is not JSON")
        if not isinstance(body, dict):
            self._malformed("a JSON document that is not an object")
        return body

    def _malformed(self, what: str) -> NoReturn:
        raise FailedPrecondition(
            f"datasource {self.name!r} does not answer like Prometheus' HTTP API: {what}"
        )

    def _result(self, data: dict[str, Any], t_ms: int) -> Result:
        kind_name = data.get("resultType")
        try:
            raw = data["result"]
            kind = ValueKind(kind_name)
            warnings = [str(w) for w in data["warnings"]]
            infos = [str(i) for i in data["infos"]]
            if kind is ValueKind.SCALAR:
                return Result(kind, scalar=float(raw[1]), t_ms=_ms(raw[0]), warnings=warnings, infos=infos)
            if kind is ValueKind.STRING:
                return Result(kind, string=str(raw[1]), t_ms=_ms(raw[0]), warnings=warnings, infos=infos)
            series = [self._series(item) for item in raw]
            return Result(kind, series, t_ms=t_ms, warnings=warnings, infos=infos)
        except NativeHistogramsUnsupported:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            self._malformed(f"unreadable {kind_name!r} result")

    def _series(self, item: dict[str, Any]) -> ResultSeries:
        labels = from_mapping({str(k): str(v) for k, v in item["metric"].items()})
        if "histogram" not in item and "histograms" not in item:
            points = [item["value"]] if "value" in item else item["values"]
            return ResultSeries(
                labels,
                np.array([_ms(t) for t, _ in points], dtype=np.int64),
                np.array([float(v) for _, v in points], dtype=np.float64),
            )
        # Native histograms: a vector sample's `histogram`, or a matrix series' `histograms` beside
        # its `values`, merged in time order.
        found: list[tuple[int, float, FloatHistogram | None]] = []
        floats = [item["value"]] if "value" in item else item.get("values", [])
        found.extend((_ms(t), float(v), None) for t, v in floats)
        hists = [item["histogram"]] if "histogram" in item else item["histograms"]
        for t, h in hists:
            try:
                found.append((_ms(t), math.nan, histogram_from_api(h)))
            except HistogramError as exc:
                raise NativeHistogramsUnsupported(
                    f"datasource {self.name!r} returned a native histogram that cannot be read back: {exc}"
                ) from None
        found.sort(key=lambda p: p[0])
        return ResultSeries(
            labels,
            np.array([t for t, _, _ in found], dtype=np.int64),
            np.array([v for _, v, _ in found], dtype=np.float64),
            [h for _, _, h in found],
        )
