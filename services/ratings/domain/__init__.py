"""Rules of the ratings service in plain Python: rule tables, credit, stars, evaluations, rectification, rankings."""
