"""Contact imports through the pages: upload, mapping, the task, the result and its evidence."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from crm import consent, imports
from crm.models import (
    Consent,
    ConsentEvent,
    ConsentOutcome,
    ConsentSource,
    ConsentStatus,
    Contact,
    ContactImport,
    ImportStatus,
)
from crm.roles import Role
from crm.tasks import IMPORT_MAX_RETRIES, import_contacts
from tests.support.downloads import csv_rows
from tests.support.factories import inbound_message, make_user

GOOD_AND_BAD = (
    "Name,Mobile,Email,Sales,Support\n"
    "Ann Able,(202) 555-0101,ann@example.com,opted_in,\n"
    "Bob Bad,12345,,opted_in,\n"
    "Cy Clear,+1 202 555 0103,,Opted Out,opted in\n"
    "Di Dup,202-555-0101,,,\n"
    "Ed Odd,2025550105,,maybe,\n"
    "Flo Fine,2025550106,not-an-email,,\n"
    "\n"
    "Gus Good,2025550107,,,OUT\n"
)


def upload(client, content, name="contacts.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(reverse("imports"), {"file": SimpleUploadedFile(name, data, "text/csv")})


@pytest.fixture
def import_file(admin_client, django_capture_on_commit_callbacks):
    """Upload, accept the guessed mapping, run the queued task; returns the import."""

    def run(content, name="contacts.csv"):
        with django_capture_on_commit_callbacks(execute=True):
            contact_import = upload_and_map(admin_client, content, name)
        contact_import.refresh_from_db()
        return contact_import

    return run


def upload_and_map(client, content, name="contacts.csv", mapping=None):
    response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    contact_import = ContactImport.objects.latest("id")
    if mapping is None:
        form = client.get(reverse("import-mapping", args=[contact_import.pk])).context["form"]
        mapping = {name: field.initial for name, field in form.fields.items()}
    response = client.post(reverse("import-mapping", args=[contact_import.pk]), mapping)
    assert response.status_code == 302, response.content.decode()[:3000]
    return contact_import


def statuses(account):
    return {
        (row.contact.phone, row.line.name): row.status
        for row in Consent.objects.filter(contact__account=account).select_related(
            "contact", "line"
        )
    }


def test_good_rows_import_and_bad_rows_are_reported_by_row_number(
    admin_client, account, line, second_line, import_file
):
    contact_import = import_file(GOOD_AND_BAD)
    assert contact_import.status == ImportStatus.DONE
    assert (contact_import.created_count, contact_import.updated_count) == (4, 0)
    assert contact_import.bad_count == 3
    reasons = dict(contact_import.bad_rows)
    assert set(reasons) == {3, 5, 6}
    assert reasons[3].startswith("Phone number:")
    assert reasons[5] == "Duplicate: the number +12025550101 is already on row 2."
    assert "“maybe” is not a consent status" in reasons[6]
    assert contact_import.warning_count == 1
    assert contact_import.warnings == [
        [7, "E-mail: “not-an-email” is not a valid e-mail address; imported without it."]
    ]
    assert contact_import.processed_rows == contact_import.total_rows == 7
    assert sorted(Contact.objects.values_list("name", "email")) == [
        ("Ann Able", "ann@example.com"),
        ("Cy Clear", ""),
        ("Flo Fine", ""),
        ("Gus Good", ""),
    ]
    assert statuses(account) == {
        ("+12025550101", "Sales"): ConsentStatus.OPTED_IN,
        ("+12025550103", "Sales"): ConsentStatus.OPTED_OUT,
        ("+12025550103", "Support"): ConsentStatus.OPTED_IN,
        ("+12025550107", "Support"): ConsentStatus.OPTED_OUT,
    }
    event = ConsentEvent.objects.get(contact__phone="+12025550101")
    assert event.source == ConsentSource.IMPORT
    assert event.contact_import == contact_import
    assert event.note == "Imported from contacts.csv, row 2."
    assert event.occurred_at == contact_import.undated_at

    page = admin_client.get(reverse("import", args=[contact_import.pk])).content.decode()
    assert "Done" in page
    assert "Duplicate: the number +12025550101 is already on row 2." in page
    assert 'hx-trigger="every 1s"' not in page
    announced = page.split('id="import-announcer"')[1].split("</p>")[0]
    assert "Done: 4 created, 0 updated, 0 skipped, 3 bad rows, 1 warning." in announced
    assert "Imported without a value" in page


def test_the_rows_to_fix_keep_the_files_columns_and_import_again_once_fixed(
    admin_client, account, line, second_line, import_file
):
    contact_import = import_file(GOOD_AND_BAD)
    response = admin_client.get(reverse("import-bad-rows", args=[contact_import.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="rows-to-fix-contacts.csv"'
    rows = csv_rows(response)
    assert rows == [
        ["Name", "Mobile", "Email", "Sales", "Support", "Problem"],
        ["Bob Bad", "12345", "", "opted_in", "", rows[1][5]],
        ["Di Dup", "202-555-0101", "", "", "", rows[2][5]],
        ["Ed Odd", "2025550105", "", "maybe", "", rows[3][5]],
        ["Flo Fine", "2025550106", "not-an-email", "", "", rows[4][5]],
    ]
    assert rows[1][5].startswith("Not imported: Phone number:")
    assert rows[4][5].startswith("E-mail: “not-an-email” is not a valid e-mail address")

    fixed = [rows[0], *rows[1:]]
    fixed[1][1] = "2025550102"
    fixed[2][1] = "2025550104"
    fixed[3][3] = "opted_in"
    fixed[4][2] = "flo@example.com"
    out = io.StringIO()
    csv.writer(out).writerows(fixed)
    again = import_file(out.getvalue(), name="fixed.csv")
    assert (again.bad_count, again.warning_count) == (0, 0)
    assert (again.created_count, again.updated_count) == (3, 1)
    assert Contact.objects.get(phone="+12025550106").email == "flo@example.com"
    assert statuses(account)[("+12025550105", "Sales")] == ConsentStatus.OPTED_IN


def test_reimporting_the_same_file_changes_nothing(
    admin_client, account, line, second_line, import_file
):
    import_file(GOOD_AND_BAD)
    before = (
        list(Contact.objects.values_list("id", "name", "email", "updated_at").order_by("id")),
        list(Consent.objects.values_list("id", "status", "since", "cause_id", "latest_at")),
        ConsentEvent.objects.count(),
    )
    again = import_file(GOOD_AND_BAD)
    after = (
        list(Contact.objects.values_list("id", "name", "email", "updated_at").order_by("id")),
        list(Consent.objects.values_list("id", "status", "since", "cause_id", "latest_at")),
        ConsentEvent.objects.count(),
    )
    assert after == before
    assert (again.created_count, again.updated_count, again.skipped_count) == (0, 0, 4)
    assert again.bad_count == 3


def test_an_import_never_lifts_an_opt_out_nor_erases_stored_details(
    admin_client, account, line, contact, import_file
):
    contact.email = "ada@example.com"
    contact.save()
    stop = consent.opt_out(
        contact=contact,
        line=line,
        source=ConsentSource.KEYWORD,
        message=inbound_message(contact, line, "STOP"),
        keyword="STOP",
    )
    content = "phone,name,email,Sales\n+12025550143,,,opted_in\n"
    first = import_file(content)
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Ada Lovelace", "ada@example.com")
    current = Consent.objects.get(contact=contact, line=line)
    assert (current.status, current.cause_id) == (ConsentStatus.OPTED_OUT, stop.pk)
    refused = ConsentEvent.objects.get(source=ConsentSource.IMPORT)
    assert refused.outcome == ConsentOutcome.REFUSED
    assert first.updated_count == 1
    second = import_file(content)
    assert ConsentEvent.objects.filter(source=ConsentSource.IMPORT).count() == 1
    assert second.skipped_count == 1


def test_dated_records_older_than_the_current_status_are_kept_but_do_not_override(
    admin_client, account, line, contact, import_file
):
    consent.opt_in(
        contact=contact,
        line=line,
        source=ConsentSource.KEYWORD,
        message=inbound_message(contact, line, "START"),
        keyword="START",
    )
    last_year = (timezone.now() - timedelta(days=365)).date().isoformat()
    content = f"phone,Sales,consent date\n+12025550143,opted_out,{last_year}\n"
    import_file(content)
    assert Consent.objects.get(contact=contact, line=line).status == ConsentStatus.OPTED_IN
    event = ConsentEvent.objects.get(source=ConsentSource.IMPORT)
    assert event.outcome == ConsentOutcome.SUPERSEDED
    assert event.occurred_at.date().isoformat() == last_year


def test_one_row_per_line_files_and_unknown_lines(
    admin_client, account, line, second_line, other_line, import_file
):
    content = (
        "phone,line,status\n"
        "2025550101,Sales,opted_out\n"
        "2025550101,+14155550101,opted_in\n"
        "2025550102,Marketing,opted_in\n"
        f"2025550103,{other_line.number},opted_in\n"
        "2025550101,sales,opted_in\n"
    )
    contact_import = import_file(content)
    reasons = dict(contact_import.bad_rows)
    assert reasons[4] == "Line: “Marketing” is not one of this account's lines."
    assert reasons[5] == f"Line: “{other_line.number}” is not one of this account's lines."
    assert reasons[6].startswith("Duplicate")
    assert statuses(account) == {
        ("+12025550101", "Sales"): ConsentStatus.OPTED_OUT,
        ("+12025550101", "Support"): ConsentStatus.OPTED_IN,
    }
    assert (contact_import.created_count, contact_import.updated_count) == (1, 1)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "The submitted file is empty."),
        (b"   \n\n", "The file is empty."),
        (b"phone,name\n", "The file has a header row but no contacts."),
        ("phone,name\n2025550101,Zoë\n".encode("cp1252"), "The file is not UTF-8 text (line 2"),
        (b"PK\x03\x04rest-of-a-workbook", "This is a spreadsheet workbook, not a CSV file."),
        (b"phone\x00,name\n1,2\n", "The file holds binary data"),
    ],
)
def test_files_that_cannot_be_read_are_refused_before_anything_is_stored(
    admin_client, account, content, error
):
    response = upload(admin_client, content)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ContactImport.objects.exists()
    assert not Contact.objects.exists()


def test_a_20_megabyte_file_is_refused(admin_client, account, contact):
    row = b"2025550101,Someone With A Long Name,someone@example.com,opted_in\n"
    content = b"phone,name,email,Sales\n" + row * (20 * 1024 * 1024 // len(row) + 1)
    page = upload(admin_client, content).content.decode()
    assert "The file is 20.0 MB; the limit is 15 MB." in page
    assert not ContactImport.objects.exists()
    assert list(Contact.objects.all()) == [contact]


def test_mapping_form_errors(admin_client, account, line):
    upload(admin_client, "name,mobile,other\nAnn,2025550101,x\n")
    contact_import = ContactImport.objects.get()
    url = reverse("import-mapping", args=[contact_import.pk])
    page = admin_client.get(url).content.decode()
    assert 'value="phone" selected' in page
    assert "2025550101" in page
    page = admin_client.post(url, {"column_0": "name", "column_1": "", "column_2": ""})
    assert "Choose the column that holds the phone number." in page.content.decode()
    page = admin_client.post(url, {"column_0": "name", "column_1": "phone", "column_2": "name"})
    assert "“Name” is chosen for more than one column (columns 1, 3)." in page.content.decode()
    page = admin_client.post(url, {"column_0": "name", "column_1": "phone", "column_2": "status"})
    assert "A consent status column needs a line column" in page.content.decode()
    page = admin_client.post(
        url, {"column_0": "name", "column_1": "phone", "column_2": "consent:999"}
    )
    assert "Select a valid choice" in page.content.decode()
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.MAPPING


def test_progress_is_polled_until_the_import_finishes(admin_client, account, line):
    upload(admin_client, "phone\n2025550101\n")
    contact_import = ContactImport.objects.get()
    imports.contact_import_queue(contact_import=contact_import, mapping={"0": "phone"})
    url = reverse("import", args=[contact_import.pk])
    fragment = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('\n<section class="card" id="import-progress"')
    assert 'hx-trigger="every 1s"' in fragment
    assert "Queued" in fragment
    assert "0 of 1 rows (0%)" in fragment
    page = admin_client.get(url).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page


def test_a_stopped_import_resumes_after_its_last_chunk(
    admin_client, account, line, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    rows = "".join(f"20255501{n:02d},opted_out\n" for n in range(10, 16))
    upload(admin_client, "phone,Sales\n" + rows)
    contact_import = ContactImport.objects.get()
    real_store = imports._store_rows
    calls = []

    def failing_store(contact_import, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_store(contact_import, rows)

    monkeypatch.setattr(imports, "_store_rows", failing_store)
    with django_capture_on_commit_callbacks(execute=True):
        imports.contact_import_queue(
            contact_import=contact_import, mapping={"0": "phone", "1": f"consent:{line.pk}"}
        )
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.FAILED
    assert contact_import.error == (
        "Stopped by an internal error after 2 rows; the rows before were imported. Resume the "
        "import to continue."
    )
    assert (contact_import.processed_rows, Contact.objects.count()) == (2, 2)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("import-resume", args=[contact_import.pk]))
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE
    assert (contact_import.created_count, contact_import.processed_rows) == (6, 6)
    assert Consent.objects.filter(status=ConsentStatus.OPTED_OUT).count() == 6


def test_exported_contacts_import_back_unchanged(
    admin_client, account, line, second_line, import_file
):
    import_file(GOOD_AND_BAD)
    events = ConsentEvent.objects.count()
    exported = b"".join(admin_client.get(reverse("contacts-export")).streaming_content)
    again = import_file(exported, name="export.csv")
    assert (again.bad_count, again.created_count, again.updated_count) == (0, 0, 0)
    assert again.skipped_count == 4
    assert ConsentEvent.objects.count() == events


def test_only_admins_import_and_other_accounts_imports_are_404(
    client, agent, manager, admin_user, other_account
):
    for user in (agent, manager):
        client.force_login(user)
        assert client.get(reverse("imports")).status_code == 403
        assert upload(client, "phone\n2025550101\n").status_code == 403
    stranger = make_user(other_account, Role.ADMIN)
    client.force_login(stranger)
    upload(client, "phone\n2025550101\n")
    theirs = ContactImport.objects.get()
    client.force_login(admin_user)
    for name in ("import", "import-mapping", "import-bad-rows"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("import-resume", args=[theirs.pk])).status_code == 404
    assert (
        client.post(reverse("import-mapping", args=[theirs.pk]), {"column_0": "phone"}).status_code
        == 404
    )


def test_semicolons_quoted_cells_and_a_byte_order_mark_are_read(admin_client, account, import_file):
    content = (
        '\ufeffName;Phone\n"Smith; Anna";+12025550101\nZoë;2025550102\n"Two\nLines";2025550103\n'
    )
    contact_import = import_file(content)
    assert contact_import.bad_rows == [[4, "Name: contains a line break."]]
    assert set(Contact.objects.values_list("name", flat=True)) == {"Smith; Anna", "Zoë"}


def test_an_unterminated_quote_refuses_the_file(admin_client, account):
    page = upload(admin_client, 'phone,name\n2025550101,"Ann\n2025550102,Bob\n').content.decode()
    assert "The file cannot be read as CSV: unexpected end of data" in page
    assert not ContactImport.objects.exists()


def test_a_file_with_too_many_columns_is_refused(admin_client, account):
    header = ",".join(f"c{n}" for n in range(101))
    page = upload(admin_client, f"{header}\n{'1,' * 100}1\n").content.decode()
    assert "The file has 101 columns; at most 100 can be imported." in page


def test_reimporting_after_the_contact_texted_start_does_not_opt_them_out_again(
    admin_client, account, line, import_file
):
    content = "phone,Sales\n+12025550143,opted_out\n"
    import_file(content)
    contact = Contact.objects.get()
    consent.opt_in(
        contact=contact,
        line=line,
        source=ConsentSource.KEYWORD,
        message=inbound_message(contact, line, "START"),
        keyword="START",
    )
    events = ConsentEvent.objects.count()
    again = import_file(content)
    assert Consent.objects.get().status == ConsentStatus.OPTED_IN
    assert ConsentEvent.objects.count() == events
    assert again.skipped_count == 1


def test_a_late_older_stop_does_not_make_a_reimport_record_again(
    admin_client, account, line, contact, import_file
):
    def keyword(body, at):
        return consent.record_consent(
            contact=contact,
            line=line,
            status=ConsentStatus.OPTED_OUT if body == "STOP" else ConsentStatus.OPTED_IN,
            source=ConsentSource.KEYWORD,
            message=inbound_message(contact, line, body, at=at),
            keyword=body,
            occurred_at=at,
        )

    keyword("STOP", timezone.now() - timedelta(hours=2))
    content = "phone,Sales\n+12025550143,opted_in\n"
    import_file(content)
    keyword("STOP", timezone.now() - timedelta(hours=3))
    events = ConsentEvent.objects.count()
    import_file(content)
    assert ConsentEvent.objects.count() == events
    assert ConsentEvent.objects.filter(outcome=ConsentOutcome.REFUSED).count() == 1


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ("2025550101,0001-01-01T00:00:00+14:00,opted_out", "is not between 1990 and now"),
        ("2025550101,9999-12-31,opted_out", "is not between 1990 and now"),
        ("2025550101,31/12/2024,opted_out", "is not a date (use YYYY-MM-DD"),
        ("2025550101,2024-02-30,opted_out", "is not a date (use YYYY-MM-DD"),
    ],
)
def test_impossible_consent_dates_are_bad_rows(
    admin_client, account, line, import_file, cells, reason
):
    contact_import = import_file(f"phone,consent date,Sales\n{cells}\n2025550199,,opted_in\n")
    assert reason in contact_import.bad_rows[0][1]
    assert contact_import.created_count == 1


def test_an_email_too_long_for_the_column_is_left_out_with_a_warning(
    admin_client, account, import_file
):
    long_email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    contact_import = import_file(
        f"phone,email\n2025550101,{long_email}\n2025550102,ok@example.com\n"
    )
    assert contact_import.bad_rows == []
    assert contact_import.warnings == [
        [2, "E-mail: longer than 254 characters; imported without it."]
    ]
    assert contact_import.created_count == 2
    assert Contact.objects.get(phone="+12025550101").email == ""


def test_exported_formula_escapes_import_back_as_the_original_text(
    admin_client, account, import_file
):
    Contact.objects.create(
        account=account, phone="+12025550101", name="-Dash", email="+t@example.com"
    )
    exported = b"".join(admin_client.get(reverse("contacts-export")).streaming_content)
    assert b"'-Dash" in exported
    again = import_file(exported)
    assert (again.updated_count, again.skipped_count) == (0, 1)
    assert Contact.objects.get().name == "-Dash"


def test_a_second_run_of_the_same_import_stops_without_counting_twice(admin_client, account, line):
    upload(admin_client, "phone,Sales\n2025550101,opted_out\n2025550102,opted_in\n")
    contact_import = ContactImport.objects.get()
    imports.contact_import_queue(
        contact_import=contact_import, mapping={"0": "phone", "1": f"consent:{line.pk}"}
    )
    late_run = imports._start(contact_import.pk)
    imports.contact_import_run(contact_import.pk)
    with pytest.raises(imports.ImportTakenOver):
        imports._import_rows(late_run)
    contact_import.refresh_from_db()
    assert (contact_import.created_count, contact_import.skipped_count) == (2, 0)
    assert ConsentEvent.objects.count() == 2


def test_an_import_the_database_keeps_failing_ends_failed_not_running(
    admin_client, account, monkeypatch
):
    upload(admin_client, "phone\n2025550101\n")
    contact_import = ContactImport.objects.get()
    imports.contact_import_queue(contact_import=contact_import, mapping={"0": "phone"})
    attempts = []

    def database_away(import_id):
        attempts.append(import_id)
        contact_import.refresh_from_db()
        assert contact_import.status == ImportStatus.QUEUED  # not failed while retrying
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(imports, "contact_import_run", database_away)
    result = import_contacts.apply(args=[contact_import.pk])
    assert isinstance(result.result, OperationalError)
    assert len(attempts) == IMPORT_MAX_RETRIES + 1
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.FAILED
    assert contact_import.error == "The database was unavailable; resume the import to continue."


def test_the_sweep_queues_stalled_imports_again(admin_client, account, monkeypatch):
    from crm import tasks

    upload(admin_client, "phone\n2025550101\n")
    contact_import = ContactImport.objects.get()
    long_ago = timezone.now() - timedelta(hours=1)
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.RUNNING, progress_at=long_ago, mapping={"0": "phone"}
    )
    assert tasks.sweep_stalled_imports() == 1
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE
    assert tasks.sweep_stalled_imports() == 0


def test_cells_past_the_header_stay_out_of_the_rows_to_fix(admin_client, account, import_file):
    contact_import = import_file("phone,name\n12,Bob,x,=1+2\n2025550101,Ann\n")
    response = admin_client.get(reverse("import-bad-rows", args=[contact_import.pk]))
    rows = csv_rows(response)
    assert rows[0] == ["phone", "name", "Problem"]
    assert rows[1][:2] == ["12", "Bob"]
    assert rows[1][2].startswith("Not imported: Phone number:")
    assert len(rows) == 2


def test_the_import_page_says_when_the_rows_to_fix_are_cut(
    admin_client, account, import_file, monkeypatch
):
    monkeypatch.setattr(imports, "BAD_ROWS_KEPT", 2)
    contact_import = import_file("phone,email\n1,\n2,\n3,\n2025550104,bad-address\n")
    assert (contact_import.bad_count, len(contact_import.bad_rows)) == (3, 2)
    page = admin_client.get(reverse("import", args=[contact_import.pk])).content.decode()
    assert "It holds the first 3." in page
