"""``/healthz``: whether this web process can serve, for `make up`, a proxy or a monitor.

It answers without a login and shows no secret (no database URL, no settings): only whether
the ledger answers and is at the schema this code expects, and whether the secret key is usable.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from houqin.errors import SetupError
from houqin.migrate import current_revision, head_revision
from houqin.secret_key import signing_key

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    expected = head_revision()
    try:
        schema = current_revision(request.app.state.engine)
    except SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    try:
        signing_key(request.app.state.settings)
    except SetupError:  # the key file went missing or open since the start: say so, not what
        return JSONResponse({"status": "error", "secret_key": "unusable"}, status_code=503)
    if schema != expected:
        state = "not set up (run houqin init)" if schema is None else "at another schema"
        body = {"status": "error", "database": state, "schema": schema, "expected": expected}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "schema": schema})
