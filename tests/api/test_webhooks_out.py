"""Outbound webhooks: signed JSON to the business's endpoints, retried with backoff for a day,
in order per contact, logged with Resend, switched off after a day of failures."""

import time
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from api.delivery import endpoint_deliver
from api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from api.services import webhook_endpoint_create
from api.signing import SignatureError, sign, verify
from api.tasks import deliver_due_webhooks
from crm import consent
from crm.models import ConsentSource, Contact
from tests.support.receiver import Receiver
from tests.support.webhook_client import inbound_params, post_signed, status_params

ALL_EVENTS = list(WebhookEvent.values)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def endpoint(account, receiver):
    created = webhook_endpoint_create(account=account, url=receiver.url, events=ALL_EVENTS)
    receiver.secret = created.secret
    return created


def opt_out(contact, line):
    return consent.record_consent(
        contact=contact, line=line, status="opted_out", source=ConsentSource.API
    )


def test_an_admin_registers_an_endpoint_and_a_stop_reaches_it_signed(
    admin_client, signed_account, line, receiver, deliver, client
):
    response = admin_client.post(
        reverse("webhooks"),
        {
            "url": receiver.url,
            "events": [WebhookEvent.CONSENT_CHANGED, WebhookEvent.MESSAGE_RECEIVED],
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhook", args=[endpoint.pk])
    receiver.secret = endpoint.secret
    assert endpoint.secret in admin_client.get(response["Location"]).content.decode()

    deliver(client, inbound_params(line, sender="+12025550143", body="STOP"))
    assert receiver.received == [], "nothing is sent from inside the webhook's request"
    deliver_due_webhooks()

    assert receiver.types == ["consent.changed", "message.received"]
    assert all(item.signature_ok for item in receiver.received)
    changed = receiver.received[0].event
    assert changed["data"]["phone"] == "+12025550143"
    assert changed["data"]["status"] == "opted_out"
    assert changed["data"]["line"] == line.number
    assert changed["data"]["source"] == "keyword"
    assert receiver.received[0].headers["Capacity-Event-Id"] == changed["id"]
    received = receiver.received[1].event["data"]
    assert received["body"] == "STOP"
    assert received["direction"] == "inbound"
    assert received["phone"] == "+12025550143"
    log = admin_client.get(reverse("webhook", args=[endpoint.pk])).content.decode()
    assert "HTTP 200" in log
    assert "consent.changed" in log
    assert " ms" in log


def test_only_the_events_an_endpoint_chose_are_sent(account, contact, line, receiver):
    only_messages = webhook_endpoint_create(
        account=account, url=receiver.url, events=[WebhookEvent.MESSAGE_RECEIVED]
    )
    opt_out(contact, line)
    assert not only_messages.deliveries.exists()


def test_blocked_texts_and_status_reports_are_sent(
    client,
    signed_account,
    contact,
    line,
    endpoint,
    receiver,
    outbox,
    django_capture_on_commit_callbacks,
):
    from conversations.sending import SendBlocked, send_message

    with django_capture_on_commit_callbacks(execute=True):
        sent = send_message(contact=contact, line=line, body="Reminder")
    sent.refresh_from_db()
    post_signed(client, "twilio-status", status_params(line, sent.provider_message_id, "delivered"))
    opt_out(contact, line)
    with pytest.raises(SendBlocked):
        send_message(contact=contact, line=line, body="Too late")
    deliver_due_webhooks()
    assert receiver.types == [
        "message.status",
        "message.status",
        "consent.changed",
        "message.blocked",
    ]
    assert [item.event["data"]["status"] for item in receiver.received[:2]] == ["sent", "delivered"]
    assert "opted out" in receiver.received[3].event["data"]["blocked_reason"]


def test_a_failing_receiver_is_retried_with_backoff_and_each_contact_keeps_its_order(
    account, line, second_line, endpoint, receiver, clock
):
    start = clock.set(timezone.now())
    ann, bob = (Contact.objects.create(account=account, phone=f"+1202555{n:04d}") for n in (1, 2))
    receiver.answers = [500]
    first_of_ann = opt_out(ann, line)
    opt_out(bob, line)
    opt_out(ann, second_line)
    endpoint_deliver(endpoint.pk)

    assert [item.event["data"]["phone"] for item in receiver.received] == [ann.phone, bob.phone]
    waiting = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk")
    assert next(d.payload["data"]["id"] for d in waiting) == first_of_ann.pk
    assert waiting[0].attempts == 1
    assert waiting[0].next_attempt_at == start + timedelta(seconds=30)
    assert waiting[1].attempts == 0, "Ann's next event waits for her first"

    clock.advance(timedelta(seconds=10))
    endpoint_deliver(endpoint.pk)
    assert len(receiver.received) == 2, "not before its backoff"

    clock.advance(timedelta(seconds=21))
    endpoint_deliver(endpoint.pk)
    ann_lines = [
        item.event["data"]["line_id"]
        for item in receiver.received
        if item.event["data"]["phone"] == ann.phone
    ]
    assert ann_lines == [line.pk, line.pk, second_line.pk]
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_after_a_day_of_failures_it_gives_up_and_switches_the_endpoint_off(
    admin_client, agent, contact, line, endpoint, receiver, clock
):
    clock.set(timezone.now())
    receiver.answers = [503] * 100
    opt_out(contact, line)
    endpoint_deliver(endpoint.pk)
    for _ in range(30):
        clock.advance(timedelta(hours=1))
        endpoint_deliver(endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert 20 <= delivery.attempts <= 30
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "for a day" in endpoint.disabled_reason
    banner = admin_client.get(reverse("contacts")).content.decode()
    assert "webhook endpoint was switched off" in banner
    assert receiver.url in banner
    as_agent = Client()
    as_agent.force_login(agent)
    assert "switched off" not in as_agent.get(reverse("contacts")).content.decode()

    admin_client.post(reverse("webhook-enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.failing_since is None
    assert "switched off" not in admin_client.get(reverse("contacts")).content.decode()


def test_resend_sends_the_same_event_again(admin_client, contact, line, endpoint, receiver):
    opt_out(contact, line)
    endpoint_deliver(endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    admin_client.post(reverse("webhook-resend", args=[endpoint.pk, delivery.pk]))
    endpoint_deliver(endpoint.pk)
    assert len(receiver.received) == 2
    assert receiver.received[0].event["id"] == receiver.received[1].event["id"]
    assert delivery.tries.count() == 2


def test_the_log_keeps_settled_deliveries_for_a_month_and_pending_ones_for_ever(
    account, contact, line, endpoint, receiver, clock
):
    from api.tasks import prune_old_api_records

    clock.set(timezone.now())
    opt_out(contact, line)
    endpoint_deliver(endpoint.pk)
    receiver.answers = [500] * 10
    opt_out(Contact.objects.create(account=account, phone="+12025550188"), line)
    endpoint_deliver(endpoint.pk)
    clock.advance(timedelta(days=29))
    prune_old_api_records()
    assert WebhookDelivery.objects.count() == 2
    clock.advance(timedelta(days=2))
    prune_old_api_records()
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending"]
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED)
    prune_old_api_records()
    assert not WebhookDelivery.objects.exists()


def test_signatures_are_checked_against_body_secret_and_age():
    body = b'{"type":"consent.changed"}'
    now = int(time.time())
    header = sign("whsec_abc", body, now)
    verify("whsec_abc", header, body)
    with pytest.raises(SignatureError):
        verify("whsec_abc", header, body + b" ")
    with pytest.raises(SignatureError):
        verify("whsec_other", header, body)
    with pytest.raises(SignatureError):
        verify("whsec_abc", header, body, now=now + 301)
    with pytest.raises(SignatureError):
        verify("whsec_abc", "v1=deadbeef", body)


def test_a_slow_receiver_never_slows_the_webhook_that_received_the_text(
    signed_account, line, endpoint, receiver, deliver, client
):
    receiver.delay = 3
    started = time.monotonic()
    response = deliver(client, inbound_params(line, body="STOP"))
    assert response.status_code == 200
    assert time.monotonic() - started < 1.5
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk")
    # The opt-out, the text, and the status of the confirmation sent back.
    assert [d.event_type for d in pending] == [
        "consent.changed",
        "message.received",
        "message.status",
    ]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False, WEBHOOKS_ALLOW_HTTP=False)
@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://10.1.2.3/x",
        "https://user:pw@hooks.example.com/x",
        "https://hooks.example.com:99999/x",
        "ftp://hooks.example.com/x",
        "not a url",
    ],
)
def test_endpoints_must_be_public_https(admin_client, url):
    response = admin_client.post(reverse("webhooks"), {"url": url, "events": ALL_EVENTS})
    assert response.status_code == 200
    assert response.context["form"].errors["url"]
    assert not WebhookEndpoint.objects.exists()


def test_a_host_that_resolves_to_a_private_address_is_not_called(account, contact, line, receiver):
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True):
        endpoint = webhook_endpoint_create(
            account=account, url=receiver.url.replace("127.0.0.1", "localhost"), events=ALL_EVENTS
        )
    opt_out(contact, line)
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False):
        endpoint_deliver(endpoint.pk)
    assert receiver.received == []
    assert "private address" in WebhookDelivery.objects.get().tries.get().error


