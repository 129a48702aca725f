"""Inspection of uploaded archives and their contents: no models, no database. ``archives`` reads
an object once through ``marketplace.storage``'s streams and walks its tar, tar.gz or zip members
safely (traversal, links, bombs, entry counts), ``tar_headers`` parses tar headers itself, and
``contents`` checks what the members hold (tabular files, JSON Lines, audio, schema.yaml). The
validation worker (``marketplace.submissions.validation``) runs them and records their findings."""
