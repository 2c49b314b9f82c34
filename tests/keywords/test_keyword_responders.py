"""Keyword Responders through the pages: the list, the form's rules, the tester, the banner."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from conversations.models import Direction, Message
from crm import consent
from crm.models import ConsentSource, ConsentStatus, Contact, Line
from keywords.models import Action, KeywordResponder
from keywords.selectors import decide_for_line
from tests.support.factories import ResponderFactory, inbound_message
from tests.support.webhook_client import inbound_params


def form_data(**overrides):
    data = {
        "name": "Join",
        "keywords": "JOIN",
        "updates_consent": "on",
        "direction": Action.OPT_IN,
        "reply": "Welcome to {account}!",
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(client, **overrides):
    response = client.post(reverse("responder-create"), form_data(**overrides))
    assert response.status_code == 200, "the form should have been refused"
    return response.context["form"].errors


def test_list_shows_responders_and_the_built_in_keywords_with_current_replies(
    admin_client, account, line, second_line
):
    ResponderFactory(
        account=account, name="Join sales", keywords=["JOIN", "IN"], lines=[line], reply="Welcome!"
    )
    ResponderFactory(
        account=account, name="Hours", keywords=["HOURS"], action=Action.REPLY, is_active=False
    )
    account.help_reply = "{account} help: call {help_contact}"
    account.save()
    page = admin_client.get(reverse("responders")).content.decode()
    join_row = page.split("Join sales")[1].split("</tr>")[0]
    assert '<code class="keyword">JOIN</code>' in join_row
    assert "Sales" in join_row
    assert "Opt in" in join_row
    assert "Welcome!" in join_row
    assert 'aria-checked="true"' in join_row
    hours_row = page.split(">Hours<")[1].split("</tr>")[0]
    assert "All lines" in hours_row
    assert "Reply only" in hours_row
    assert 'aria-checked="false"' in hours_row
    builtins = page.split("Built-in keywords")[1]
    assert '<code class="keyword">UNSUBSCRIBE</code>' in builtins
    assert "Acme Plumbing help: call help@acme.example" in builtins


def test_creating_a_responder_and_editing_it(admin_client, account, line, second_line):
    response = admin_client.post(
        reverse("responder-create"),
        form_data(keywords="Join, sign me up", lines=[line.pk], reply="Hi\r\nthere"),
    )
    assert response.status_code == 302
    made = KeywordResponder.objects.get()
    assert made.keyword_list == ["Join", "sign me up"]
    assert made.action == Action.OPT_IN
    assert list(made.lines.all()) == [line]
    assert made.reply == "Hi\nthere"
    response = admin_client.post(
        reverse("responder-edit", args=[made.pk]),
        form_data(keywords="JOIN", updates_consent=None, direction=None, reply=""),
    )
    made.refresh_from_db()
    assert made.action == Action.REPLY
    assert list(made.lines.all()) == []
    page = admin_client.get(reverse("responder-edit", args=[made.pk])).content.decode()
    assert 'value="JOIN"' in page
    assert "This keyword updates the contact&#x27;s opt in/out status" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"keywords": " , "}, "Enter at least one keyword."),
        ({"keywords": "A" * 31}, f"“{'A' * 31}” is longer than 30 characters."),
        ({"keywords": "?!."}, "“?!.” can never match"),
        ({"keywords": "“”"}, "can never match"),
        ({"keywords": "JOIN, join!"}, "“join!” is the same keyword as “JOIN”."),
        (
            {"keywords": "STOP", "direction": Action.OPT_IN},
            "“STOP” is a built-in opt out keyword: it always opts the contact out. Choose “Opt "
            "out” to change its reply.",
        ),
        (
            {"keywords": "Opt-Out", "updates_consent": None},
            "“Opt-Out” is a built-in opt out keyword",
        ),
        ({"direction": None}, "Choose whether the keyword opts the contact in or out."),
        ({"reply": "x" * 501}, "Ensure this value has at most 500 characters (it has 501)."),
        ({"reply": "Hi from {acount}"}, "Unknown placeholder {acount}: use {account} or"),
    ],
)
def test_form_rules_give_field_errors(admin_client, account, line, overrides, message):
    errors = errors_of(admin_client, **overrides)
    assert any(message in error for messages in errors.values() for error in messages), errors
    assert not KeywordResponder.objects.exists()


def test_a_keyword_of_another_active_responder_on_an_overlapping_line_is_refused(
    admin_client, account, line, second_line
):
    ResponderFactory(account=account, name="Sales join", keywords=["JOIN"], lines=[line])
    errors = errors_of(admin_client, keywords="join", lines=[line.pk, second_line.pk])
    assert errors["keywords"] == [
        "“join” is already a keyword of the active responder “Sales join” on Sales. Remove it "
        "there, or choose other lines."
    ]
    errors = errors_of(admin_client, keywords="JOIN")  # all lines overlap every line
    assert "Sales join" in errors["keywords"][0]
    ok = admin_client.post(
        reverse("responder-create"), form_data(keywords="JOIN", lines=[second_line.pk])
    )
    assert ok.status_code == 302
    inactive = admin_client.post(
        reverse("responder-create"), form_data(name="Later", keywords="JOIN", is_active=None)
    )
    assert inactive.status_code == 302


def test_switching_on_a_responder_whose_keyword_is_taken_is_refused(admin_client, account, line):
    ResponderFactory(account=account, name="Now", keywords=["JOIN"])
    later = ResponderFactory(account=account, name="Later", keywords=["JOIN"], is_active=False)
    page = admin_client.post(
        reverse("responder-active", args=[later.pk]), {"is_active": "true"}, follow=True
    ).content.decode()
    assert "“Later” stays off: “JOIN” is a keyword of the active responder “Now”" in page
    later.refresh_from_db()
    assert not later.is_active


def test_a_responder_made_in_the_form_answers_the_next_signed_message(
    admin_client, signed_account, line, deliver, outbox, client
):
    admin_client.post(
        reverse("responder-create"),
        form_data(keywords="JOIN", lines=[line.pk], reply="You joined {account}."),
    )
    deliver(client, inbound_params(line, body="join!"))
    contact = Contact.objects.get(phone="+12025550143")
    assert contact.consents.get(line=line).status == ConsentStatus.OPTED_IN
    assert [sms.body for sms in outbox] == ["You joined Acme Plumbing."]


TESTER_TABLE = [
    "STOP",
    "join",
    "Join!",
    "HELP",
    "HOURS",
    "please stop texting me",
    "yes please send the quote",
    "UNSUBSCRIBE",
    "Quit",
    "hello there",
]


@pytest.mark.parametrize("body", TESTER_TABLE)
def test_the_tester_and_the_worker_agree(
    admin_client, signed_account, line, deliver, client, outbox, body
):
    ResponderFactory(
        account=signed_account, name="Join", keywords=["JOIN"], lines=[line], reply="In!"
    )
    ResponderFactory(
        account=signed_account,
        name="Hours",
        keywords=["HOURS"],
        action=Action.REPLY,
        reply="9 to 5",
    )
    before = Message.objects.count()
    tested = admin_client.get(
        reverse("responders"), {"line": line.pk, "message": body}, HTTP_HX_REQUEST="true"
    )
    assert Message.objects.count() == before, "the tester must change nothing"
    outcome = tested.context["outcome"]
    deliver(client, inbound_params(line, body=body))
    stored = Message.objects.get(direction=Direction.INBOUND, body=body)
    assert stored.decision.startswith(outcome.rule)
    replies = [sms.body for sms in outbox]
    assert replies == ([outcome.reply] if outcome.reply else [])
    fragment = tested.content.decode()
    assert fragment.lstrip().startswith('<div id="tester-result"')
    assert escape(outcome.rule) in fragment


def test_the_tester_page_works_without_javascript_and_refuses_foreign_lines(
    admin_client, account, line, other_line
):
    page = admin_client.get(reverse("responders"), {"line": line.pk, "message": "STOP"})
    text = page.content.decode()
    assert "<html" in text
    assert "Built-in keyword STOP" in text
    assert "Opts the contact out</span> of Sales" in text
    assert "You have been unsubscribed from Acme Plumbing" in text
    assert "1 SMS part (GSM-7)" in text
    forged = admin_client.get(reverse("responders"), {"line": other_line.pk, "message": "STOP"})
    assert "Select a valid choice" in forged.content.decode()
    assert forged.context["outcome"] is None


def banner(client):
    page = client.get(reverse("responders")).content.decode()
    if "Missing keyword responders" not in page:
        return None
    return page.split('aria-label="Missing keyword responders"')[1].split("</div>")[0]


def test_banner_follows_responders_added_deactivated_and_removed(
    admin_client, account, line, second_line
):
    text = banner(admin_client)
    assert "No active opt in responder at all" in text
    assert "No active opt out responder at all" in text
    assert '/keywords/new/?action=opt_in"' in text
    opt_in = ResponderFactory(account=account, name="Join", keywords=["JOIN"], lines=[line])
    text = banner(admin_client)
    assert "No active opt in responder on Support." in text
    ResponderFactory(account=account, name="Join support", keywords=["JOIN2"], lines=[second_line])
    assert "opt in" not in banner(admin_client)
    opt_out = ResponderFactory(
        account=account, name="Leave", keywords=["LEAVE"], action=Action.OPT_OUT
    )
    assert banner(admin_client) is None
    admin_client.post(reverse("responder-active", args=[opt_out.pk]), {"is_active": "false"})
    assert "No active opt out responder at all" in banner(admin_client)
    admin_client.post(reverse("responder-active", args=[opt_out.pk]), {"is_active": "true"})
    assert banner(admin_client) is None
    admin_client.post(reverse("responder-delete", args=[opt_in.pk]))
    assert not KeywordResponder.objects.filter(pk=opt_in.pk).exists()
    assert "No active opt in responder on Sales." in banner(admin_client)


def test_banner_is_on_every_admin_page_but_not_for_agents(client, admin_user, agent, account, line):
    client.force_login(admin_user)
    for name in ("home", "contacts", "conversations", "account-settings", "imports"):
        assert "Missing keyword responders" in client.get(reverse(name)).content.decode()
    client.force_login(agent)
    assert "Missing keyword responders" not in client.get(reverse("home")).content.decode()


def test_delete_asks_first_and_keeps_a_responder_that_is_evidence(
    admin_client, account, line, contact
):
    spare = ResponderFactory(account=account, name="Spare", keywords=["SPARE"])
    page = admin_client.get(reverse("responder-delete", args=[spare.pk])).content.decode()
    assert "Delete “Spare”?" in page
    assert ">Delete</button>" in page
    assert KeywordResponder.objects.filter(pk=spare.pk).exists()
    used = ResponderFactory(account=account, name="Join", keywords=["JOIN"])
    consent.opt_in(
        contact=contact,
        line=line,
        source=ConsentSource.KEYWORD,
        message=inbound_message(contact, line, "JOIN"),
        responder=used,
        keyword="JOIN",
    )
    page = admin_client.get(reverse("responder-delete", args=[used.pk])).content.decode()
    assert "evidence for 1 recorded consent change" in page
    admin_client.post(reverse("responder-delete", args=[used.pk]))
    used.refresh_from_db()
    assert not used.is_active


def test_agents_and_managers_get_403_and_other_accounts_responders_404(
    client, agent, manager, admin_user, other_account
):
    theirs = ResponderFactory(account=other_account, name="Theirs", keywords=["THEIRS"])
    for user in (agent, manager):
        client.force_login(user)
        for url in (
            reverse("responders"),
            reverse("responder-create"),
            reverse("responder-edit", args=[theirs.pk]),
            reverse("account-settings"),
        ):
            assert client.get(url).status_code == 403
    client.force_login(admin_user)
    for name in ("responder-edit", "responder-delete"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
        assert client.post(reverse(name, args=[theirs.pk]), form_data()).status_code == 404
    active = client.post(reverse("responder-active", args=[theirs.pk]), {"is_active": "false"})
    assert active.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert theirs.name == "Theirs"


def test_list_query_count_does_not_grow_with_responders_or_lines(admin_client, account):
    def count():
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(
                reverse("responders"), {"line": Line.objects.first().pk, "message": "x"}
            )
        return len(captured)

    Line.objects.create(account=account, number="+14155550150", name="L0")
    ResponderFactory(account=account, name="R0", keywords=["R0"])
    few = count()
    for n in range(1, 8):
        line = Line.objects.create(account=account, number=f"+1415555016{n}", name=f"L{n}")
        ResponderFactory(account=account, name=f"R{n}", keywords=[f"R{n}"], lines=[line])
    assert count() == few


def test_line_breaks_count_once_and_replies_are_checked_filled_in(admin_client, account, line):
    reply = ("x" * 49 + "\r\n") * 10  # 500 characters as sent, 510 as posted
    assert admin_client.post(reverse("responder-create"), form_data(reply=reply)).status_code == 302
    assert KeywordResponder.objects.get().reply == (("x" * 49 + "\n") * 10).rstrip()
    account.help_contact = "h" * 200
    account.save()
    errors = errors_of(admin_client, name="Other", keywords="OTHER", reply="{help_contact}" * 3)
    assert errors["reply"] == [
        "With {account} and {help_contact} filled in, this reply is 600 characters; at most 500."
    ]


def test_forged_and_impossible_line_ids_are_choice_errors(admin_client, account, line, other_line):
    for forged in (other_line.pk, 2**63, -(2**70)):
        errors = errors_of(admin_client, lines=[forged])
        assert "Select a valid choice" in errors["lines"][0]
    assert errors_of(admin_client, lines=["abc"])["lines"] == ["“abc” is not a valid value."]


def test_at_most_twenty_keywords(admin_client, account):
    words = ", ".join(f"WORD{n}" for n in range(21))
    assert errors_of(admin_client, keywords=words)["keywords"] == [
        "At most 20 keywords per responder."
    ]


def test_the_tester_reads_nul_as_the_webhook_stores_it_and_ignores_other_params(
    admin_client, account, line
):
    page = admin_client.get(reverse("responders"), {"line": line.pk, "message": "STOP\x00"})
    assert page.context["outcome"] == decide_for_line(line, "STOP\ufffd")
    untouched = admin_client.get(reverse("responders"), {"sort": "name"})
    assert not untouched.context["tester"].is_bound
    assert "This field is required" not in untouched.content.decode()


def test_the_admins_banners_cost_one_query_each(client, admin_user, agent, account, line):
    """Missing responders and switched-off webhook endpoints: admins only."""
    ResponderFactory(account=account, name="Join", keywords=["JOIN"], lines=[line])

    def queries(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("contacts"))
        return len(captured)

    assert queries(admin_user) <= queries(agent) + 2
