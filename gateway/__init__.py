"""The REST gateway: the contract of API.md served by translating onto the gRPC API.

`create_app(grpc_target)` builds the ASGI app; it talks to the server over gRPC only.
"""

from gateway.app import create_app

__all__ = ["create_app"]
