"""OpenAPI 3 document generated from the route table and the services' marshmallow schemas."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.routes import ROUTES

ERROR = {"type": "object", "required": ["error", "message"], "properties": {
    "error": {"type": "string", "example": "validation_failed"}, "message": {"type": "string"},
    "details": {"nullable": True}}}
ERROR_STATUSES = {"400": "Malformed request", "401": "Not authenticated", "403": "Role may not do this",
                  "404": "Not found or outside your jurisdiction", "409": "Conflicts with the current state",
                  "422": "Input not valid", "429": "Too many requests", "503": "Service not deployed",
                  "504": "Upstream timeout"}


def _openapi_path(path):
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", path)


def _path_params(path):
    params = []
    for converter, name in re.findall(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>", path):
        params.append({"in": "path", "name": name, "required": True,
                       "schema": {"type": "integer"} if converter == "int" else {"type": "string"}})
    return params


def build_spec(extra_paths=None):
    spec = APISpec(title="Red Property platform API (红色物业协同治理平台)", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "County governance of residential compounds. Every error answers "
                                        "`{error, message, details}`."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", ERROR)
    paths = {}
    for route in ROUTES:
        operation = {"summary": route.summary, "tags": [route.tag], "operationId": route.rpc,
                     "parameters": _path_params(route.path),
                     "responses": {code: {"description": text, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in ERROR_STATUSES.items()}}
        if not route.public:
            operation["security"] = [{"bearer": []}]
        if route.query is not None:
            operation["parameters"].append({"in": "query", "schema": route.query})
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        if route.form:
            json_field, files_field = route.form
            operation["requestBody"]["content"]["multipart/form-data"] = {"schema": {"type": "object", "properties": {
                json_field: {"type": "string", "description": "the JSON body, as text"},
                files_field: {"type": "array", "items": {"type": "string", "format": "binary"}}}}}
        if route.upload:
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}
        if route.response is not None:
            schema = route.response
            if route.many:
                schema = {"type": "object", "properties": {
                    "items": {"type": "array", "items": route.response}, "total": {"type": "integer"},
                    "page": {"type": "integer"}, "page_size": {"type": "integer"}}}
            success = {"description": "OK", "content": {"application/json": {"schema": schema}}}
        else:
            success = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
        operation["responses"][str(route.status)] = success
        paths.setdefault(_openapi_path(route.path), {})[route.method.lower()] = operation
    for path, operations in (extra_paths or {}).items():
        paths.setdefault(path, {}).update(operations)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


GATEWAY_PATHS = {
    "/api/v1/auth/token": {"post": {
        "summary": "Exchange a username and password (or an API client's id and secret) for a bearer token",
        "tags": ["auth"], "operationId": "issue_token",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
        "responses": {"200": {"description": "A token", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string"},
                                             "expires_in": {"type": "integer"}}}}}},
            "401": {"description": "Wrong credentials"}, "429": {"description": "Too many attempts"}}}},
    "/api/v1/services": {"get": {
        "summary": "Which services this county deploys and whether they answer", "tags": ["platform"],
        "operationId": "list_services", "responses": {"200": {"description": "Services"}}}},
    "/health": {"get": {"summary": "Liveness of the gateway process", "tags": ["platform"],
                        "operationId": "health", "responses": {"200": {"description": "Alive"}}}},
    "/health/ready": {"get": {"summary": "Readiness: the registry service answers", "tags": ["platform"],
                              "operationId": "ready", "responses": {"200": {"description": "Ready"},
                                                                     "503": {"description": "Not ready"}}}},
    "/api/asyncapi.yaml": {"get": {"summary": "The AsyncAPI document of every event", "tags": ["platform"],
                                   "operationId": "asyncapi", "responses": {"200": {"description": "YAML"}}}},
}
