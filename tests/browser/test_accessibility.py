"""axe-core, the accessibility engine, run in Chromium over every page of the realistic world, as
each kind of person sees it: no serious or critical violation of WCAG 2.1 A/AA.

Every GET page route of the URLconf is opened with the first objects of the world its parameters
can name (the same enumeration as tests/hardening/test_world_reads.py), as a visitor, an owner, a
licensee and staff; each page that answers HTML is checked in English and in Korean (a page whose
translation breaks its layout or its labels is a different page). axe-core comes from npm
(package.json), injected into the page; nothing is downloaded by the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import REPO_DIR
from tests.hardening.test_world_reads import get_routes, paths
from tests.world import World

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"
CALLERS = ["anonymous", "valley.owner", "licensee", "staff"]
PATHS_PER_ROUTE = 2
BLOCKING = {"serious", "critical"}
RUN_AXE = """async () => {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  // Every rule of these tags runs, label-content-name-mismatch (WCAG 2.5.3, Label in Name) too: a
  // control's name contains the words it shows, which speech users say to press it.
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def html_pages(world: World, client: Client) -> list[str]:
    """The pages this person can open that answer HTML (files, feeds and redirects left out)."""
    found = []
    for route in get_routes():
        if route.is_api:
            continue
        for path in itertools.islice(paths(world, route), PATHS_PER_ROUTE):
            response = client.get(path)
            if response.status_code < 300 and response.get("Content-Type", "").startswith("text/html"):
                found.append(path)
    return found


def violations(page: Any, path: str) -> list[str]:
    page.goto(path)
    page.add_script_tag(path=str(AXE))
    return [
        f"{path}: {v['id']} ({v['impact']}) {v['help']} at {v['targets']}"
        for v in page.evaluate(RUN_AXE)
        if v["impact"] in BLOCKING
    ]


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    # The site's CSP admits no inline script; the injected axe-core is one (the pages run as served).
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("caller", CALLERS)
def test_every_page_passes_axe_for_every_kind_of_person(page: Any, world: World, caller: str, live_server: Any) -> None:
    assert Path(AXE).exists(), "axe-core is missing: run `npm ci` (make test does)"
    client = Client()
    if caller != "anonymous":
        client.force_login(world.people[caller])
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
    pages = html_pages(world, client)
    # The catalog, dataset pages and their viewers, signing in; then each person's own pages.
    assert len(pages) > (8 if caller == "anonymous" else 20), pages
    problems: list[str] = []
    for language in ("en", "ko"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        for path in pages:
            problems += [f"[{language}] {problem}" for problem in violations(page, path)]
    assert problems == [], f"{len(problems)} serious accessibility violations:\n" + "\n".join(problems[:40])
