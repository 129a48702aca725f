"""Accounts: signing up and in (services, sign_in_limits, forms) and the account page (views)."""
