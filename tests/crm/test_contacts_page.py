"""CRM > Contacts through the Django test client: table, filters, modal, detail, edit, export."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import consent
from crm.models import ConsentSource, ConsentStatus, Contact, Line
from tests.support.downloads import csv_rows
from tests.support.factories import ConversationFactory, keyword_consent


def add_contacts(account, count, start=0):
    return Contact.objects.bulk_create(
        Contact(account=account, phone=f"+1202555{start + n:04d}", name=f"Person {start + n:04d}")
        for n in range(count)
    )


def page_text(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_table_lists_the_accounts_contacts_newest_first_with_a_view_button(
    agent_client, account, other_contact
):
    first, _second = add_contacts(account, 2)
    page = page_text(agent_client, reverse("contacts"))
    assert page.index("Person 0001") < page.index("Person 0000")
    assert "Globex Ada" not in page
    assert page.count(">View<") == 2
    assert f'href="/crm/contacts/{first.pk}/consent/"' in page
    assert "(202) 555-0000" in page


def test_search_by_name_or_number_digits(agent_client, account):
    add_contacts(account, 3)
    Contact.objects.create(account=account, phone="+14155559876", name="Zed")
    assert "Zed" not in page_text(agent_client, reverse("contacts"), q="Person")
    page = page_text(agent_client, reverse("contacts"), q="415 555 98")
    assert "Zed" in page
    assert "Person" not in page


def test_filter_by_consent_status_on_a_chosen_line(agent_client, account, line, second_line, agent):
    opted_in, opted_out, undefined, other_line_only = add_contacts(account, 4)
    keyword_consent(opted_in, line, ConsentStatus.OPTED_IN)
    keyword_consent(opted_out, line, ConsentStatus.OPTED_OUT)
    keyword_consent(other_line_only, second_line, ConsentStatus.OPTED_OUT)

    def names(status):
        page = page_text(agent_client, reverse("contacts"), line=line.pk, consent=status)
        return {c.name for c in (opted_in, opted_out, undefined, other_line_only) if c.name in page}

    assert names("opted_in") == {"Person 0000"}
    assert names("opted_out") == {"Person 0001"}
    assert names("not_defined") == {"Person 0002", "Person 0003"}
    page = page_text(agent_client, reverse("contacts"), line=line.pk)
    assert "Status on Sales" in page
    assert page.count("✕</span> Opted out") == 1


def test_status_filter_without_a_line_and_forged_lines_are_form_errors(
    agent_client, account, other_line
):
    add_contacts(account, 1)
    page = page_text(agent_client, reverse("contacts"), consent="opted_out")
    assert "Choose the line whose consent status to filter by." in page
    assert "Person 0000" not in page
    page = page_text(agent_client, reverse("contacts"), line=other_line.pk)
    assert "Select a valid choice" in page
    assert "Person 0000" not in page


def test_sorting_by_name_and_number(agent_client, account):
    Contact.objects.create(account=account, phone="+12025550199", name="Abe")
    Contact.objects.create(account=account, phone="+12025550100", name="Zoe")
    page = page_text(agent_client, reverse("contacts"), sort="name")
    assert page.index("Abe") < page.index("Zoe")
    page = page_text(agent_client, reverse("contacts"), sort="-name")
    assert page.index("Zoe") < page.index("Abe")
    page = page_text(agent_client, reverse("contacts"), sort="phone")
    assert page.index("Zoe") < page.index("Abe")
    assert 'aria-sort="ascending"' in page


def test_pages_are_served_without_counting_every_contact(agent_client, account):
    add_contacts(account, 30)
    with CaptureQueriesContext(connection) as captured:
        first = page_text(agent_client, reverse("contacts"))
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()]
    assert "Next →" in first
    assert "Person 0029" in first
    assert "Person 0004" not in first
    second = page_text(agent_client, reverse("contacts"), page=2)
    assert "Person 0004" in second
    assert "Person 0000" in second
    assert "Next →" not in second


@pytest.mark.parametrize("url_name", ["contacts", "contact-consent", "contact"])
def test_query_count_does_not_grow_with_contacts_or_lines(agent_client, account, url_name):
    def queries():
        contact = Contact.objects.filter(account=account).first()
        url = reverse(url_name, args=[contact.pk] if url_name != "contacts" else [])
        with CaptureQueriesContext(connection) as captured:
            agent_client.get(url)
            agent_client.get(url, HTTP_HX_REQUEST="true")
        return len(captured)

    first, _ = add_contacts(account, 2)
    keyword_consent(
        first, Line.objects.create(account=account, number="+14155550150", name="L0"), "opted_in"
    )
    few = queries()
    add_contacts(account, 40, start=100)
    for n in range(1, 6):
        line = Line.objects.create(account=account, number=f"+1415555016{n}", name=f"L{n}")
        for contact in Contact.objects.filter(account=account)[:10]:
            keyword_consent(contact, line, ConsentStatus.OPTED_OUT)
    assert queries() == few


def test_modal_lists_every_line_with_not_defined_where_there_is_no_record(
    agent_client, account, line, second_line, contact, django_assert_max_num_queries
):
    keyword_consent(contact, line, ConsentStatus.OPTED_OUT)
    keyword_consent(contact, second_line, ConsentStatus.OPTED_IN)
    added_later = Line.objects.create(account=account, number="+14155550177", name="Billing")
    url = reverse("contact-consent", args=[contact.pk])
    response = agent_client.get(url, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert response["Vary"].count("HX-Request") == 1
    rows = {
        number: fragment.split(f'data-line="{number}"')[1].split("</tr>")[0]
        for number in (line.number, second_line.number, added_later.number)
    }
    assert "✕</span> Opted out" in rows[line.number]
    assert "Keyword “STOP”" in rows[line.number]
    assert "✓</span> Opted in" in rows[second_line.number]
    assert "Not Defined" in rows[added_later.number]
    assert 'id="consent-dialog-title"' in fragment
    page = page_text(agent_client, url)
    assert "<html" in page
    assert "Not Defined" in page
    assert "← Contacts" in page


def test_other_accounts_contacts_are_404_everywhere(agent_client, other_contact):
    for name in ("contact", "contact-consent", "contact-edit"):
        url = reverse(name, args=[other_contact.pk])
        assert agent_client.get(url).status_code == 404
        assert agent_client.get(url, HTTP_HX_REQUEST="true").status_code == 404
    response = agent_client.post(
        reverse("contact-edit", args=[other_contact.pk]), {"name": "x", "phone": "+12025550143"}
    )
    assert response.status_code == 404
    other_contact.refresh_from_db()
    assert other_contact.name == "Globex Ada"


def test_detail_shows_the_whole_history_newest_first_and_conversations(
    agent_client, account, line, contact, admin_user, agent
):
    stop = keyword_consent(contact, line, ConsentStatus.OPTED_OUT)
    consent.record_consent(
        contact=contact,
        line=line,
        status=ConsentStatus.OPTED_IN,
        source=ConsentSource.AGENT,
        user=admin_user,
        note="signed paper form",
    )
    page = page_text(agent_client, reverse("contact", args=[contact.pk]))
    history = page.split("Consent history")[1]
    assert history.index("signed paper form") < history.index("“STOP”")
    assert f"by {admin_user.username}" in history
    assert f'href="/conversations/messages/{stop.message_id}/"' in history
    assert "Ada Lovelace" in page


def test_message_link_opens_its_conversation(agent_client, account, line, contact):

    stop = keyword_consent(contact, line, ConsentStatus.OPTED_OUT)
    conversation = ConversationFactory(
        account=account, contact=contact, line=line, last_message_at=stop.occurred_at
    )
    response = agent_client.get(reverse("conversation-message", args=[stop.message_id]))
    assert response.status_code == 302
    assert response["Location"] == f"/conversations/{conversation.pk}/#message-{stop.message_id}"


def test_create_normalises_the_number_and_refuses_duplicates(agent_client, account, contact):
    response = agent_client.post(
        reverse("contact-create"), {"name": "Grace", "phone": "(202) 555-0177", "email": ""}
    )
    grace = Contact.objects.get(account=account, name="Grace")
    assert response.status_code == 302
    assert grace.phone == "+12025550177"
    page = agent_client.post(
        reverse("contact-create"), {"name": "Dup", "phone": "202-555-0143"}
    ).content.decode()
    assert "Another contact already has this number." in page
    page = agent_client.post(reverse("contact-create"), {"phone": "12345"}).content.decode()
    assert "is not a valid phone number" in page or "is not a phone number" in page
    assert not Contact.objects.filter(name="Dup").exists()


def test_edit_name_and_email_and_the_number_only_without_evidence(
    agent_client, account, line, contact
):
    url = reverse("contact-edit", args=[contact.pk])
    agent_client.post(url, {"name": "Ada King", "email": "ada@example.com", "phone": "2025550144"})
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.phone) == (
        "Ada King",
        "ada@example.com",
        "+12025550144",
    )
    keyword_consent(contact, line, ConsentStatus.OPTED_OUT)
    agent_client.post(url, {"name": "Ada", "email": "", "phone": "+12025550199"})
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("Ada", "+12025550144")
    assert "The number cannot change" in page_text(agent_client, url)
    page = agent_client.post(url, {"name": "Ada", "email": "not-an-email"}).content.decode()
    assert "Enter a valid email address." in page


def test_export_streams_the_filtered_rows_with_every_lines_status(
    agent_client, account, line, second_line
):
    safe, formula = add_contacts(account, 2)
    formula.name = '=HYPERLINK("http://evil")'
    formula.save()
    keyword_consent(safe, line, ConsentStatus.OPTED_OUT)
    response = agent_client.get(
        reverse("contacts-export"), {"line": line.pk, "consent": "opted_out"}
    )
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [
        "Name",
        "Phone",
        "E-mail",
        "Added",
        "Consent: Sales (+14155550100)",
        "Consent: Support (+14155550101)",
    ]
    assert [row[:2] + row[4:] for row in rows[1:]] == [
        ["Person 0000", "+12025550000", "opted_out", ""]
    ]
    everyone = agent_client.get(reverse("contacts-export"))
    rows = csv_rows(everyone)
    assert ['\'=HYPERLINK("http://evil")', "+12025550001"] in [row[:2] for row in rows]
    bad = agent_client.get(reverse("contacts-export"), {"consent": "opted_out"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "page", ["abc", "-1", "1e3", "0", "99999", "999999999999999999999999999999"]
)
def test_odd_page_numbers_show_the_first_page(agent_client, account, page):
    add_contacts(account, 3)
    response = agent_client.get(reverse("contacts"), {"page": page})
    assert response.status_code == 200
    assert "Person 0002" in response.content.decode()


def test_rows_per_page_are_capped_and_the_page_is_read_once(agent_client, account):
    add_contacts(account, 120)
    with CaptureQueriesContext(connection) as captured:
        page = page_text(agent_client, reverse("contacts"), per_page=100000)
    assert page.count(">View<") == 100
    assert len([q for q in captured if 'FROM "crm_contact"' in q["sql"]]) == 1


def test_history_shows_a_refused_import_as_asked_but_not_applied(
    agent_client, account, line, contact
):
    keyword_consent(contact, line, ConsentStatus.OPTED_OUT)
    consent.opt_in(contact=contact, line=line, source=ConsentSource.IMPORT, note="old.csv")
    page = page_text(agent_client, reverse("contact", args=[contact.pk]))
    refused_row = page.split("Refused: needs explicit opt-in")[0].rsplit("<tr>", 1)[1]
    asked, before, after = refused_row.split("<td>")[3:6]
    assert "Opted in" in asked
    assert "Opted out" in before
    assert "Opted out" in after
