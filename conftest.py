"""Root of the test suite: eventlet must patch the standard library before anything else imports it."""
import kit  # noqa: F401  (silences eventlet's import-time notice)
import eventlet

eventlet.monkey_patch()

pytest_plugins = ["kit.testing"]
