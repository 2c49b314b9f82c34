"""Account settings (admins): replies, phrase policy, and each line's name and consent policy."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import Account, ConsentPolicy, RevocationPolicy
from crm.selectors import language_packs
from crm.services import LANGUAGE_REPLIES, line_create
from tests.support.factories import ResponderFactory
from tests.support.webhook_client import inbound_params


def settings_data(account, lines, **overrides):
    data = {
        "account-name": account.name,
        "account-help_contact": account.help_contact,
        "account-opt_out_reply": account.opt_out_reply,
        "account-opt_in_reply": account.opt_in_reply,
        "account-help_reply": account.help_reply,
        "account-revocation_policy": account.revocation_policy,
        "account-opt_out_scope": account.opt_out_scope,
        "account-opt_out_all_reply": account.opt_out_all_reply,
        "account-quiet_hours_start": f"{account.quiet_hours_start:%H:%M}",
        "account-quiet_hours_end": f"{account.quiet_hours_end:%H:%M}",
        "account-time_zone": account.time_zone,
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(len(lines)),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, line in enumerate(lines):
        data[f"lines-{index}-id"] = str(line.pk)
        data[f"lines-{index}-name"] = line.name
        data[f"lines-{index}-consent_policy"] = line.consent_policy
    if account.quiet_hours_enabled:
        data["account-quiet_hours_enabled"] = "on"
    for code, pack in language_packs(account).items():
        data.update(
            {f"language-{code}-{field}": getattr(pack, field) for field in LANGUAGE_REPLIES}
        )
        if pack.is_active:
            data[f"language-{code}-is_active"] = "on"
    data.update(overrides)
    return data


def test_page_shows_the_replies_with_their_sms_count_and_the_lines(
    admin_client, account, line, second_line
):
    page = admin_client.get(reverse("account-settings")).content.decode()
    assert "Opt-out reply" in page
    assert "Sales" in page
    assert "Support" in page
    assert 'data-sms-counter="id_account-opt_out_reply"' in page
    assert "1 SMS part (GSM-7)" in page
    assert "Flag the conversation for review" in page


def test_saving_changes_the_replies_the_worker_sends_and_the_lines(
    admin_client, signed_account, line, second_line, deliver, client, outbox
):
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            signed_account,
            [line, second_line],
            **{
                "account-name": "Acme Co",
                "account-help_reply": "{account}: call {help_contact}",
                "account-help_contact": "555-0100",
                "account-revocation_policy": RevocationPolicy.FLAG,
                "lines-1-name": "Helpdesk",
                "lines-1-consent_policy": ConsentPolicy.REQUIRE_OPT_IN,
            },
        ),
    )
    assert response.status_code == 302
    account = Account.objects.get(pk=signed_account.pk)
    assert (account.name, account.revocation_policy) == ("Acme Co", RevocationPolicy.FLAG)
    second_line.refresh_from_db()
    assert (second_line.name, second_line.consent_policy) == (
        "Helpdesk",
        ConsentPolicy.REQUIRE_OPT_IN,
    )
    deliver(client, inbound_params(line, body="HELP"))
    assert [sms.body for sms in outbox] == ["Acme Co: call 555-0100"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("account-opt_out_reply", "Bye from {acount}", "Unknown placeholder {acount}"),
        ("account-help_reply", "x" * 501, "at most 500 characters"),
        ("account-name", "", "This field is required."),
        ("lines-0-consent_policy", "whatever", "Select a valid choice."),
        ("account-time_zone", "Mars/Olympus", "Unknown time zone &#x27;Mars/Olympus&#x27;"),
    ],
)
def test_bad_values_are_field_errors_and_nothing_changes(
    admin_client, account, line, field, value, error
):
    before = (account.name, account.opt_out_reply, line.consent_policy)
    page = admin_client.post(
        reverse("account-settings"), settings_data(account, [line], **{field: value})
    )
    assert page.status_code == 200
    assert error in page.content.decode()
    account.refresh_from_db()
    line.refresh_from_db()
    assert (account.name, account.opt_out_reply, line.consent_policy) == before


def test_another_accounts_line_cannot_be_renamed_through_the_form(
    admin_client, account, line, other_line
):
    data = settings_data(account, [line], **{"lines-0-id": str(other_line.pk)})
    data["lines-0-name"] = "Hijacked"
    page = admin_client.post(reverse("account-settings"), data)
    assert page.status_code == 200
    assert "not one of this account&#x27;s; reload the page." in page.content.decode()
    other_line.refresh_from_db()
    assert other_line.name == "Globex HQ"


def test_a_longer_name_that_would_overflow_a_responders_reply_is_refused(
    admin_client, account, line
):
    from keywords.models import Action

    ResponderFactory(
        account=account,
        name="Shouty",
        keywords=["SHOUT"],
        action=Action.REPLY,
        reply="{account} " * 40,
    )
    page = admin_client.post(
        reverse("account-settings"),
        settings_data(account, [line], **{"account-name": "A much longer business name"}),
    )
    text = page.content.decode()
    assert "The reply of responder “Shouty”: With {account} and {help_contact} filled in" in text
    assert '<span class="account-name">Acme Plumbing</span>' in text
    account.refresh_from_db()
    assert account.name == "Acme Plumbing"


def test_line_names_the_database_takes_for_one_are_refused_not_a_500(account, line):
    """The name check asks the database's LOWER, as the constraint does. SQLite's folds only
    ASCII, so "École" and "ÉCOLE" are one name to it (both LOWER to "École"), while Python's
    lower() tells them apart: checked in Python, the second passed and the constraint threw."""
    policy = ConsentPolicy.BLOCK_OPTED_OUT
    line_create(account=account, number="+14155550177", name="École", consent_policy=policy)
    with pytest.raises(ValidationError, match="already has this name"):
        line_create(account=account, number="+14155550178", name="ÉCOLE", consent_policy=policy)


def test_a_line_refused_by_its_rules_saves_nothing_else(admin_client, account, line, second_line):
    data = settings_data(
        account, [line, second_line], **{"account-name": "Renamed", "lines-0-name": "support"}
    )
    page = admin_client.post(reverse("account-settings"), data)
    assert page.status_code == 200
    assert "Another line of this account already has this name." in page.content.decode()
    account.refresh_from_db()
    line.refresh_from_db()
    assert (account.name, line.name) == ("Acme Plumbing", "Sales")


def test_scope_and_quiet_hours_are_saved_and_the_state_table_is_shown(admin_client, account, line):
    page = admin_client.get(reverse("account-settings")).content.decode()
    assert "Texas" in page
    assert "09:00–21:00 Mon–Sat, 12:00–21:00 Sun" in page
    assert "not legal advice" in page
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            account,
            [line],
            **{
                "account-opt_out_scope": "account",
                "account-quiet_hours_start": "09:30",
                "account-quiet_hours_end": "20:00",
            },
        ),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.opt_out_scope, f"{account.quiet_hours_start:%H:%M}") == ("account", "09:30")


@pytest.mark.parametrize(
    ("start", "end", "field", "error"),
    [
        ("21:00", "08:00", "quiet_hours_end", "later in the day than they start"),
        ("08:00", "08:00", "quiet_hours_end", "later in the day than they start"),
        ("eight", "21:00", "quiet_hours_start", "Enter a valid time"),
    ],
)
def test_quiet_hours_must_be_one_stretch_of_a_day(
    admin_client, account, line, start, end, field, error
):
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            account,
            [line],
            **{"account-quiet_hours_start": start, "account-quiet_hours_end": end},
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert error in " ".join(errors.get(field, []) + errors.get("__all__", []))
    account.refresh_from_db()
    assert f"{account.quiet_hours_end:%H:%M}" == "21:00"


def test_turning_quiet_hours_on_and_off_is_saved(admin_client, account, line):
    data = settings_data(account, [line], **{"account-quiet_hours_enabled": "on"})
    assert admin_client.post(reverse("account-settings"), data).status_code == 302
    account.refresh_from_db()
    assert account.quiet_hours_enabled is True
    del data["account-quiet_hours_enabled"]
    assert admin_client.post(reverse("account-settings"), data).status_code == 302
    account.refresh_from_db()
    assert account.quiet_hours_enabled is False


@pytest.mark.parametrize(
    ("start", "end", "state"),
    [("20:00", "21:00", "Florida"), ("08:00", "09:00", "Texas")],
)
def test_quiet_hours_that_leave_a_state_no_time_at_all_are_refused(
    admin_client, account, line, start, end, state
):
    response = admin_client.post(
        reverse("account-settings"),
        settings_data(
            account,
            [line],
            **{
                "account-quiet_hours_enabled": "on",
                "account-quiet_hours_start": start,
                "account-quiet_hours_end": end,
            },
        ),
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["quiet_hours_end"])
    assert f"no text could ever reach contacts in {state}" in errors
