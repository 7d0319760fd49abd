"""PostgREST's request transaction, run exactly as PostgREST (v12) runs it.

For every request: verify the JWT (HS256 secret, exp, aud) or answer 401 PGRST301 without
touching the database; in one transaction set search_path, role, request.jwt.claims,
request.method, request.path, request.headers (lower-cased JSON) and request.cookies with
set_config(..., true); run the pre-request function; make the call (RPC arguments are cast
through json_to_record with the function's own argument types, as PostgREST does); read
response.status and response.headers; commit. Errors map to HTTP as PostgREST documents:
a PGRST error carries its body as JSON in the message and status/headers in the detail.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from devstack import tokens

SEARCH_PATH = '"public", "extensions"'
PRE_REQUEST = "private.check_request"


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def details(self) -> dict[str, Any]:
        """The contract's `details`: a JSON object encoded as a string."""
        return json.loads(self.body["details"])

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def status_for(sqlstate: str, role: str) -> int:
    """PostgREST's documented SQLSTATE -> HTTP status table."""
    exact = {
        "23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404,
        "53400": 500,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    prefixes = {
        "08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500,
        "39": 500, "3B": 500, "40": 500, "53": 503, "54": 413, "55": 500, "57": 500, "58": 500,
        "F0": 500, "HV": 500, "P0": 500, "XX": 500,
    }
    return prefixes.get(sqlstate[:2], 400)


class PostgREST:
    """One emulated PostgREST instance over one connection (as the `authenticator` role)."""

    def __init__(self, dsn: str, *, jwt_secret: str = tokens.TEST_JWT_SECRET) -> None:
        self.conn = psycopg.connect(dsn, autocommit=False, row_factory=tuple_row)
        self.jwt_secret = jwt_secret
        self._signatures: dict[str, list[tuple[str, str, bool]]] = {}
        self._has_pre_request: bool | None = None
        self._jwt_cache: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ requests
    def rpc(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        args = args or {}
        found = self._signature(name)
        signature = found or []
        names = {n for n, _, _ in signature}
        required = {n for n, _, has_default in signature if not has_default}
        if found is None or not set(args) <= names or not required <= set(args):
            return Response(404, _error(
                "PGRST202",
                f"Could not find the function public.{name}({', '.join(sorted(args))}) "
                "in the schema cache",
            ))
        cols = [(n, t) for n, t, _ in signature if n in args]
        if cols:
            record = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in cols
            )
            call = sql.SQL(
                "with pgrst_args as (select * from json_to_record(%(args)s::json) as _({rec})) "
                "select {fn}({named}) as pgrst_scalar from pgrst_args as _"
            ).format(
                rec=record,
                fn=sql.Identifier("public", name),
                named=sql.SQL(", ").join(
                    sql.SQL("{} := _.{}").format(sql.Identifier(n), sql.Identifier(n))
                    for n, _ in cols
                ),
            )
        else:
            call = sql.SQL("select {fn}() as pgrst_scalar").format(
                fn=sql.Identifier("public", name))
        return self._request("POST", f"/rpc/{name}", call, {"args": json.dumps(args)}, token,
                             headers, scalar=True)

    def select(self, table: str, *, filters: dict[str, Any] | None = None,
               token: str | None = None, headers: dict[str, str] | None = None) -> Response:
        where, params = _where(filters, table)
        query = sql.SQL("select * from {tbl} {where}").format(
            tbl=sql.Identifier("public", table), where=where)
        return self._request("GET", f"/{table}", query, params, token, headers)

    def insert(self, table: str, row: dict[str, Any], *, token: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
        cols = list(row)
        query = sql.SQL(
            "insert into {tbl} ({cols}) select {vals} from "
            "json_populate_record(null::{tbl}, %(row)s::json) as r returning *"
        ).format(
            tbl=sql.Identifier("public", table),
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            vals=sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(c)) for c in cols),
        )
        response = self._request("POST", f"/{table}", query, {"row": json.dumps(row)}, token,
                                 headers)
        if response.status == 200:
            response.status = 201
        return response

    def update(self, table: str, values: dict[str, Any], *, filters: dict[str, Any],
               token: str | None = None, headers: dict[str, str] | None = None) -> Response:
        where, params = _where(filters, table)
        sets = sql.SQL(", ").join(
            sql.SQL("{c} = r.{c}").format(c=sql.Identifier(c)) for c in values
        )
        query = sql.SQL(
            "update {tbl} set {sets} from "
            "json_populate_record(null::{tbl}, %(values)s::json) as r {where} returning {tbl}.*"
        ).format(tbl=sql.Identifier("public", table), sets=sets, where=where)
        params["values"] = json.dumps(values)
        return self._request("PATCH", f"/{table}", query, params, token, headers)

    def delete(self, table: str, *, filters: dict[str, Any], token: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
        where, params = _where(filters, table)
        query = sql.SQL("delete from {tbl} {where} returning *").format(
            tbl=sql.Identifier("public", table), where=where)
        return self._request("DELETE", f"/{table}", query, params, token, headers)

    # ------------------------------------------------------------------ the transaction
    def _request(self, method: str, path: str, query: sql.Composable, params: dict[str, Any],
                 token: str | None, headers: dict[str, str] | None, *,
                 scalar: bool = False) -> Response:
        try:
            claims = self._claims(token)
        except jwt.ExpiredSignatureError:
            return Response(401, _error("PGRST303", "JWT expired"),
                            {"WWW-Authenticate": 'Bearer error="invalid_token", '
                             'error_description="JWT expired"'})
        except jwt.PyJWTError as exc:
            return Response(401, _error("PGRST301", f"JWT invalid: {type(exc).__name__}"),
                            {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        role = str(claims.get("role", "anon"))
        request_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if token:
            request_headers["authorization"] = f"Bearer {token}"
        request_headers.setdefault("content-type", "application/json")
        try:
            with self.conn.cursor() as cur:
                cur.execute(
                    "select set_config('search_path', %s, true), set_config('role', %s, true), "
                    "set_config('request.jwt.claims', %s, true), "
                    "set_config('request.method', %s, true), "
                    "set_config('request.path', %s, true), "
                    "set_config('request.headers', %s, true), "
                    "set_config('request.cookies', %s, true)",
                    (SEARCH_PATH, role, json.dumps(claims), method, path,
                     json.dumps(request_headers), "{}"),
                )
                if self._pre_request_exists(cur):
                    cur.execute(sql.SQL("select {}()").format(
                        sql.Identifier(*PRE_REQUEST.split("."))))
                # As PostgREST: the call in a CTE, the response GUCs read in the same statement.
                body_sql = (
                    "(select pgrst_scalar::text from pgrst_source)" if scalar
                    else "(select coalesce(json_agg(_t), '[]')::text from pgrst_source as _t)"
                )
                cur.execute(sql.SQL(
                    "with pgrst_source as ({}) select " + body_sql + ", "
                    "nullif(current_setting('response.status', true), ''), "
                    "nullif(current_setting('response.headers', true), '')"
                ).format(query), params)
                body_text, status_text, headers_text = cur.fetchone()
            self.conn.commit()
        except psycopg.Error as exc:
            self.conn.rollback()
            return _from_error(exc, role)
        body = json.loads(body_text) if body_text is not None else None
        status = int(status_text) if status_text else 200
        out_headers: dict[str, str] = {}
        for item in json.loads(headers_text) if headers_text else []:
            out_headers.update({k: str(v) for k, v in item.items()})
        return Response(status, body, out_headers)

    def _claims(self, token: str | None) -> dict[str, Any]:
        """Verified claims; like PostgREST's JWT cache, valid only until the token's exp."""
        if not token:
            return {"role": "anon"}
        cached = self._jwt_cache.get(token)
        if cached is None or cached["exp"] <= time.time():
            cached = tokens.verify(token, self.jwt_secret)
            self._jwt_cache[token] = cached
        return cached

    def _pre_request_exists(self, cur: psycopg.Cursor[Any]) -> bool:
        if self._has_pre_request is None:
            cur.execute("select to_regprocedure(%s) is not null", (f"{PRE_REQUEST}()",))
            self._has_pre_request = bool(cur.fetchone()[0])
        return self._has_pre_request

    def _signature(self, name: str) -> list[tuple[str, str, bool]] | None:
        """(argument name, type, has default) of public.<name>, as PostgREST's schema cache."""
        if name not in self._signatures:
            with self.conn.cursor() as cur:
                cur.execute(
                    "select p.pronargs, p.pronargdefaults, "
                    "  array(select unnest(p.proargnames)), "
                    "  array(select format_type(t, null) from unnest(p.proargtypes) as t) "
                    "from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace "
                    "where n.nspname = 'public' and p.proname = %s",
                    (name,),
                )
                found = cur.fetchone()
            self.conn.rollback()
            if found is None:
                return None
            nargs, ndefaults, argnames, argtypes = found
            self._signatures[name] = [
                (argnames[i], argtypes[i], i >= nargs - ndefaults) for i in range(nargs)
            ]
        return self._signatures[name]


def _where(filters: dict[str, Any] | None, table: str) -> tuple[sql.Composable, dict[str, Any]]:
    if not filters:
        return sql.SQL(""), {}
    params = {f"f{i}": str(v) for i, v in enumerate(filters.values())}
    conds = sql.SQL(" and ").join(
        sql.SQL("{}::text = %({})s").format(sql.Identifier("public", table, col),
                                            sql.SQL(f"f{i}"))
        for i, col in enumerate(filters)
    )
    return sql.SQL("where ") + conds, params


def _error(code: str, message: str, details: str | None = None, hint: str | None = None) -> dict:
    return {"code": code, "message": message, "details": details, "hint": hint}


def _from_error(exc: psycopg.Error, role: str) -> Response:
    diag = exc.diag
    sqlstate = diag.sqlstate or "XX000"
    if sqlstate == "PGRST":
        try:
            body = json.loads(diag.message_primary or "")
            detail = json.loads(diag.message_detail or "{}")
        except json.JSONDecodeError:
            return Response(500, _error("PGRST121", "Could not parse JSON in the RAISE "
                                        "SQLSTATE 'PGRST' error"))
        body = {k: body.get(k) for k in ("code", "message", "details", "hint")}
        headers = {k: str(v) for k, v in (detail.get("headers") or {}).items()}
        return Response(int(detail["status"]), body, headers)
    body = _error(sqlstate, diag.message_primary or str(exc), diag.message_detail,
                  diag.message_hint)
    return Response(status_for(sqlstate, role), body)
