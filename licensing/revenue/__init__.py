"""Money: invoices and recorded payments (``payments``), the double-entry ledger that splits each
payment between contributors, the organization and the platform, with refunds and payouts
(``ledger``), what a payee has earned and is owed (``earnings``), and the earnings pages
(``views``)."""
