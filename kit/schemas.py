"""Schema helpers shared by every service's API: strict input, list queries, pagination, loading with our errors."""
import datetime as dt
import functools

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from kit.errors import ValidationFailed


class InputSchema(Schema):
    """Request bodies: unknown fields are an error, so a typo never passes silently."""
    class Meta:
        unknown = RAISE


class QuerySchema(Schema):
    """Query strings: paging plus the filters a list endpoint declares; unknown parameters are an error too."""
    class Meta:
        unknown = RAISE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class UtcDateTime(fields.DateTime):
    """A time given with an offset (or without one, meaning UTC), kept as naive UTC like every stored time."""
    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


class OutputSchema(Schema):
    class Meta:
        unknown = EXCLUDE


@functools.cache
def instance(schema_cls):
    """One instance per schema class: building a marshmallow schema copies all its fields, and instances are
    safe to share between workers."""
    return schema_cls()


def load(schema_cls, data, partial=False):
    """Validate input with a schema; a failure becomes a 422 with the field messages as details."""
    schema = instance(schema_cls)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("the request body must be a JSON object")
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed("the input is not valid", details=exc.messages) from None


def dump(schema_cls, obj):
    return instance(schema_cls).dump(obj)


def dump_page(schema_cls, result):
    """A page of results ({items, total, page, page_size}) with its items dumped through the schema."""
    return {**result, "items": instance(schema_cls).dump(result["items"], many=True)}
