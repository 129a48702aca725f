"""The embedded run and the tests: safe defaults, no TLS."""

from config.settings.base import *  # noqa: F403
