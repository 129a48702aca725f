"""The zero-install stack: real PostgreSQL and SeaweedFS servers started from pip wheels.

This package imports nothing from Django: it starts the services that the Django
settings then read, through the environment or through ``var/stack.json``.
"""
