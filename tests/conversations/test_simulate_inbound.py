import pytest
from django.core.management import CommandError, call_command

from conversations.models import Direction, Message
from crm.models import ConsentStatus

# Committed transactions, as in real use: the webhook's queued processing runs at its commit.
pytestmark = [pytest.mark.usefixtures("signed_account"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.PUBLIC_BASE_URL = "https://testserver"


def simulate(capsys, **options):
    call_command("simulate_inbound", wait=0, **options)
    return capsys.readouterr().out


def test_simulated_stop_goes_through_the_signed_webhook(line, capsys, outbox):
    out = simulate(
        capsys,
        to="Sales",
        sender="(202) 555-0111",
        body="STOP",
    )
    assert "Webhook answered 200" in out
    assert "Decision: Built-in keyword STOP: opted out" in out
    assert "Consent of (202) 555-0111 on Sales: Opted out" in out
    assert "Reply (sent): You have been unsubscribed from Acme Plumbing" in out
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.remote_number == "+12025550111"
    assert message.contact.consents.get().status == ConsentStatus.OPTED_OUT


def test_simulated_carrier_signal(line, capsys):
    out = simulate(
        capsys,
        to=line.number,
        sender="+12025550111",
        body="whatever",
        opt_out_type="STOP",
    )
    assert "Carrier signal STOP: opted out" in out
    assert "Reply: none" in out


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"to": "Nowhere", "sender": "+12025550111", "body": "x"}, "No single line matches"),
        ({"to": "Sales", "sender": "12", "body": "x"}, "--from"),
    ],
)
def test_bad_arguments_are_explained(line, options, error):
    with pytest.raises(CommandError, match=error):
        call_command("simulate_inbound", **options)
    assert not Message.objects.exists()


def test_without_a_token_the_command_says_what_to_set(line, signed_account, settings):
    signed_account.twilio_auth_token = ""
    signed_account.save()
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(CommandError, match="TWILIO_AUTH_TOKEN"):
        call_command("simulate_inbound", to="Sales", sender="+12025550111", body="STOP")
