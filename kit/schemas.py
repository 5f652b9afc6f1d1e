"""Schema helpers shared by every service's API: strict input, list queries, pagination, loading with our errors."""
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


class OutputSchema(Schema):
    class Meta:
        unknown = EXCLUDE


def load(schema, data, partial=False):
    """Validate input with a schema; a failure becomes a 422 with the field messages as details."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("the request body must be a JSON object")
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed("the input is not valid", details=exc.messages) from None


def page(query, items_query_fn, total, schema):
    """A page of results in the list envelope every list endpoint answers."""
    offset = (query["page"] - 1) * query["page_size"]
    items = items_query_fn(offset, query["page_size"])
    return {"items": schema.dump(items, many=True), "total": total, "page": query["page"],
            "page_size": query["page_size"]}
