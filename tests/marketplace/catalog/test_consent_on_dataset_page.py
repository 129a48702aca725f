"""The dataset page shows the contributors' consent beside the license: each permission as the
license gives it and as the contributors consented to it, the consent text's SHA-256, the
collection period and how to withdraw. A permission the consent does not cover never reads
"allowed" alone."""

from __future__ import annotations

import html
import re
from typing import Any

from django.test import Client

from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from tests.world import CONSENT, World


def _text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_consent_terms_stand_beside_the_license(client: Client, world: World) -> None:
    answer = client.get(f"/datasets/{world.datasets['valley-speech'].slug}/")
    assert answer.status_code == 200
    text, body = _text(answer), answer.content.decode()
    table = _section(text, "Permission The license The contributors' consent", "Attribution")
    assert table == (
        "Permission The license The contributors' consent Commercial use allowed consented AI training allowed "
        "consented Redistribution allowed consented Derivative works allowed consented "
    )
    terms = consent.current_terms(world.submissions["valley-speech-v3"])
    assert terms is not None
    assert f'title="{terms.consent_text_sha256}"' in body  # the consent text's SHA-256, whole to hover and copy
    facts = _section(text, "The contributors' consent Collected", "How a contributor withdraws")
    assert "Collected from 1 January 2025 to 30 June 2025" in facts
    assert "Scope Speech and language models." in facts and "Purpose" not in facts
    assert "How a contributor withdraws Write to us with your id." in text


def test_where_the_consent_is_narrower_nothing_reads_allowed_alone(client: Client, world: World) -> None:
    # Terms recorded before a license had to stay within the consent: no redistribution, no derivatives.
    consent.set_consent_terms(
        submission=world.submissions["valley-speech-v3"],
        user=world.member("valley", "member"),
        terms=ConsentTermsInput.from_json({**CONSENT, "redistribution": False, "derivatives": False}),
    )
    text = _text(client.get(f"/datasets/{world.datasets['valley-speech'].slug}/"))
    narrower = "allows it, but the contributors did not consent: not allowed not consented"
    assert f"Redistribution {narrower}" in text and f"Derivative works {narrower}" in text
    assert "Commercial use allowed consented" in text
    assert "Redistribution allowed" not in text and "Redistribution: yes" not in text
    assert "Redistribution: no: not consented" in text and "Derivatives: no: not consented" in text
    assert "AI training: yes" in text


def test_research_only_consent_is_said_beside_a_non_commercial_license(client: Client, world: World) -> None:
    answer = client.get(f"/datasets/{world.datasets['harbor-notes'].slug}/")
    text = _text(answer)
    assert "Commercial use not allowed not consented: research only" in text
    assert "Purpose research only" in text
