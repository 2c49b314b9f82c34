"""Every URL of the project, walked as everyone who could ask for it.

`DECISIONS` says, for each named page, who may use it and with which object; the project's URL
patterns are read back and compared with it, so a new URL without a decision fails here. Each
page is then asked for by anonymous visitors, by each role, and by a user of another account
handed this account's object ids (every method the view answers, htmx fragments included).
Admin URLs follow one rule: staff only, and another account's objects do not exist.
"""

import re

import pytest
from django.apps import apps
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import get_resolver, resolve, reverse

from api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from broadcasts.models import Broadcast
from conversations.models import Conversation, Message
from crm.models import (
    Account,
    Consent,
    ConsentAnchor,
    ConsentEvent,
    ConsentLogVerification,
    Contact,
    ContactImport,
    Line,
    Membership,
)
from crm.roles import Role
from keywords.models import KeywordResponder
from tests.support.factories import make_user
from tests.support.pages import ADMINS, DECISIONS, Decision, page_url

pytestmark = pytest.mark.sweep  # long: CI runs it, an everyday run may not

# Open to anyone, with what an anonymous GET gets: the webhooks authenticate by signature and
# answer POST only; logging out (POST) needs no session, and a GET of it goes to the login page.
PUBLIC_URLS = {
    "healthz": 200,
    "login": 200,
    "logout": 302,
    "admin:login": 200,
    "twilio-inbound-message": 405,
    "twilio-status": 405,
}
# The API answers keys, not sessions (tests/api walks it with keys): 401 without one. Its
# schema and docs are public.
API_URLS = {
    "api-lines": 401,
    "api-consent": 401,
    "api-consent-events": 401,
    "api-messages": 401,
    "api-message": 401,
    "api-contact-list": 401,
    "api-contact-detail": 401,
    "api-schema": 200,
    "api-docs": 200,
}
PUBLIC_URLS.update(API_URLS)


def url_patterns():
    """Every URL pattern of the project as (name, pattern with `<…name>` placeholders)."""
    for _view, regex, namespace, name in extract_views_from_urlpatterns(
        get_resolver().url_patterns
    ):
        yield ":".join([*(namespace or []), name or ""]), simplify_regex(regex)


