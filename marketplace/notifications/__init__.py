"""Notifications: what happened to a person's requests, invoices, submissions and licensed
datasets, shown on /notifications/ and emailed. ``services.notify`` is the only writer; the
services whose state changes people care about call it in their own transaction."""
