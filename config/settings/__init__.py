"""Settings modules: ``local`` (the default, for the embedded run and tests) and ``production``."""