def fill(pattern: str, **values) -> str:
    """The pattern with each placeholder set to its value in `values`, or to 1."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values.get(match.group(1), 1)), pattern)


def all_urls():
    """Every URL of the project, each placeholder set to 1."""
    for name, pattern in url_patterns():
        yield name, fill(pattern)


def is_admin(name: str) -> bool:
    return name.startswith("admin:")


PAGES = [(name, url) for name, url in all_urls() if not is_admin(name) and name not in PUBLIC_URLS]
ADMIN_PATTERNS = [
    (name, pattern)
    for name, pattern in url_patterns()
    if is_admin(name) and name not in PUBLIC_URLS
]


def test_every_url_has_a_decision():
    assert {name for name, _ in PAGES} == set(DECISIONS)


@pytest.mark.parametrize("name", DECISIONS)
def test_each_decision_names_exactly_the_methods_the_view_answers(name):
    view = resolve(page_url(name, 1)).func.view_class
    decision = DECISIONS[name]
    assert (decision.get is not None) == hasattr(view, "get"), name
    assert (decision.post is not None) == hasattr(view, "post"), name


def methods(decision: Decision) -> list[tuple[str, int]]:
    return [
        (method, status)
        for method, status in (("get", decision.get), ("post", decision.post))
        if status is not None
    ]


def assert_no_trace_of_the_other_account(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"globex" not in content.lower()


# A POST that would change something on every page that takes one, were it allowed.
MEANINGFUL_POST = {
    "status": "closed",
    "is_active": "false",
    "consent": "opted_in",
    "decision": "dismiss",
    "note": "walked",
    "body": "Walked in",
    "name": "Walked",
    "phone": "+12025550177",
}


def fingerprint(world: dict) -> dict:
    """What a forbidden request must leave exactly as it was."""
    account = world["account"]
    return {
        "contacts": list(Contact.objects.for_account(account).values("name", "phone")),
        "conversations": list(Conversation.objects.for_account(account).values("status")),
        "responders": list(KeywordResponder.objects.for_account(account).values("is_active")),
        "imports": list(account.imports.values("status")),
        "broadcasts": list(account.broadcasts.values("status")),
        "api_keys": list(account.api_keys.values("revoked_at")),
        "webhooks": list(account.webhook_endpoints.values("url", "is_active")),
        "deliveries": list(
            WebhookDelivery.objects.for_account(account).values("status", "next_attempt_at")
        ),
        "messages": account.lines.get().messages.count(),
        "events": account.lines.get().consent_events.count(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), list(all_urls()), ids=lambda value: str(value))
def test_every_url_needs_login_except_the_public_ones(client, name, url):
    response = client.get(url)
    if name in PUBLIC_URLS:
        assert response.status_code == PUBLIC_URLS[name]
    else:
        assert response.status_code == 302, url
        assert response["Location"].startswith(("/login/", "/admin/login/")), url


def user_with(role: str, world: dict, django_user_model):
    """A user of the world's account holding `role`; "no role" is a member without one, and
    "no account" a user belonging to none."""
    account = world["line"].account
    if role in Role.values:
        return world["admin"] if role == ADMINS else make_user(account, Role(role))
    user = django_user_model.objects.create_user(username=role.replace(" ", "-"), password="pw")
    if role == "no role":
        account.memberships.create(user=user)
    return user


@pytest.mark.parametrize("role", [*Role.values, "no role", "no account"])
@pytest.mark.parametrize("name", DECISIONS)
def test_each_role_gets_its_pages_and_403_on_the_others(client, own, name, role, django_user_model):
    decision = DECISIONS[name]
    client.force_login(user_with(role, own, django_user_model))
    url = page_url(name, own[decision.obj].pk if decision.obj else 0)
    allowed = role in decision.roles
    for method, status in methods(decision):
        response = getattr(client, method)(url)
        assert response.status_code == (status if allowed else 403), (method, url)
    if decision.htmx:
        fragment = client.get(url, headers={"HX-Request": "true"})
        assert fragment.status_code == (200 if allowed else 403)
        assert (b"<html" in fragment.content) is not allowed


@pytest.mark.parametrize("name", [name for name, decision in DECISIONS.items() if decision.obj])
def test_another_accounts_object_ids_are_404_and_change_nothing(client, own, foreign, name):
    decision = DECISIONS[name]
    client.force_login(own["admin"])  # holds every permission a page asks for
    url = page_url(name, foreign[decision.obj].pk)
    before = fingerprint(foreign)
    for method, _ in methods(decision):
        data = MEANINGFUL_POST if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 404, (method, url)
        htmx = getattr(client, method)(url, data, headers={"HX-Request": "true"})
        assert htmx.status_code == 404, (method, url)
    assert fingerprint(foreign) == before


@pytest.mark.parametrize(
    "name", [name for name, decision in DECISIONS.items() if not decision.obj and decision.get]
)
def test_pages_given_another_accounts_line_show_none_of_its_data(client, own, foreign, name):
    client.force_login(own["admin"])
    line = foreign["line"].pk
    query = {"line": line, "lines": line, "status": "opted_out", "consent": "opted_out"}
    response = client.get(reverse(name, args=DECISIONS[name].args), query)
    assert response.status_code < 500
    assert_no_trace_of_the_other_account(response)


@pytest.fixture
def staff(own):
    """A staff user of the account holding every permission there is, short of superuser."""
    user = make_user(own["line"].account, Role.ADMIN, username="acme-staff", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


def admin_objects(world: dict) -> dict:
    """The object of each admin model in a world."""
    contact, line = world["contact"], world["line"]
    return {
        Account: line.account,
        Membership: world["admin"].membership,
        get_user_model(): world["admin"],
        Line: line,
        Contact: contact,
        Consent: Consent.objects.get(contact=contact, line=line),
        ConsentEvent: contact.consent_events.get(),
        ConsentAnchor: world["anchor"],
        ConsentLogVerification: world["verification"],
        ContactImport: world["import"],
        Conversation: world["conversation"],
        Message: world["message"],
        KeywordResponder: world["responder"],
        Broadcast: world["broadcast"],
        ApiKey: world["api_key"],
        WebhookEndpoint: world["webhook"],
        WebhookDelivery: world["delivery"],
    }


# Role groups are the same for every account; staff other than superusers only look at them.
SHARED_ADMIN_MODELS = {Group}


def admin_model(pattern: str):
    app_label, model_name = re.match(r"/admin/(\w+)/(\w+)/", pattern).groups()
    return apps.get_model(app_label, model_name)


OBJECT_PATTERNS = [
    (name, pattern)
    for name, pattern in ADMIN_PATTERNS
    if re.search(r"<(path:)?(object_)?id>", pattern)
    and "content_type_id" not in pattern
    and admin_model(pattern) not in SHARED_ADMIN_MODELS
]
OTHER_ADMIN_PATTERNS = [entry for entry in ADMIN_PATTERNS if entry not in OBJECT_PATTERNS]


@pytest.mark.parametrize("role", Role.values)
def test_admin_is_for_staff_only(client, own, role, django_user_model):
    client.force_login(user_with(role, own, django_user_model))
    for name, pattern in ADMIN_PATTERNS:
        response = client.get(fill(pattern, app_label="crm"))
        assert response.status_code == 302, name
        assert response["Location"].startswith(("/admin/login/", "/admin/")), name


@pytest.mark.parametrize(("name", "pattern"), OBJECT_PATTERNS, ids=[p for _, p in OBJECT_PATTERNS])
def test_admin_object_pages_treat_another_accounts_objects_as_missing(
    client, staff, own, foreign, name, pattern
):
    model = admin_model(pattern)
    client.force_login(staff)
    mine = admin_objects(own)[model]
    found = client.get(fill(pattern, id=mine.pk, object_id=mine.pk), follow=True)
    assert found.status_code in (200, 403), name  # 403: history is never deleted, even by staff
    assert (reverse("admin:index"), 302) not in found.redirect_chain, name
    assert_no_trace_of_the_other_account(found)

    theirs = admin_objects(foreign)[model]
    url = fill(pattern, id=theirs.pk, object_id=theirs.pk)
    before = fingerprint(foreign)
    response = client.get(url, follow=True)
    if response.status_code == 200:  # the admin's "not found": back to the index, with a message
        assert response.redirect_chain[-1] == (reverse("admin:index"), 302), name
        assert "doesn’t exist" in response.content.decode(), name
    else:
        assert response.status_code in (403, 404), name
    assert_no_trace_of_the_other_account(response)
    client.post(url, {"post": "yes", "name": "Walked", "is_superuser": "on"})
    assert fingerprint(foreign) == before
    assert type(theirs).objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(
    ("name", "pattern"), OTHER_ADMIN_PATTERNS, ids=[p for _, p in OTHER_ADMIN_PATTERNS]
)
def test_admin_lists_and_forms_show_nothing_of_another_account(
    client, staff, own, foreign, name, pattern
):
    client.force_login(staff)
    contact_type = ContentType.objects.get_for_model(Contact)
    url = fill(
        pattern, app_label="crm", content_type_id=contact_type.pk, object_id=foreign["contact"].pk
    )
    response = client.get(url)
    assert response.status_code < 500, name
    assert_no_trace_of_the_other_account(response)


def test_staff_cannot_change_the_shared_role_groups_or_raise_anyone(client, staff, own):
    client.force_login(staff)
    agents = Group.objects.get(name=Role.AGENT)
    granted = set(agents.permissions.all())
    response = client.post(
        reverse("admin:auth_group_change", args=[agents.pk]),
        {"name": "agent", "permissions": [p.pk for p in Permission.objects.all()]},
    )
    assert response.status_code == 403
    assert set(agents.permissions.all()) == granted

    member = own["admin"]
    form = client.get(reverse("admin:auth_user_change", args=[member.pk])).content.decode()
    assert 'name="is_superuser"' not in form
    assert 'name="user_permissions"' not in form
    assert 'name="groups"' in form  # roles stay the account's to give
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
