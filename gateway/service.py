"""The gateway process: one HTTP entrypoint that hands every request to gateway.api.Api."""
from nameko.web.handlers import HttpRequestHandler

from gateway.api import Api
from gateway.responses import json_response
from gateway.deployment import Deployment
from gateway.ratelimit import LoginLimiter
from kit.config import SettingsProvider
from kit.rpc import RpcClient

ALL_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"


class _CatchAll(HttpRequestHandler):
    """Every path and method reaches the service, so unknown routes and wrong methods answer JSON too."""

    def response_from_exception(self, exc):
        return json_response({"error": "internal_error", "message": "an unexpected error occurred",
                              "details": None}, status=500)


catch_all = _CatchAll.decorator


class GatewayService:
    name = "gateway"

    rpc = RpcClient()
    settings = SettingsProvider()
    deployment = Deployment()
    login_limiter = LoginLimiter()

    @catch_all(ALL_METHODS, "/")
    def root(self, request):
        return self.api(request)

    @catch_all(ALL_METHODS, "/<path:path>")
    def any_path(self, request, path):
        return self.api(request)

    def api(self, request):
        return Api(self.settings, self.rpc, self.deployment, self.login_limiter).handle(request)
