"""The `redprop` command: run, migrate, seed and operate the platform."""
