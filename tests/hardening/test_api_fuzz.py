"""Schemathesis over the whole published schema (/api/v1/schema: our /api/v1 and the MDC
contract's /api/), against the real app on a live server with real PostgreSQL and storage, in the
realistic world of tests/world.py (three organizations of five, datasets of every visibility and
price, three versions, a withdrawal and a takedown, grants, invoices, access requests and
submissions in every state).

Every answer must be no 5xx, a documented status code, the documented content type and headers,
and a body that matches its documented shape. Each run sends the key of one person the world
holds, in a role a real instance has: a licensee outside every organization, a member, a reviewer,
another organization's admin; and once no key at all. A fixture where one key owns everything
hid that every other key holder got 500s (a dataset listed once per member of its organization).

Two phases per role, in one test per role (each test is transactional, since the live server needs
committed rows: its writes are flushed after it and the world is restored for the next):

- Stateful, first, while the world is as built: schemathesis' state machine follows the links the
  schema publishes (config/api_schema.py), one journey at a time (``JOURNEYS``): a contributor's
  upload (E7, then E11 for the submission E7 made, then E12, E14 or an abort for the upload E11
  opened), a contributor's draft (E8 to E10, the datasheet, consent terms and records, the revenue
  split, lineage, the validation report), and the catalog's and a licensee's (a list to a dataset,
  its versions, manifest, Croissant, inclusion proof, files and terms, to a grant and downloads; an
  access request to its decision; a purchase to its payment). A chain starts at real objects of
  the world (``Steering.steer``), always uses the values its links carry (``FollowEveryLink``) and
  is followed before another starts (``FollowLinksFirst``). The test checks that links carried
  values to calls that succeeded, and which: the role's own journey among them.
- Each operation on its own, valid requests and invalid ones (schemathesis' negative mode). Half
  of the cases keep their random path parameters (which must give a clean 404); the other half are
  steered to the world's objects (``Steering``), so that the fuzzer gets past the lookups to the
  views behind them. Reads run first and deletions last, so that the world's objects are there for
  the operations that need them.

Across both phases, each role must have reached what it may do in this world (a licensee's
downloads, a member's uploads, an admin's payments) and must never have been answered 2xx by what
it may not (``EXPECTED``: no submissions for a licensee or a reviewer, no decisions or payments for
a member, nothing that needs a key without one).

Cases are the same in every run (derandomized; fixed seeds for the state machine, see ``explore``)
and bounded, with no deadline and no shrinking: CI time is bounded, not each request's, and a
failure prints the request to reproduce it. The budget (``EXAMPLES_PER_OPERATION`` cases per
operation and role, the journeys' scenarios of at most ``STEPS`` calls) keeps the file under three
minutes on two cores.

The bugs these runs found are pinned down by the plain tests at the end of this file.

Rate limits: the schema documents 429 (with Retry-After) on every operation, and test_api_schema
checks that; here the limits are raised instead, since a fuzzer that gets throttled stops
exercising the views behind the throttle.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import APIOperation, BaseSchema, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.engine.link_calibration import LinkCalibrationState
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.stateful.control import TransitionController
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.stateful import OpenAPIStateMachine

from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from licensing.models import AccessRequest, ConsentRecord, License
from marketplace.models import Dataset, Membership, RevenueShare, Upload, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts
from provenance.models import LogEntry, SigningKey
from tests.factories import organization, published_dataset
from tests.world import World

# An organization's bundle is a gzip body (POST /api/v1/organization-imports): bytes, a real empty
# gzip stream among them.
schemathesis.openapi.media_type("application/gzip", st.binary(max_size=64) | st.just(b"\x1f\x8b\x08\x00" + bytes(6)))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6
STEPS = 12
# The stateful phase's journeys: the operations each follows links between, and its scenarios. A
# journey's chains start from its own operations and follow only its links, so that a few steps
# go deep: an upload (E7, E11 with the submission E7 made, E12/E14 with the upload E11 opened)
# would otherwise compete with every other step a draft takes. The directories and the
# transparency log have chains one link long; the phase for each operation covers them.
JOURNEYS = [
    (r"^/api/(submissions$|uploads|v1/uploads)", 10),  # a contributor's upload
    (r"^/api/(v1/)?submissions", 15),  # a contributor's draft: E7 to E10, datasheet, consent, split
    (r"^/api/(v1/)?(datasets|grants|access-requests|invoices)", 30),  # the catalog's and a licensee's
]
# A contributor's write under /datasets: fuzzed on its own, kept out of the catalog's journey, whose
# scenarios it would spend on a draft instead of a dataset's evidence.
OPENS_A_VERSION = "datasets_versions_create"
# Ways back from a purchase: fuzzed on their own too. Their answers link nowhere, so in the catalog's
# journey they would only spend its scenarios (voiding the licensee's invoice ends its payment chain).
OUTSIDE_JOURNEYS = [OPENS_A_VERSION, "v1_invoices_refund_create", "v1_invoices_void_create"]
SUITES = 6
CHAINS_PER_SCENARIO = 1
METHOD_ORDER = ["get", "put", "patch", "post", "delete"]

# The person whose key a run sends, by test id; None sends no key.
ROLES = [
    pytest.param("licensee", id="licensee"),
    pytest.param("valley.member", id="member"),
    pytest.param("valley.reviewer", id="reviewer"),
    pytest.param("harbor.admin", id="other-org-admin"),
    pytest.param(None, id="no-key"),
]


@dataclass(frozen=True)
class Steering:
    """Real values, from the world's objects, for path parameters (by name) and for the submission
    an upload is started for."""

    values: dict[str, list[Any]]
    license_ids: list[int]
    # (submission id, upload id): the paths that name both name an upload of that submission.
    uploads: list[tuple[str, str]]

    @classmethod
    def of(cls, world: World) -> Steering:
        datasets = [dataset.id for dataset in world.datasets.values()]
        submission_ids = [submission.id for submission in world.submissions.values()]
        # In the world's order, not by id: ids are random, and the cases must be the same in every run.
        uploads = [
            (submission_id, upload_id)
            for submission_id in submission_ids
            for upload_id in Upload.objects.filter(submission_id=submission_id)
            .order_by("created_at", "kind")
            .values_list("id", flat=True)
        ]
        last_entry = LogEntry.objects.count() - 1
        return cls(
            values={
                "id": datasets,
                "dataset_id": datasets,
                "id_or_slug": [*datasets, *(dataset.slug for dataset in world.datasets.values())],
                "number": [1, 2, 3],
                "to": [1, 2, 3],  # the other version of a diff
                "slug": [org.slug for org in world.orgs.values()],
                "submission_id": submission_ids,
                "file_upload_id": [upload_id for _, upload_id in uploads],
                "part_number": [1, 2],
                "grant_id": [grant.id for grant in world.grants.values()],
                "invoice_id": [invoice.id for invoice in world.invoices.values()],
                "batch_id": [1, 2],  # the world holds no payout batch: every answer is staff's 403
                "request_id": [request.id for request in world.access_requests.values()],
                "key_id": list(SigningKey.objects.values_list("key_id", flat=True)),
                "index": [0, last_entry // 2, last_entry],
            },
            license_ids=list(License.objects.order_by("id").values_list("id", flat=True)),
            uploads=uploads,
        )

    def known(self, operation: APIOperation) -> dict[str, list[Any]]:
        names = [parameter.name for parameter in operation.path_parameters]
        chosen = {name: self.values[name] for name in names if name in self.values}
        if operation.path.startswith("/api/v1/licenses/") and "id" in names:
            chosen["id"] = self.license_ids
        return chosen

    def path_parameters(self, operation: APIOperation) -> st.SearchStrategy[dict[str, Any]] | None:
        known = self.known(operation)
        if not known:
            return None
        independent = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
        if not {"submission_id", "file_upload_id"} <= set(known):
            return independent
        pairs = st.sampled_from(self.uploads).map(lambda pair: {"submission_id": pair[0], "file_upload_id": pair[1]})
        return st.tuples(independent, pairs).map(lambda both: {**both[0], **both[1]})

    def steer(self, case: schemathesis.Case, chooser: random.Random) -> None:
        """Point a case the state machine starts a chain with at real objects (it has no link to
        follow yet): its path parameters, and the submission an upload is started for. Half of the
        lists are asked for unfiltered: random filters mostly match nothing, and the links from a
        list follow its first item."""
        if case.operation.method.lower() == "get" and not case.operation.path_parameters and chooser.random() < 0.5:
            case.query = {}
        known = self.known(case.operation)
        if known:
            case.path_parameters = {**(case.path_parameters or {}), **{n: chooser.choice(v) for n, v in known.items()}}
            if {"submission_id", "file_upload_id"} <= set(known):
                submission_id, upload_id = chooser.choice(self.uploads)
                case.path_parameters.update(submission_id=submission_id, file_upload_id=upload_id)
        if isinstance(case.body, dict) and "submissionId" in case.body:
            case.body["submissionId"] = chooser.choice(self.values["submission_id"])

    def steer_body(self, case: schemathesis.Case, data: st.DataObject) -> None:
        """Half of the uploads started (E11) name a real submission rather than a random id."""
        if isinstance(case.body, dict) and "submissionId" in case.body and data.draw(st.booleans()):
            case.body["submissionId"] = data.draw(st.sampled_from(self.values["submission_id"]))


def headers_for(world: World, person: str | None) -> dict[str, str]:
    return {} if person is None else {"Authorization": f"Bearer {world.key(person)}"}


@pytest.fixture
def api_schema(live_server: Any, settings: Any) -> BaseSchema:
    """The schema the server publishes, as clients fetch it.

    No Authorization header is generated: each run sends its role's key, or none. The stateful
    phase follows only the links we publish (schemathesis' inferred ones are off) and sends valid
    requests without NUL characters, so that chains are not cut short by refusals the phase for
    each operation already checks (it sends both, and the NUL refusals are pinned below)."""
    settings.API_RATE_PER_KEY = settings.API_RATE_PER_IP = "1000000/minute"
    config = schemathesis.Config.from_dict(
        {
            "base-url": live_server.url,
            "generation": {"with-security-parameters": False},
            "phases": {
                "stateful": {
                    "generation": {"mode": "positive", "allow-x00": False},
                    "inference": {"algorithms": []},
                }
            },
        }
    )
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema", config=config)


def cases(operation: APIOperation, steering: Steering) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests; half of them with path parameters steered to real ids."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    generated = [operation.as_strategy(generation_mode=mode) for mode in modes]
    real = steering.path_parameters(operation)
    if real is None:
        return st.one_of(generated)

    def steered(mode: GenerationMode) -> st.SearchStrategy[schemathesis.Case]:
        return real.flatmap(lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids))

    return st.one_of(*generated, *(steered(mode) for mode in modes))


@dataclass
class Outcome:
    operations: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def succeeded(self) -> set[str]:
        return {label for label, codes in self.statuses.items() if any(200 <= code < 300 for code in codes)}


def fuzz(schema: BaseSchema, steering: Steering, headers: dict[str, str]) -> Outcome:
    """Call and check the cases of every operation; all failures are collected, not just the first."""
    outcome = Outcome()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Reads first and deletions last, so that the world's objects stay there for the operations that need them.
    operations.sort(key=lambda operation: METHOD_ORDER.index(operation.method.lower()))
    for operation in operations:
        outcome.operations += 1

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=cases(operation, steering), data=st.data())
        def run(case: schemathesis.Case, data: st.DataObject) -> None:
            steering.steer_body(case, data)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            outcome.statuses[case.operation.label][response.status_code] += 1

        try:
            run()
        except (Exception, schemathesis.errors.FailureGroup) as exc:
            outcome.failures.append(f"{operation.label}: {exc}")
    return outcome


@dataclass
class Journeys:
    """What the stateful phase did: every call's status, and where each followed link led."""

    scenarios: int = 0
    restarts: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    # By link ("POST /api/submissions -> [200] StartUpload -> POST /api/uploads") and by target
    # operation: the statuses of the calls that carried the values the link names.
    links: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    targets: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def succeeded(self) -> set[str]:
        return {label for label, codes in self.statuses.items() if any(200 <= code < 300 for code in codes)}

    def followed_to_success(self) -> set[str]:
        return {name for name, codes in self.links.items() if any(200 <= code < 300 for code in codes)}

    def reached_by_links(self) -> set[str]:
        return {label for label, codes in self.targets.items() if any(200 <= code < 300 for code in codes)}


class FollowEveryLink(LinkCalibrationState):
    """Every link's values are used. Schemathesis replaces some with generated ones (a few percent
    of path parameters, a fifth of the rest), which the phase for each operation already does for
    half of its cases; here each chain goes where the schema says."""

    def use_probability(self, transition_id: str) -> float:
        return 1.0

    def is_calibrated(self, transition_id: str) -> bool:
        return True


class FollowLinksFirst(TransitionController):
    """Schemathesis' scheduling of chain starts (root calls), except that a scenario which started
    CHAINS_PER_SCENARIO chains starts no other while it can follow a link. Left alone, a scenario
    spends most of its steps starting chains (eight operations can), and a chain rarely gets past
    its second call, where the contributor's takes three: create a submission, start its upload,
    ask for a part URL."""

    def __init__(self, machine: Any, *args: Any) -> None:
        super().__init__(*args)
        self.machine = machine

    def allow_root_transition(self, source: str, bundles: Any) -> bool:
        if self.machine.chains_started >= CHAINS_PER_SCENARIO and self.machine.can_follow_a_link():
            return False
        return super().allow_root_transition(source, bundles)


def explore(schema: BaseSchema, steering: Steering, headers: dict[str, str]) -> Journeys:
    """Run schemathesis' state machine over the schema's links with one caller's key, one journey
    at a time (each its own machine, so that its chains start from its own operations)."""
    journeys = Journeys()
    chooser = random.Random(0)  # steering of chain starts: the same in every run, like the cases

    class Chains(OpenAPIStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.chains_started = 0
            self.control = FollowLinksFirst(self, self._transitions, self._root_labels)

        def can_follow_a_link(self) -> bool:
            return any(
                self.bundle(f"{link.source.label} -> {link.status_code}")
                and self.control.allow_transition(link.source.label, link.target.label)
                for transitions in self._transitions.operations.values()
                for link in transitions.outgoing
            )

        def step(self, input: StepInput) -> StepOutput:
            if input.transition is None:
                self.chains_started += 1
                steering.steer(input.case, chooser)
            output = super().step(input)
            status = output.response.status_code
            journeys.statuses[input.case.operation.label][status] += 1
            if input.transition is not None and input.is_applied:
                journeys.links[input.transition.id][status] += 1
                journeys.targets[input.case.operation.label][status] += 1
            return output

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(
            self, response: Response, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # Collected rather than raised: one failure would end the run and hide the others.
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)
            except (Exception, schemathesis.errors.FailureGroup) as exc:
                journeys.failures.append(f"{case.operation.label}: {exc}")

        def teardown(self) -> None:
            journeys.scenarios += 1
            super().teardown()

    for paths, scenarios in JOURNEYS:
        generated = (
            schema.include(path_regex=paths)
            .exclude(operation_id=OUTSIDE_JOURNEYS)
            .build_state_machine(feedback=NO_FEEDBACK, link_calibration=FollowEveryLink())
        )
        machine: type[APIStateMachine] = type("Chains", (Chains, generated), {})
        # Fixed seeds rather than derandomize: a scenario replayed with the same choices can meet a
        # server that changed since (a second access request to the same dataset is refused, so a
        # link has nothing to follow), which Hypothesis reports as Flaky. Schemathesis' own runner
        # then starts a new suite; so does this, with the next seed, until the journey's scenarios ran.
        goal = journeys.scenarios + scenarios
        for seed in range(SUITES):
            if journeys.scenarios >= goal:
                break
            try:
                hypothesis.seed(seed)(machine).run(
                    settings=hypothesis.settings(
                        max_examples=goal - journeys.scenarios,
                        stateful_step_count=STEPS,
                        deadline=None,
                        database=None,
                        phases=[hypothesis.Phase.generate],
                        suppress_health_check=list(hypothesis.HealthCheck),
                    )
                )
            except hypothesis.errors.Flaky:
                journeys.restarts += 1
    return journeys


SDK_READS = {"GET /api/datasets", "GET /api/datasets/filters", "GET /api/datasets/{id_or_slug}"}
CATALOG_CHAIN = {"GET /api/datasets/{id_or_slug}", "GET /api/v1/datasets/{id}"}
EVIDENCE = {
    "GET /api/v1/datasets/{id}/versions/{number}/manifest",
    "GET /api/v1/datasets/{id}/versions/{number}/croissant",
    "GET /api/v1/datasets/{id}/versions/{number}/inclusion-proof",
}
# E7, then E11 with the id E7 answered, then E12 with the upload id E11 answered.
CONTRIBUTOR_CHAIN = {"POST /api/uploads", "GET /api/uploads/{file_upload_id}/parts/{part_number}"}
MANAGING = {"POST /api/v1/access-requests/{request_id}/{action}", "POST /api/v1/invoices/{invoice_id}/payment"}
WITHDRAWING = "POST /api/v1/datasets/{dataset_id}/withdrawals"
# Staff's alone (no role fuzzed here is staff): refunds, cancelling a payout, federation's peers.
STAFF_ONLY = {
    "POST /api/v1/invoices/{invoice_id}/refund", "POST /api/v1/payouts/{batch_id}/cancellation",
    "GET /api/v1/federation/peers", "POST /api/v1/federation/peers", "GET /api/v1/federation/peers/{peer_id}",
    "PATCH /api/v1/federation/peers/{peer_id}", "POST /api/v1/federation/peers/{peer_id}/sync",
}  # fmt: skip


def contributing(labels: set[str]) -> set[str]:
    """The submission and upload operations: for owners, admins and members of an organization."""
    return {
        label
        for label in labels
        if "/submissions" in label or "/uploads" in label or label == "POST /api/v1/datasets/{id}/versions"
    }


def keyed(schema: BaseSchema) -> set[str]:
    """The operations whose every security requirement names the API key (none may be skipped)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return {operation.label for operation in operations if {} not in operation.definition.raw.get("security", [{}])}


@dataclass(frozen=True)
class Expected:
    """What a role must reach (in either phase), must reach by following links, and must never be
    answered 2xx for, in this world."""

    succeeds: set[str] = field(default_factory=set)
    by_links: set[str] = field(default_factory=set)
    never: Callable[[BaseSchema, set[str]], set[str]] = lambda schema, labels: set()


EXPECTED = {
    # Outside every organization; grants on valley-speech and north-corpus, an open invoice.
    "licensee": Expected(
        succeeds={"POST /api/datasets/{id_or_slug}/download", "GET /api/v1/grants/{grant_id}"},
        by_links={"POST /api/datasets/{id_or_slug}/download"},  # from the grants it holds
        never=lambda schema, labels: contributing(labels) | MANAGING | {WITHDRAWING} | STAFF_ONLY,
    ),
    # Valley's member: the contributor's journey, E7 to E12, through the links; manages nothing.
    "valley.member": Expected(
        succeeds={"POST /api/submissions", "GET /api/v1/submissions/{submission_id}"},
        by_links=CONTRIBUTOR_CHAIN,
        never=lambda schema, labels: MANAGING | STAFF_ONLY,
    ),
    # Valley's reviewer reviews in the browser: no submissions or uploads through the API, no management.
    "valley.reviewer": Expected(
        never=lambda schema, labels: contributing(labels) | MANAGING | {WITHDRAWING} | STAFF_ONLY
    ),
    # Harbor's admin: its own submissions, and the payments of Harbor's invoices.
    "harbor.admin": Expected(
        succeeds={"POST /api/submissions", "POST /api/v1/invoices/{invoice_id}/payment"},
        by_links=CONTRIBUTOR_CHAIN,
        never=lambda schema, labels: STAFF_ONLY,
    ),
    # Without a key: the public reads, and nothing that requires a key.
    None: Expected(
        succeeds={"GET /api/v1/provenance/log/tree-head", "GET /api/v1/datasets/{id}/versions/{number}/manifest"},
        never=lambda schema, labels: keyed(schema),
    ),
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("person", ROLES)
def test_fuzz_with_the_key_of(api_schema: BaseSchema, world: World, person: str | None) -> None:
    steering = Steering.of(world)
    headers = headers_for(world, person)
    # Chains first, while the world is as built; then each operation, deletions last.
    chains = explore(api_schema, steering, headers)
    each = fuzz(api_schema, steering, headers)
    assert not chains.failures + each.failures, "\n\n".join(chains.failures + each.failures)
    assert each.operations >= 50

    succeeded = each.succeeded() | chains.succeeded()
    expected = EXPECTED[person]
    assert SDK_READS | expected.succeeds <= succeeded, sorted(set(each.statuses) - succeeded)
    never = expected.never(api_schema, set(each.statuses))
    assert not never & succeeded, sorted(never & succeeded)
    assert STAFF_ONLY <= set(each.statuses), "the staff-only federation routes were fuzzed too"

    # The stateful phase made real transitions: links carried values to calls that succeeded, from
    # the catalog to a dataset and to its evidence, and the role's own journey.
    assert len(chains.followed_to_success()) >= 10, sorted(chains.links)
    reached = chains.reached_by_links()
    assert CATALOG_CHAIN | expected.by_links <= reached, sorted(reached)
    assert EVIDENCE & reached, sorted(reached)


# --- What the fuzzer found, pinned down ----------------------------------------------------------


def consent_payload() -> dict[str, Any]:
    return {
        "aiTraining": True, "commercialUse": True, "researchOnly": False, "redistribution": False,
        "derivatives": True,
        "scope": "speech", "consentText": "I agree that my recordings train speech models.",
        "collectionStart": "2026-01-01", "collectionEnd": "2026-06-30",
        "withdrawalProcess": "Write to privacy@example.org.",
    }  # fmt: skip


@pytest.fixture
def key_client(bearer: Callable[..., tuple[User, str]]) -> tuple[User, APIClient]:
    user, raw_key = bearer("read", "download", "upload")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return user, client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/datasets/nope", "/api/v1/datasets/nope/versions", "/api/v1/organizations/nope", "/api/v1/licenses/999"],
)
def test_a_lookup_that_finds_nothing_answers_the_error_body(path: str) -> None:
    # These views raise Django's Http404 (get_object_or_404), which answered DRF's {"detail"}.
    response = APIClient().get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == body["message"] and "matches the given query" in body["message"]
    assert "detail" not in body


@pytest.mark.django_db
def test_a_nul_character_in_a_body_is_refused_before_the_database(key_client: tuple[User, APIClient]) -> None:
    # PostgreSQL text cannot hold NUL: this was a 500 from the INSERT.
    gated = published_dataset("gated-nul", visibility=Dataset.Visibility.RESTRICTED)
    _, client = key_client
    response = client.post(
        f"/api/v1/datasets/{gated.id}/access-requests",
        {"fullName": "Ada\x00", "organization": "Uni", "intendedUse": "Research."},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Text in the request cannot contain the NUL character (\\u0000)."
    assert not AccessRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("\rhÈ".encode(), "The CSV does not parse at line 1: new-line character seen in unquoted field"),
        (b"contributor_id,terms_sha256,given_at\n\xff\xfe", "The CSV must be UTF-8 text: invalid start byte"),
        (b"contributor_id,terms_sha256,given_at\nc-1\x00,x,y\n", "cannot contain the NUL character"),
    ],
)
def test_a_consent_csv_that_does_not_parse_is_a_clear_400(
    key_client: tuple[User, APIClient], body: bytes, message: str
) -> None:
    user, client = key_client
    lab = approve_organization(organization=organization("csv-lab", owner=user))
    assert Membership.objects.filter(organization=lab, user=user).exists()
    submission = drafts.create_submission(user=user, name="CSV")
    consent.set_consent_terms(submission=submission, user=user, terms=ConsentTermsInput.from_json(consent_payload()))
    response = client.post(f"/api/v1/submissions/{submission.id}/consent/records", body, content_type="text/csv")
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not ConsentRecord.objects.exists()


# A NUL in a path segment or a query value reached PostgreSQL as a lookup or a filter (500); the
# fuzzer does not put NUL in URLs, so every kind of place it can sit is listed here.
NUL_URLS = [
    "/api/datasets?task=%00", "/api/datasets?locale=a%00", "/api/datasets?license=%00", "/api/datasets/%00",
    "/api/v1/datasets?task=%00", "/api/v1/datasets/%00", "/api/v1/datasets/%00/versions",
    "/api/v1/datasets/%00/terms", "/api/v1/datasets/%00/removals", "/api/v1/provenance/keys/%00.pem",
    "/api/v1/organizations/a%00b", "/api/v1/datasets?%00=1",
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_character_in_the_url_is_refused(url: str, key_client: tuple[User, APIClient]) -> None:
    _, client = key_client
    response = client.get(url)
    assert response.status_code == 400
    assert response.json() == {
        "error": "The URL cannot contain the NUL character (%00).",
        "message": "The URL cannot contain the NUL character (%00).",
    }


@pytest.mark.django_db
def test_a_nul_character_in_a_page_url_is_refused_as_text() -> None:
    response = APIClient().get("/datasets/?task=%00")
    assert response.status_code == 400
    assert response.content.decode() == "The URL cannot contain the NUL character (%00)."


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/datasets?page=99999999999999999999999", "/api/v1/datasets?page=10000001"])
def test_a_page_beyond_any_catalog_is_a_clear_400(url: str) -> None:
    # (page - 1) * limit overflowed the SQL OFFSET: a 500.
    response = APIClient().get(url)
    assert response.status_code == 400
    assert "must be at most 10000000" in response.json()["message"]


@pytest.mark.django_db
def test_an_impossible_date_is_a_clear_400(key_client: tuple[User, APIClient]) -> None:
    # Django's date parsers raise on well-formed impossible dates (2024-13-01): this was a 500.
    user, client = key_client
    approve_organization(organization=organization("date-lab", owner=user))
    submission = drafts.create_submission(user=user, name="Dates")
    url = f"/api/v1/submissions/{submission.id}"
    response = client.put(f"{url}/consent", {**consent_payload(), "collectionStart": "2024-13-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"collectionStart": ["must be a date as YYYY-MM-DD"]}
    assert client.put(f"{url}/consent", consent_payload(), format="json").status_code == 200

    terms = consent.current_terms(submission)
    assert terms is not None
    record = {"contributorId": "c-1", "termsSha256": terms.consent_text_sha256, "givenAt": "2025-02-30T10:00:00Z"}
    response = client.post(f"{url}/consent/records", {"records": [record]}, format="json")
    assert response.status_code == 400
    assert "record 1" in response.json()["message"]
    assert not ConsentRecord.objects.exists()


@pytest.mark.django_db
def test_text_longer_than_its_column_is_a_clear_400(key_client: tuple[User, APIClient]) -> None:
    # A datasheet text, an upload's filename or a payee's name over the column's length failed in the
    # INSERT (500). The schema now documents the limits, so the fuzzer's invalid cases send such texts.
    user, client = key_client
    approve_organization(organization=organization("long-lab", owner=user))
    submission = drafts.create_submission(user=user, name="Long")
    response = client.patch(
        f"/api/submissions/{submission.id}", {"name": "n" * 256, "locale": "en", "format": "f" * 51}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": ["is longer than 255 characters"],  # the platform document's limit
        "format": ["is longer than 50 characters"],
    }
    submission.refresh_from_db()
    assert (submission.name, submission.locale, submission.format) == ("Long", "", "")

    start = {"submissionId": submission.id, "filename": "a" * 250 + ".tar.gz", "fileSize": 10}
    response = client.post("/api/uploads", {**start, "mimeType": "application/gzip"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"filename": ["is longer than 255 characters"]}
    assert not Upload.objects.exists()

    payee = {"name": "n" * 201, "email": "ann@example.org", "basisPoints": 10_000}
    response = client.put(f"/api/v1/submissions/{submission.id}/contributors", {"contributors": [payee]}, format="json")
    assert response.status_code == 400
    assert "contributor 1: the name is longer than 200 characters" in response.json()["message"]
    assert not RevenueShare.objects.exists()
