"""REST endpoints of the marketplace: the MDC-compatible catalog (/api/) and our own (/api/v1/)."""
