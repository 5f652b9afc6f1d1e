"""Shared building blocks of the Red Property services: one place for each piece of plumbing."""
import warnings

# eventlet announces its maintenance mode on import; the pinned stack is deliberate (see shared/PITFALLS.md).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
