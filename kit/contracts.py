"""Versioned event contracts: one marshmallow schema per (source, event type, version), registered here.

Producers build envelopes through `make_envelope`, which dumps the data through the schema and validates the
result, so a payload that does not match its contract never reaches the outbox. Consumers validate again on
receipt (`open_envelope`). The AsyncAPI document for integrators is generated from this registry.
"""
import datetime as dt
import uuid
from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from kit.errors import ValidationFailed
from kit.schemas import instance


class ContractViolation(ValidationFailed):
    code = "contract_violation"


@dataclass(frozen=True)
class Contract:
    source: str
    event_type: str
    version: int
    schema: type
    summary: str

    @property
    def routing_key(self):
        return f"{self.source}.{self.event_type}"


_REGISTRY: dict = {}


def event_contract(source, event_type, version=1, summary=""):
    """Class decorator registering a marshmallow schema as the contract of one event version."""
    def register(schema_cls):
        key = (source, event_type, version)
        if key in _REGISTRY:
            raise RuntimeError(f"contract {key} registered twice")
        _REGISTRY[key] = Contract(source, event_type, version, schema_cls, summary or schema_cls.__doc__ or "")
        return schema_cls
    return register


def all_contracts():
    _load_contract_modules()
    return sorted(_REGISTRY.values(), key=lambda c: (c.source, c.event_type, c.version))


def find(source, event_type, version=None):
    _load_contract_modules()
    if version is None:
        versions = [c for (s, e, _v), c in _REGISTRY.items() if s == source and e == event_type]
        if not versions:
            raise ContractViolation(f"no contract for {source}.{event_type}")
        return max(versions, key=lambda c: c.version)
    try:
        return _REGISTRY[(source, event_type, version)]
    except KeyError:
        raise ContractViolation(f"no contract for {source}.{event_type} v{version}") from None


def _load_contract_modules():
    import contracts  # noqa: F401  (the package imports every service's contracts)


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    version = fields.Integer(required=True)
    source = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    correlation_id = fields.String(allow_none=True)
    data = fields.Dict(required=True)


def _utc(value):
    """Stored times are naive UTC; on the wire they say so (…Z-equivalent +00:00), as RFC 3339 date-time requires."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value
    if isinstance(value, dict):
        return {key: _utc(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_utc(item) for item in value]
    return value


def validate_data(contract, data):
    """Dump `data` through the contract's schema and check the result loads back; return the plain JSON dict."""
    schema = instance(contract.schema)
    try:
        payload = schema.dump(_utc(data))
        schema.load(payload)
    except (TypeError, ValueError) as exc:
        raise ContractViolation(f"{contract.routing_key} v{contract.version} payload cannot be serialized",
                                details={"error": str(exc)}) from None
    except ValidationError as exc:
        raise ContractViolation(
            f"{contract.routing_key} v{contract.version} payload does not match its contract",
            details=exc.messages) from None
    return payload


def make_envelope(source, event_type, data, correlation_id=None, version=None):
    contract = find(source, event_type, version)
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "version": contract.version,
        "source": source,
        "occurred_at": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "correlation_id": correlation_id,
        "data": validate_data(contract, data),
    }


def open_envelope(body):
    """Validate a received envelope and its data against the contract; return the envelope dict."""
    try:
        EnvelopeSchema().load(body)
    except ValidationError as exc:
        raise ContractViolation("malformed event envelope", details=exc.messages) from None
    contract = find(body["source"], body["event_type"], body["version"])
    try:
        instance(contract.schema).load(body["data"])
    except ValidationError as exc:
        raise ContractViolation(f"{contract.routing_key} v{contract.version} payload does not match its contract",
                                details=exc.messages) from None
    return body
