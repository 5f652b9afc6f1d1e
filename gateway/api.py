"""Request handling of the gateway: parse, authenticate, dispatch to the owning service, answer JSON.

Every answer is JSON, errors included: `{"error": CODE, "message": ..., "details": ...}`.
"""
import base64
import json
import logging
import re
import time
import uuid

from werkzeug.exceptions import MethodNotAllowed, NotFound as RouteNotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from gateway.open311 import handle_open311
from gateway.openapi import GATEWAY_PATHS, build_spec
from gateway.responses import error_response, json_response, raw_response
from gateway.routes import ROUTES, SERVICE_PREFIXES
from kit import auth, metrics
from kit.asyncapi import asyncapi_yaml
from kit.errors import (AppError, BadRequest, PayloadTooLarge, ServiceNotDeployed, TooManyRequests,
                        Unauthenticated, UnsupportedMediaType)
from kit.logs import correlation
from kit.rpc import CORRELATION_CONTEXT_KEY, IDEMPOTENCY_CONTEXT_KEY

log = logging.getLogger("redprop.gateway")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BODY_METHODS = ("POST", "PUT", "PATCH")


def _gateway_rules():
    rules = [Rule(route.path, methods=[route.method], endpoint=route) for route in ROUTES]
    rules += [Rule("/api/v1/auth/token", methods=["POST"], endpoint="token"),
              Rule("/api/v1/services", methods=["GET"], endpoint="services"),
              Rule("/api/openapi.json", methods=["GET"], endpoint="openapi"),
              Rule("/api/asyncapi.yaml", methods=["GET"], endpoint="asyncapi"),
              Rule("/health", methods=["GET"], endpoint="health"),
              Rule("/health/ready", methods=["GET"], endpoint="ready")]
    return Map(rules, strict_slashes=False, merge_slashes=False)


