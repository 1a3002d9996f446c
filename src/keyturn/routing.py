"""`SignedInRead`: the route class of the hottest reads (`GET /cart`, `GET /profile`).

Their endpoint takes one parameter, `SignedIn`, and returns its response model. FastAPI's
generic request handling (solving the dependency graph, re-validating the returned model) cost
about a sixth of such a request (bench/README.md), so this class resolves `SignedIn` with the
same function the dependency uses and writes the model's JSON itself. The endpoint's signature
still documents the route in OpenAPI, and the response bytes are the ones FastAPI writes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from keyturn.deps import get_bearer, signed_in


class SignedInRead(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        calls = [dependency.call for dependency in self.dependant.dependencies]
        plain = (
            self.dependant.path_params,
            self.dependant.query_params,
            self.dependant.header_params,
            self.dependant.cookie_params,
            self.dependant.body_params,
        )
        if calls != [get_bearer] or any(plain) or self.response_model is None:
            raise TypeError(f"{path}: a SignedInRead endpoint takes only `SignedIn`")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        dump_json = TypeAdapter(self.response_model).dump_json

        async def handle(request: Request) -> Response:
            result = await endpoint(await signed_in(request))
            return Response(dump_json(result, by_alias=True), media_type="application/json")

        return handle
