"""The download decision reads membership, withdrawal and the covering grant in one plain SQL
statement (licensing.access.downloads._facts); it must say what the ORM's definitions say
(access_requests.is_member, consent.withdrawals.is_withdrawn, grants.grants_covering). Refunded
grants and re-releases are checked through E4 itself (tests/licensing/revenue/test_ways_back.py,
tests/licensing/consent/test_rereleases.py)."""

from __future__ import annotations

import pytest
from model_bakery import baker

from licensing.access import downloads
from licensing.access.access_requests import is_member
from licensing.access.grants import grants_covering, record_grant, terms_for
from licensing.consent.withdrawals import is_withdrawn
from licensing.licenses import sha256_text
from licensing.models import ConsentWithdrawal, LicenseGrant
from marketplace.models import Dataset, DatasetVersion, Membership, User
from tests.factories import published_dataset, verified_user

pytestmark = pytest.mark.django_db


def by_orm(user: User, dataset: Dataset, version: DatasetVersion, terms: str) -> tuple[bool, bool, int | None]:
    grant = grants_covering(user=user, dataset=dataset, terms_sha256=terms).first()
    return is_member(user, dataset), is_withdrawn(version), grant.id if grant else None


def test_the_one_statement_says_what_the_orm_definitions_say() -> None:
    user = verified_user("reader")
    dataset = published_dataset("facts")
    other = published_dataset("other-facts")
    version = dataset.current_version
    assert version is not None
    terms = terms_for(dataset=dataset, version=version).sha256

    def check(expected: tuple[bool, bool, int | None]) -> None:
        facts = downloads._facts(user=user, dataset=dataset, version=version, terms_sha256=terms)
        assert facts == by_orm(user, dataset, version, terms) == expected

    def grant(on: Dataset = dataset, text: str = "") -> LicenseGrant:
        current = on.current_version
        assert current is not None
        actual = terms_for(dataset=on, version=current)
        return record_grant(
            user=user, dataset=on, version=current, terms_text=text or actual.text,
            terms_sha256=sha256_text(text) if text else actual.sha256, source="api", user_agent="", organization=None,
        )  # fmt: skip

    check((False, False, None))
    grant(on=other)
    grant(text="Terms of another time.\n")
    check((False, False, None))  # another dataset's grant, or other terms, cover nothing
    first = grant()
    check((False, False, first.id))
    newest = grant()
    check((False, False, newest.id))
    baker.make(Membership, organization=dataset.organization, user=user)
    check((True, False, newest.id))


def test_a_consent_withdrawal_naming_the_version_withdraws_it() -> None:
    user = verified_user("reader")
    dataset = published_dataset("withdrawn-facts")
    version = dataset.current_version
    assert version is not None
    terms = terms_for(dataset=dataset, version=version).sha256
    baker.make(ConsentWithdrawal, dataset=dataset, version=version, recorded_by=user, record_ids=["clip-1"])
    facts = downloads._facts(user=user, dataset=dataset, version=version, terms_sha256=terms)
    assert facts == by_orm(user, dataset, version, terms) == (False, True, None)