class Api:
    url_map = _gateway_rules()
    _spec_cache = None  # the OpenAPI document, built once per process

    def __init__(self, settings, rpc, deployment, login_limiter):
        self.settings = settings
        self.rpc = rpc
        self.deployment = deployment
        self.login_limiter = login_limiter

    # ----- the one entry -----
    def handle(self, request):
        started = time.perf_counter()
        request_id = request.headers.get("X-Request-ID", "")
        request_id = request_id if REQUEST_ID.match(request_id) else uuid.uuid4().hex
        correlation.set(request_id)
        route_label = "unmatched"
        try:
            if request.path.startswith("/open311/"):  # GeoReport v2 speaks its own dialect
                route_label = "/open311/v2"
                response = handle_open311(self, request, request_id)
            else:
                adapter = self.url_map.bind_to_environ(request.environ)
                rule, params = adapter.match(return_rule=True)
                route_label = rule.rule
                response = self.dispatch(request, rule.endpoint, params, request_id)
        except RouteNotFound:
            response = self._unmatched(request.path)
        except MethodNotAllowed as exc:
            response = self._not_deployed_response(request.path) or json_response({"error": "method_not_allowed",
                                      "message": f"{request.method} is not allowed here",
                                      "details": {"allowed": sorted(exc.valid_methods or [])}}, status=405,
                                     headers={"Allow": ", ".join(sorted(exc.valid_methods or []))})
        except AppError as exc:
            response = error_response(exc, headers=getattr(exc, "headers", None))
        except Exception:
            log.exception("unexpected gateway error")
            response = json_response({"error": "internal_error", "message": "an unexpected error occurred",
                                      "details": {"request_id": request_id}}, status=500)
        response.headers["X-Request-ID"] = request_id
        metrics.HTTP_REQUESTS.labels(request.method, route_label, str(response.status_code)).inc()
        metrics.HTTP_LATENCY.labels(request.method, route_label).observe(time.perf_counter() - started)
        return response

    def _not_deployed_response(self, path):
        """503 for any path of a service this county does not deploy, whatever the method."""
        for service, prefixes in SERVICE_PREFIXES.items():
            if path.startswith(prefixes) and service not in self.deployment.deployed:
                return error_response(self._not_deployed(service))
        return None

    def _unmatched(self, path):
        return self._not_deployed_response(path) or json_response(
            {"error": "not_found", "message": f"no such endpoint: {path}", "details": None}, status=404)

    @staticmethod
    def _not_deployed(service):
        return ServiceNotDeployed(f"the {service} service is not deployed in this county",
                                  details={"service": service})

    def dispatch(self, request, endpoint, params, request_id):
        if isinstance(endpoint, str):
            return getattr(self, f"_{endpoint}")(request)
        route = endpoint
        if route.service not in self.deployment.deployed:
            raise self._not_deployed(route.service)
        context = {CORRELATION_CONTEXT_KEY: request_id}
        if not route.public:
            context[auth.TOKEN_CONTEXT_KEY] = self._bearer(request)
        if request.method == "POST" and request.headers.get("Idempotency-Key"):
            key = request.headers["Idempotency-Key"]
            if not REQUEST_ID.match(key):
                raise BadRequest("Idempotency-Key must be 1-64 letters, digits, '.', '_' or '-'")
            context[IDEMPOTENCY_CONTEXT_KEY] = key
        kwargs = dict(params)
        if route.upload:
            kwargs.update(self._upload(request))
        elif route.form and request.mimetype == "multipart/form-data":
            kwargs.update(self._form(request, *route.form))
        elif request.method in BODY_METHODS:
            kwargs["data"] = self._json_body(request, optional=route.optional_body)
        if route.query is not None:
            kwargs["query"] = {k: request.args.get(k) for k in request.args}
        uploading = route.upload or (route.form and "files" in kwargs)
        timeout = self.settings["rpc"]["upload_timeout"] if uploading else None
        result = self.rpc.call(route.service, route.rpc, context=context, timeout=timeout, **kwargs)
        if route.raw:
            return raw_response(result)
        return json_response(result, status=route.status)

    # ----- request parts -----
    def _bearer(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send a bearer token: Authorization: Bearer <token>")
        auth.verify_token(self.settings, token.strip())  # fail fast with 401; services verify again
        return token.strip()

    def _read_body(self, request):
        limit = self.settings["gateway"]["max_body_bytes"]
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes", details={"limit": limit})
        body = request.stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes", details={"limit": limit})
        return body

    def _json_body(self, request, optional=False):
        body = self._read_body(request)
        if not body.strip():
            if optional:
                return {}
            raise BadRequest("this endpoint needs a JSON body")
        if request.mimetype != "application/json":
            raise UnsupportedMediaType("send the body as application/json",
                                       details={"content_type": request.mimetype or None})
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("the body is not valid JSON", details={"error": str(exc)[:200]},
                             code="malformed_json") from None

    def _multipart(self, request):
        """Check the declared size before anything is read, then let werkzeug parse within the same limit."""
        limit = self.settings["gateway"]["max_body_bytes"]
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(f"the upload is larger than {limit} bytes", details={"limit": limit})
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType("send the file as multipart/form-data")
        request.max_content_length = limit
        request.max_form_memory_size = limit
        return request

    @staticmethod
    def _file(upload):
        return {"filename": upload.filename or "upload",
                "content_base64": base64.b64encode(upload.read()).decode("ascii")}

    def _upload(self, request):
        upload = self._multipart(request).files.get("file")
        if upload is None:
            raise BadRequest("no file in the field `file`", details={"file": ["missing"]})
        return self._file(upload)

    def _form(self, request, json_field, files_field):
        form = self._multipart(request).form
        try:
            data = json.loads(form.get(json_field) or "{}")
        except ValueError as exc:
            raise BadRequest(f"the field `{json_field}` is not valid JSON", details={"error": str(exc)[:200]},
                             code="malformed_json") from None
        return {"data": data, "files": [self._file(f) for f in request.files.getlist(files_field)]}

    # ----- the gateway's own endpoints -----
    def _token(self, request):
        data = self._json_body(request)
        username = data.get("username") if isinstance(data, dict) else None
        wait = self.login_limiter.check(str(username), request.remote_addr or "unknown")
        if wait is not None:
            error = TooManyRequests("too many login attempts; try again later", details={"retry_after": wait})
            return error_response(error, headers={"Retry-After": str(wait)})
        try:
            identity = self.rpc.call("organizations", "authenticate", data=data)
        except Unauthenticated:
            self.login_limiter.failed(str(username))
            raise
        token, ttl = auth.issue_token(self.settings, identity["subject"], identity["username"],
                                      identity["memberships"])
        return json_response({"access_token": token, "token_type": "bearer", "expires_in": ttl})

    def _services(self, _request):
        return json_response({"services": self.deployment.status()})

    def _openapi(self, _request):
        if Api._spec_cache is None:
            Api._spec_cache = build_spec(GATEWAY_PATHS)
        return json_response(Api._spec_cache)

    def _asyncapi(self, _request):
        return Response(asyncapi_yaml(), mimetype="application/yaml")

    def _health(self, _request):
        return json_response({"status": "ok"})

    def _ready(self, _request):
        healthy = {s["name"]: s["healthy"] for s in self.deployment.status() if s["deployed"]}
        ready = healthy.get("organizations", False)
        return json_response({"ready": ready, "services": healthy}, status=200 if ready else 503)


