"""Open311 GeoReport v2 endpoints of the tickets service (being written)."""


class Open311Endpoints:
    """RPC entry points behind /open311/v2/ (mixed into TicketsService)."""
