"""Refusals a workflow raises when it cannot do what was asked, named for what happened rather than
for an HTTP status.

Services raise these, or Django's ``ValidationError`` (the input is wrong: say what),
``PermissionDenied`` (not this person) and ``ObjectDoesNotExist`` (no such thing). The API answers
each with one status, in one place (``config.api_errors``); the pages say them in their own words.
"""


class Conflict(Exception):
    """The object's state does not allow this now: a submitted submission edited, an upload
    completed twice, terms that changed since they were shown."""


class NotReady(Conflict):
    """What was asked for is still being prepared (by a worker): ask again in ``retry_after``
    seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Gone(Exception):
    """What was asked for existed and was removed: a deleted submission, an aborted upload, a
    dataset taken down, a version whose consent was withdrawn."""


class UnverifiedEmail(Exception):
    """The person has not verified their primary email address yet, and what they asked for
    (money, access, a submission, an API key) waits for it (``REQUIRE_VERIFIED_EMAIL``)."""
