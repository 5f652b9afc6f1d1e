"""Shared building blocks of the Red Property services: one place for each piece of plumbing."""
