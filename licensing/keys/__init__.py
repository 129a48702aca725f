"""API keys: create, revoke and use them (``services``, ``selectors``), authenticate and
rate-limit API calls with them (``authentication``, ``throttling``), and the account's key pages
(``views``, ``forms``)."""
