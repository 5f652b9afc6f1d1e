"""Open311 GeoReport v2 at /open311/v2/: five endpoints with their own routes and GeoReport's error format.

GeoReport answers errors as a list, `[{"code": <http status>, "description": "..."}]`, and takes its POST as a
form (urlencoded or multipart) with the `api_key` in it, so it does not fit the route table of gateway.routes.
`Api.handle` hands every /open311/ path here. JSON only: `.json` is the one format served.
"""
import base64
import logging

from werkzeug.exceptions import MethodNotAllowed, NotFound as RouteNotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule

from gateway.responses import json_response
from kit import auth
from kit.errors import AppError, ServiceNotDeployed, Unauthenticated
from kit.rpc import CORRELATION_CONTEXT_KEY

log = logging.getLogger("redprop.gateway.open311")

SERVICE = "tickets"
FORMAT = "json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# GeoReport reports bad input as 400; our 422 (the input does not fit the rules) becomes that, and a missing or
# bad api_key is 403, never 401.
STATUS_MAP = {422: 400, 401: 403}

URL_MAP = Map([
    Rule("/open311/discovery.<fmt>", methods=["GET"], endpoint="discovery"),
    Rule("/open311/v2/discovery.<fmt>", methods=["GET"], endpoint="discovery"),
    Rule("/open311/v2/services.<fmt>", methods=["GET"], endpoint="services"),
    Rule("/open311/v2/services/<name>", methods=["GET"], endpoint="service"),
    Rule("/open311/v2/requests.<fmt>", methods=["GET", "POST"], endpoint="requests"),
    Rule("/open311/v2/requests/<name>", methods=["GET"], endpoint="request"),
], strict_slashes=False, merge_slashes=False)


class GeoReportError(Exception):
    def __init__(self, status, description, headers=None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers


def geo_error(status, description, headers=None):
    """An error in GeoReport's format, with the same HTTP status."""
    return json_response([{"code": status, "description": description}], status=status, headers=headers)


def describe(error):
    """An AppError's message and field details on one line."""
    text = error.message
    if isinstance(error.details, dict):
        parts = []
        for field, value in error.details.items():
            if isinstance(value, (list, tuple)):
                value = "; ".join(str(v) for v in value)
            parts.append(f"{field}: {value}")
        if parts:
            text = f"{text} ({', '.join(parts)})"
    return text


def from_app_error(error):
    status = STATUS_MAP.get(error.status, error.status)
    if error.status == 401:
        return geo_error(status, f"api_key is not valid: {error.message}")
    return geo_error(status, describe(error), headers=getattr(error, "headers", None))


def handle_open311(api, request, request_id):
    """Answer one /open311/ request; every answer is JSON, errors in GeoReport's format."""
    try:
        endpoint, params = URL_MAP.bind_to_environ(request.environ).match()
        if SERVICE not in api.deployment.deployed:
            raise ServiceNotDeployed(f"the {SERVICE} service is not deployed in this county",
                                     details={"service": SERVICE})
        name = params.pop("name", None)
        if name is not None:
            name, _, params["fmt"] = name.rpartition(".") if "." in name else (name, "", "")
            params["name"] = name
        if params.get("fmt") != FORMAT:
            raise GeoReportError(404, f"format {params.get('fmt') or '(none)'!r} is not served: "
                                      f"only JSON, add .json to the path")
        return _ENDPOINTS[endpoint](api, request, request_id, params)
    except RouteNotFound:
        return geo_error(404, f"no such GeoReport v2 endpoint: {request.path}; see /open311/discovery.json")
    except MethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.valid_methods or []))
        return geo_error(405, f"{request.method} is not allowed here; use {allowed}", headers={"Allow": allowed})
    except RequestEntityTooLarge:
        return geo_error(413, f"the body is larger than {api.settings['gateway']['max_body_bytes']} bytes")
    except GeoReportError as exc:
        return geo_error(exc.status, exc.description, headers=exc.headers)
    except AppError as exc:
        return from_app_error(exc)
    except Exception:
        log.exception("unexpected error in the Open311 endpoints")
        return geo_error(500, f"an unexpected error occurred (request {request_id})")


def _call(api, request_id, method, token=None, timeout=None, **kwargs):
    context = {CORRELATION_CONTEXT_KEY: request_id}
    if token:
        context[auth.TOKEN_CONTEXT_KEY] = token
    return api.rpc.call(SERVICE, method, context=context, timeout=timeout, **kwargs)


def _args(request):
    return {k: request.args.get(k) for k in request.args}


def _discovery(api, request, request_id, params):
    base = request.host_url.rstrip("/")
    return json_response({"changeset": None, "contact": None, "key_service": f"{base}/api/v1/auth/token",
                          "endpoints": [{"specification": SPECIFICATION, "url": f"{base}/open311/v2",
                                         "changeset": None, "type": "production",
                                         "formats": ["application/json"]}]})


def _services(api, request, request_id, params):
    return json_response(_call(api, request_id, "open311_services"))


def _service(api, request, request_id, params):
    return json_response(_call(api, request_id, "open311_service", code=params["name"]))


def _request(api, request, request_id, params):
    return json_response(_call(api, request_id, "open311_request", code=params["name"]))


def _requests(api, request, request_id, params):
    if request.method == "GET":
        return json_response(_call(api, request_id, "open311_requests", query=_args(request)))
    form, files = _read_form(api, request)
    token = form.get("api_key") or request.args.get("api_key") or _bearer(request)
    if not token:
        raise GeoReportError(403, "api_key is required: an API client's access token from POST /api/v1/auth/token")
    try:
        auth.verify_token(api.settings, token)  # fail fast; the tickets service verifies it again
    except Unauthenticated as exc:
        raise GeoReportError(403, f"api_key is not valid: {exc.message}") from None
    timeout = api.settings["rpc"]["upload_timeout"] if files else None
    result = _call(api, request_id, "open311_submit", token=token, timeout=timeout, form=form, files=files)
    return json_response(result, status=201)


def _bearer(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _read_form(api, request):
    """The POSTed fields (first value of each) and files of the field `media`, within the gateway's body limit."""
    limit = api.settings["gateway"]["max_body_bytes"]
    if request.content_length is not None and request.content_length > limit:
        raise GeoReportError(413, f"the body is larger than {limit} bytes")
    if request.mimetype not in FORM_TYPES:
        raise GeoReportError(415, "send the request as application/x-www-form-urlencoded or multipart/form-data")
    request.max_content_length = limit
    request.max_form_memory_size = limit
    form = {k: request.form.get(k) for k in request.form}
    files = [{"filename": f.filename or "media",
              "content_base64": base64.b64encode(f.read()).decode("ascii")}
             for f in request.files.getlist("media")]
    return form, files


_ENDPOINTS = {"discovery": _discovery, "services": _services, "service": _service, "requests": _requests,
              "request": _request}
