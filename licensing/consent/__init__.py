"""Consent: the terms contributors consented to and their per-contributor records (``terms``),
withdrawals of that consent and the removal feed licensees read (``withdrawals``), the job that
re-releases a dataset without withdrawn records (``releases``), and their API views (``api``)."""
