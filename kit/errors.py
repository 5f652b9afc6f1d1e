"""Application errors that cross process boundaries intact.

Every error carries a stable machine code, a human message and optional details. They are registered with nameko
so that an error raised in a service arrives at the gateway as the same class, not as a RemoteError.
"""
import json

from nameko.exceptions import deserialize_to_instance

# nameko ships exc.args across RPC and stringifies every scalar in them (None becomes "None", 3 becomes "3"),
# so an error travels as one JSON string in args and is rebuilt from it on the other side.
_WIRE_PREFIX = "redprop-error:"


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, details=None, code=None):
        if isinstance(message, str) and message.startswith(_WIRE_PREFIX):
            wire = json.loads(message[len(_WIRE_PREFIX):])
            message, details, code = wire["message"], wire["details"], wire["code"]
        self.message = message
        self.details = details or None
        if code:
            self.code = code
        super().__init__(_WIRE_PREFIX + json.dumps({"message": message, "details": self.details, "code": code},
                                                   ensure_ascii=False, default=str))

    def to_dict(self):
        return {"error": self.code, "message": self.message, "details": self.details}

    def __str__(self):
        return self.message


@deserialize_to_instance
class BadRequest(AppError):
    status = 400
    code = "bad_request"


@deserialize_to_instance
class ValidationFailed(AppError):
    """Input that does not fit the schema or the rules; `details` maps fields (or rows) to messages."""
    status = 422
    code = "validation_failed"


@deserialize_to_instance
class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"


@deserialize_to_instance
class Forbidden(AppError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class NotFound(AppError):
    """Also answered for objects outside the caller's jurisdiction, so their existence does not leak."""
    status = 404
    code = "not_found"


@deserialize_to_instance
class Conflict(AppError):
    status = 409
    code = "conflict"


@deserialize_to_instance
class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


@deserialize_to_instance
class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


@deserialize_to_instance
class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"


@deserialize_to_instance
class ServiceNotDeployed(AppError):
    status = 503
    code = "service_not_deployed"


@deserialize_to_instance
class UpstreamTimeout(AppError):
    status = 504
    code = "upstream_timeout"
