"""The AsyncAPI 2.6 document for integrators, generated from the event contracts."""
import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from kit.config import ROOT, load
from kit.contracts import EnvelopeSchema, all_contracts

DOCUMENT = ROOT / "docs" / "asyncapi.yaml"


def _json_schemas(contracts):
    spec = APISpec(title="schemas", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    names = {}
    for contract in contracts:
        name = f"{contract.source}.{contract.event_type}.v{contract.version}"
        spec.components.schema(name, schema=contract.schema)
        names[contract] = name
    spec.components.schema("Envelope", schema=EnvelopeSchema)
    return names, spec.to_dict()["components"]["schemas"]


def build(settings_exchange=None):
    settings_exchange = settings_exchange or load()["messaging"]["events_exchange"]
    contracts = all_contracts()
    names, schemas = _json_schemas(contracts)
    channels, messages = {}, {}
    for contract in contracts:
        key = names[contract]
        envelope = {"allOf": [{"$ref": "#/components/schemas/Envelope"}, {
            "type": "object", "properties": {
                "event_type": {"type": "string", "enum": [contract.event_type]},
                "version": {"type": "integer", "enum": [contract.version]},
                "source": {"type": "string", "enum": [contract.source]},
                "data": {"$ref": f"#/components/schemas/{key}"}}}]}
        messages[key] = {"name": contract.event_type, "title": f"{contract.event_type} v{contract.version}",
                         "summary": contract.summary.strip(), "contentType": "application/json",
                         "payload": envelope}
        channel = channels.setdefault(contract.routing_key, {
            "description": f"Routing key `{contract.routing_key}` on the `{settings_exchange}` topic exchange.",
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": settings_exchange, "type": "topic", "durable": True, "autoDelete": False}}},
            "subscribe": {"operationId": f"on_{contract.source}_{contract.event_type}", "message": {"oneOf": []}}})
        channel["subscribe"]["message"]["oneOf"].append({"$ref": f"#/components/messages/{key}"})
    for schema in schemas.values():
        schema.pop("additionalProperties", None)
    return {
        "asyncapi": "2.6.0",
        "info": {"title": "Red Property platform events (红色物业协同治理平台)", "version": "1.0.0",
                 "description": (
                     "Every change is announced on one durable topic exchange with routing key "
                     "`<source>.<event_type>`. Messages are persistent JSON envelopes; `event_id` is unique and "
                     "a message may arrive more than once, so consumers de-duplicate by it. Breaking changes get a "
                     "new `version`. No personal data (names, phone numbers) is ever carried.")},
        "defaultContentType": "application/json",
        "servers": {"local": {"url": "localhost:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }


def asyncapi_yaml():
    return yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=120)


def write():
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(asyncapi_yaml(), encoding="utf-8")
    return DOCUMENT


if __name__ == "__main__":
    print(write())
