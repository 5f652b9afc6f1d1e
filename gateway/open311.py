"""Open311 GeoReport v2 at /open311/v2/ (being written in this session)."""
from kit.errors import NotFound


def handle_open311(api, request, request_id):
    raise NotFound("Open311 is not available yet")