def test_no_endpoint_costs_no_query_once_known(account, contact, line, django_assert_num_queries):
    """Which endpoints listen is kept in memory (core.config_cache) until endpoints change."""
    from crm.signals import consent_changed

    event = opt_out(contact, line)
    with django_assert_num_queries(0):
        consent_changed.send(sender=None, account_id=account.pk, events=[event])


def test_an_endpoint_added_after_the_answer_was_kept_hears_the_next_change(
    account, contact, line, second_line, receiver
):
    opt_out(contact, line)
    assert not WebhookDelivery.objects.exists()
    webhook_endpoint_create(account=account, url=receiver.url, events=ALL_EVENTS)
    opt_out(contact, second_line)
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_from_the_webhooks_queue(worker, account, contact, line, receiver):
    from tests.support.celery_broker import wait_until

    endpoint = webhook_endpoint_create(account=account, url=receiver.url, events=ALL_EVENTS)
    receiver.secret = endpoint.secret
    opt_out(contact, line)
    wait_until(lambda: len(receiver.received) == 1)
    assert receiver.received[0].signature_ok
    wait_until(lambda: WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED)


def test_the_address_checked_is_the_address_connected_to(account, contact, line, monkeypatch):
    """DNS rebinding: a name that resolves to a public address for the check and to
    127.0.0.1 afterwards still only ever reaches the public one."""
    import socket

    from api import destinations

    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    connected = []

    def rebinding(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    def refuse(address, timeout):
        connected.append(address[0])
        raise ConnectionRefusedError("nobody there")

    monkeypatch.setattr(destinations.socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(destinations.socket, "create_connection", refuse)
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False):
        endpoint = webhook_endpoint_create(
            account=account, url="https://hooks.example.com/x", events=ALL_EVENTS
        )
        opt_out(contact, line)
        endpoint_deliver(endpoint.pk)
    assert connected == ["93.184.216.34"]
    assert "ConnectionRefusedError" in WebhookDelivery.objects.get().tries.get().error


@override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False)
@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "::ffff:10.0.0.1",
        "::a9fe:a9fe",
        "::ffff:0:a9fe:a9fe",
    ],
)
def test_ipv6_addresses_that_lead_to_other_networks_are_refused(admin_client, address):
    response = admin_client.post(
        reverse("webhooks"), {"url": f"https://[{address}]/x", "events": ALL_EVENTS}
    )
    assert response.context["form"].errors["url"]


