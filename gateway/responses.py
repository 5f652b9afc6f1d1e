"""HTTP answers of the gateway: JSON, errors in the envelope, and services' raw answers."""
import base64
import json

from werkzeug.wrappers import Response


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status, headers=headers,
                    mimetype="application/json")


def raw_response(result):
    """A service's non-JSON answer (a CSV export, an attachment)."""
    body = base64.b64decode(result["body_base64"]) if "body_base64" in result else result["body"]
    headers = {"Content-Disposition": f'attachment; filename="{result["filename"]}"'} \
        if result.get("filename") else None
    return Response(body, status=200, headers=headers, content_type=result["content_type"])


def error_response(error, headers=None):
    return json_response(error.to_dict(), status=error.status, headers=headers)
