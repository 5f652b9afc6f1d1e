"""Rules of notifications: who hears what, the templates, webhook signatures and retry backoff."""
