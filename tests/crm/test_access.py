"""Who may open what: login everywhere, roles by permission, accounts never mixed."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from crm.models import Contact, Membership
from crm.roles import ROLE_PERMISSIONS, Role
from tests.support.factories import make_user
from tests.walks.test_url_walk import API_URLS, all_urls


def test_login_page_logs_in_and_lands_on_the_overview(client, agent, line):
    page = client.get(reverse("login"))
    assert b'<label for="id_username">Username</label>' in page.content
    response = client.post(reverse("login"), {"username": agent.username, "password": "pw"})
    assert response.status_code == 302
    overview = client.get(response["Location"])
    assert overview.status_code == 200
    assert b"Sales" in overview.content


def test_wrong_password_shows_an_error_and_stays_logged_out(client, agent):
    response = client.post(reverse("login"), {"username": agent.username, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert client.get(reverse("home")).status_code == 302


def test_logout_needs_post_and_ends_the_session(client, agent):
    client.force_login(agent)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_user_without_account_gets_a_clear_403(client, django_user_model, db):
    user = django_user_model.objects.create_user(username="loner", password="pw")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"not a member of any account" in response.content


def test_overview_shows_only_the_users_account(client, agent, line, other_line):
    client.force_login(agent)
    response = client.get(reverse("home"))
    assert line.name.encode() in response.content
    assert other_line.name.encode() not in response.content


def test_overview_query_count_does_not_grow_with_lines(
    client, agent, account, django_assert_max_num_queries
):
    client.force_login(agent)
    counts = []
    for extra in (1, 20):
        for n in range(extra):
            account.lines.create(number=f"+1415555{len(counts)}{n:03d}", name=f"L{extra}-{n}")
        with django_assert_max_num_queries(20) as captured:
            assert client.get(reverse("home")).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_role_groups_hold_exactly_their_permissions(db):
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        assert set(group.permissions.values_list("codename", flat=True)) == set(codenames)


@pytest.fixture
def account_staff(account):
    return make_user(account, Role.ADMIN, username="account-staff", is_staff=True)


def grant_admin_view(user):
    user.user_permissions.add(*Permission.objects.filter(codename="view_contact"))


def test_staff_of_one_account_do_not_see_another_accounts_objects_in_admin(
    client, account_staff, contact, other_contact
):
    grant_admin_view(account_staff)
    client.force_login(account_staff)
    changelist = client.get(reverse("admin:crm_contact_changelist"))
    assert changelist.status_code == 200
    assert b"Ada Lovelace" in changelist.content
    assert b"Globex Ada" not in changelist.content
    own = client.get(reverse("admin:crm_contact_change", args=[contact.pk]))
    assert own.status_code == 200
    foreign = client.get(reverse("admin:crm_contact_change", args=[other_contact.pk]), follow=True)
    assert b"Globex Ada" not in foreign.content
    assert b"doesn\xe2\x80\x99t exist" in foreign.content


def test_scoped_querysets_never_return_another_accounts_rows(account, contact, other_contact):
    assert list(Contact.objects.for_account(account)) == [contact]


@pytest.mark.urls("tests.support.scoping_urls")
def test_account_views_give_404_for_another_accounts_object(client, agent, contact, other_contact):
    client.force_login(agent)
    assert client.get(f"/probe/{contact.pk}/").status_code == 200
    assert client.get(f"/probe/{other_contact.pk}/").status_code == 404
    assert client.get("/probe/999999/").status_code == 404


@pytest.mark.urls("tests.support.scoping_urls")
def test_account_views_give_403_without_the_permission(client, contact, django_user_model, account):
    user = django_user_model.objects.create_user(username="no-role", password="pw")
    Membership.objects.create(user=user, account=account)
    client.force_login(user)
    assert client.get(f"/probe/{contact.pk}/").status_code == 403


def test_admin_relation_choices_are_limited_to_the_staff_users_account(
    client, account_staff, line, other_line
):
    account_staff.user_permissions.add(*Permission.objects.filter(codename="add_contact"))
    client.force_login(account_staff)
    form = client.get(reverse("admin:crm_contact_add")).content.decode()
    assert "Acme Plumbing" in form
    assert "Globex" not in form


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:crm_contact_changelist",
        "admin:crm_line_changelist",
        "admin:crm_consentevent_changelist",
        "admin:crm_contactimport_changelist",
        "admin:conversations_message_changelist",
    ],
)
def test_admin_filters_never_name_another_accounts_lines_or_account(
    client, account_staff, contact, line, other_contact, other_line, changelist
):
    from crm import consent
    from crm.models import ConsentSource

    for who, where in ((contact, line), (other_contact, other_line)):
        consent.opt_out(contact=who, line=where, source=ConsentSource.AGENT, user=account_staff)
    account_staff.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(account_staff)
    page = client.get(reverse(changelist)).content.decode()
    assert "Globex" not in page


# They authenticate by signature or API key instead of a session.
NOT_SESSIONS = {"twilio-inbound-message", "twilio-status"}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), list(all_urls()), ids=lambda value: str(value))
def test_every_post_without_a_csrf_token_is_refused_except_webhooks(admin_user, name, url):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(url, {"anything": "1"})
    if name in NOT_SESSIONS | set(API_URLS):
        assert b"CSRF" not in response.content
    else:
        assert response.status_code == 403, url
        assert b"CSRF" in response.content
