"""Staff who are not superusers manage only the ordinary users of their own account.

Never a superuser, never other staff, never another account's users: otherwise a staff member
could set a superuser's password and take the whole site over.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.models import Membership
from crm.roles import Role
from tests.support.factories import make_user


@pytest.fixture
def staff(account):
    """Staff of the account holding every permission there is, short of superuser."""
    user = make_user(account, Role.ADMIN, username="acme-staff", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def superuser(account):
    return make_user(account, Role.ADMIN, username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def other_staff(account):
    return make_user(account, Role.ADMIN, username="acme-other-staff", is_staff=True)


def user_form(user, **changes) -> dict:
    """The admin's change form for `user`, as posted, with `changes`."""
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "groups": [group.pk for group in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **changes,
    }


@pytest.mark.parametrize("target", ["superuser", "other_staff", "other_accounts_agent"])
def test_staff_cannot_reach_superusers_other_staff_or_other_accounts_users(
    client, staff, target, request, other_account
):
    if target == "other_accounts_agent":
        victim = make_user(other_account, Role.AGENT, username="globex-agent")
    else:
        victim = request.getfixturevalue(target)
    client.force_login(staff)

    listing = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert victim.username not in listing
    change = client.get(reverse("admin:auth_user_change", args=[victim.pk]), follow=True)
    assert change.redirect_chain[-1] == (reverse("admin:index"), 302)

    password = reverse("admin:auth_user_password_change", args=[victim.pk])
    client.post(password, {"password1": "taken-over-9", "password2": "taken-over-9"})
    client.post(
        reverse("admin:auth_user_change", args=[victim.pk]), user_form(victim, is_active="")
    )
    victim.refresh_from_db()
    assert victim.check_password("pw")
    assert victim.is_active

    memberships = client.get(reverse("admin:crm_membership_changelist")).content.decode()
    assert victim.username not in memberships


def test_staff_manage_the_ordinary_users_of_their_account(client, staff, agent):
    client.force_login(staff)
    assert agent.username in client.get(reverse("admin:auth_user_changelist")).content.decode()
    password = reverse("admin:auth_user_password_change", args=[agent.pk])
    response = client.post(password, {"password1": "a-new-secret-9", "password2": "a-new-secret-9"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a-new-secret-9")
    response = client.post(
        reverse("admin:auth_user_change", args=[agent.pk]), user_form(agent, is_active="")
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active


def test_staff_cannot_claim_a_user_by_making_a_membership(client, staff, account, superuser):
    loner = get_user_model().objects.create_user(username="loner", password="pw")
    client.force_login(staff)
    assert client.get(reverse("admin:crm_membership_add")).status_code == 403
    client.post(reverse("admin:crm_membership_add"), {"user": loner.pk, "account": account.pk})
    assert not Membership.objects.filter(user=loner).exists()
    mine = client.get(reverse("admin:crm_membership_change", args=[staff.membership.pk]))
    assert mine.status_code == 302  # his own membership is a staff user's: not his to change


def test_superusers_still_manage_everyone(client, superuser, staff, other_account):
    client.force_login(superuser)
    listing = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert staff.username in listing
    password = reverse("admin:auth_user_password_change", args=[staff.pk])
    client.post(password, {"password1": "a-new-secret-9", "password2": "a-new-secret-9"})
    staff.refresh_from_db()
    assert staff.check_password("a-new-secret-9")


def test_staff_of_no_account_manage_no_users(client, db):
    loner = get_user_model().objects.create_user(username="loner", password="pw")
    staff = get_user_model().objects.create_user(username="drifter", password="pw", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    assert "loner" not in client.get(reverse("admin:auth_user_changelist")).content.decode()
    password = reverse("admin:auth_user_password_change", args=[loner.pk])
    client.post(password, {"password1": "taken-over-9", "password2": "taken-over-9"})
    loner.refresh_from_db()
    assert loner.check_password("pw")


def test_staff_cannot_remove_a_member_from_the_account(client, staff, agent):
    client.force_login(staff)
    delete = reverse("admin:crm_membership_delete", args=[agent.membership.pk])
    client.post(delete, {"post": "yes"})
    assert Membership.objects.filter(user=agent).exists()
