"""Consent: the terms contributors consented to and their per-contributor records (``terms``),
withdrawals of that consent and the removal feed licensees read (``withdrawals``), and their API
views (``api``)."""