def test_a_receiver_that_trickles_its_answer_is_cut_off(
    account, contact, line, receiver, endpoint, monkeypatch
):
    from api import delivery

    monkeypatch.setattr(delivery, "TOTAL_TIMEOUT", 1.0)
    receiver.trickle = 4  # a byte every 0.1 s: no single read ever waits long
    opt_out(contact, line)
    started = time.monotonic()
    endpoint_deliver(endpoint.pk)
    assert time.monotonic() - started < 2.5
    attempt = WebhookDelivery.objects.get().tries.get()
    assert attempt.response_code is None
    assert attempt.error


def test_a_worker_that_lost_its_lease_records_nothing_and_leaves_the_new_lease(
    account, contact, line, endpoint
):
    from api import delivery as sending

    opt_out(contact, line)
    first = sending._take_lease(endpoint.pk)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    second = sending._take_lease(endpoint.pk)
    assert second is not None
    assert second != first
    waiting = WebhookDelivery.objects.get()
    assert not sending._renew(endpoint.pk, first)
    assert not sending._record(endpoint, waiting, first, 200, "", 12)
    waiting.refresh_from_db()
    assert waiting.attempts == 0
    assert not waiting.tries.exists()
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).lease_token == second
    assert sending.endpoint_deliver(endpoint.pk) is False, "the lease is taken"


def test_texts_failed_as_unconfirmed_are_announced(
    contact, line, endpoint, receiver, clock, django_capture_on_commit_callbacks
):
    from conversations.models import MessageStatus
    from conversations.sending import mark_unconfirmed, send_message

    message = send_message(contact=contact, line=line, body="Lost in flight")
    type(message).objects.filter(pk=message.pk).update(status=MessageStatus.SENDING)
    assert mark_unconfirmed(older_than=timezone.now() + timedelta(minutes=1)) == 1
    endpoint_deliver(endpoint.pk)
    status = receiver.received[-1].event
    assert status["type"] == "message.status"
    assert status["data"]["status"] == "failed"
    assert status["data"]["error_code"] == "unconfirmed"


def test_switching_an_endpoint_on_does_not_send_from_the_admins_request(
    admin_client, contact, line, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.delay = 2
    opt_out(contact, line)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=timezone.now()
    )
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("webhook-enable", args=[endpoint.pk]))
    assert time.monotonic() - started < 1
    assert receiver.received == []
    deliver_due_webhooks()
    assert receiver.types == ["consent.changed"]
