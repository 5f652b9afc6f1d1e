"""HTTP answers of the gateway: JSON, errors in the envelope, and services' raw answers."""
import base64
import json
import re
from urllib.parse import quote

from werkzeug.wrappers import Response


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status, headers=headers,
                    mimetype="application/json")


def raw_response(result):
    """A service's non-JSON answer (a CSV export, an attachment)."""
    body = base64.b64decode(result["body_base64"]) if "body_base64" in result else result["body"]
    headers = {"Content-Disposition": content_disposition(result["filename"])} if result.get("filename") else None
    return Response(body, status=200, headers=headers, content_type=result["content_type"])


def content_disposition(filename):
    """Headers are Latin-1: a plain-ASCII fallback name, and the real (often Chinese) one in RFC 5987 form."""
    stem, dot, extension = filename.rpartition(".") if "." in filename else (filename, "", "")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "download"
    fallback = stem + dot + re.sub(r"[^A-Za-z0-9]", "", extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def error_response(error, headers=None):
    return json_response(error.to_dict(), status=error.status, headers=headers)
