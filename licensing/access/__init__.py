"""Access to datasets: the terms a licensee accepts and the grants that record it (``grants``),
access requests to restricted datasets (``access_requests``), who may download what and the
downloads themselves (``downloads``), what the dataset page offers (``panel``), and the pages and
API views of all these (``views``, ``api``)."""
