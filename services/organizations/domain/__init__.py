"""Pure domain rules of the organizations service: no nameko, no SQLAlchemy, unit-tested without a broker."""
