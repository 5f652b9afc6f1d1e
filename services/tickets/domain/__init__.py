"""Rules of the tickets service in plain Python: calendar, workflow, routing, statistics."""
