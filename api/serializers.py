"""The API's shapes: what requests may carry and what answers look like.

Request serializers only parse (types, lengths, formats); the rules are the services' own
(crm, conversations), whose refusals come back as field errors.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.models import Message
from core.phones import normalize_phone
from core.segments import MAX_BODY_LENGTH
from crm.models import NOT_DEFINED, ConsentEvent, ConsentStatus, Contact, Line


class PhoneField(serializers.CharField):
    """A phone number in any common format, read as E.164 (default region from settings)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        try:
            return normalize_phone(text)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


@extend_schema_field(OpenApiTypes.STR)
class LineReferenceField(serializers.Field):
    """A line of the key's account, given by its number (any format) or its id."""

    default_error_messages = {
        "unknown": "No line of this account has this number or id.",
        "invalid": "Give the line's number or id.",
    }

    def to_internal_value(self, data) -> Line:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        text = str(data).strip()
        if not text or len(text) > 64:
            self.fail("unknown")
        lines = Line.objects.for_account(self.context["account"]).select_related("account")
        if text.isascii() and text.isdigit() and len(text) < 19:
            line = lines.filter(pk=int(text)).first()
            if line is not None:
                return line
        try:
            number = normalize_phone(text)
        except DjangoValidationError:
            self.fail("unknown")
        line = lines.filter(number=number).first()
        if line is None:
            self.fail("unknown")
        return line

    def to_representation(self, line: Line) -> str:
        return line.number


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Line
        fields = ["id", "name", "number", "consent_policy"]


class LineStatusSerializer(serializers.Serializer):
    line = serializers.CharField(help_text="The line's number, E.164.")
    line_id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=[*ConsentStatus.values, NOT_DEFINED])
    since = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField(allow_null=True)


class ConsentLookupSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="E.164.")
    contact_id = serializers.IntegerField(allow_null=True)
    lines = LineStatusSerializer(many=True)


class ConsentQuerySerializer(serializers.Serializer):
    phone = PhoneField(help_text="The number, in any common format.")


class ConsentEventSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="contact.phone")
    line = serializers.CharField(source="line.number")
    line_name = serializers.CharField(source="line.name")
    previous_status = serializers.SerializerMethodField()
    ip = serializers.IPAddressField(source="ip_address", allow_null=True)

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "contact_id",
            "phone",
            "line",
            "line_id",
            "line_name",
            "status",
            "previous_status",
            "outcome",
            "source",
            "keyword",
            "note",
            "consent_text",
            "page_url",
            "ip",
            "user_agent",
            "occurred_at",
            "recorded_at",
        ]

    def get_previous_status(self, event: ConsentEvent) -> str:
        return event.previous_status or NOT_DEFINED


class ConsentEventCreateSerializer(serializers.Serializer):
    phone = PhoneField()
    line = LineReferenceField(help_text="The line's number (any format) or id.")
    status = serializers.ChoiceField(choices=ConsentStatus.values)
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When it happened; now when left out. Never in the future."
    )
    consent_text = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="What the person was shown."
    )
    page_url = serializers.URLField(required=False, allow_blank=True, max_length=2000)
    ip = serializers.IPAddressField(required=False, allow_null=True)
    user_agent = serializers.CharField(required=False, allow_blank=True, max_length=500)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ConsentRefusedSerializer(ErrorSerializer):
    event = ConsentEventSerializer()


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.CharField(
        required=False, max_length=200, help_text="`next_cursor` of the previous page."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)


class FeedSerializer(serializers.Serializer):
    events = ConsentEventSerializer(many=True)
    next_cursor = serializers.CharField(help_text="Pass as `after` to read on; kept when empty.")
    has_more = serializers.BooleanField()


class ContactSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(max_length=64, help_text="Any common format; answered in E.164.")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)

    class Meta:
        model = Contact
        fields = ["id", "phone", "name", "email", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ContactQuerySerializer(serializers.Serializer):
    phone = PhoneField(required=False, help_text="Only the contact with this number.")


class MessageSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.number")
    phone = serializers.CharField(
        source="remote_number",
        help_text="The contact's number: whom an outbound text goes to, who sent an inbound one.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "line",
            "line_id",
            "contact_id",
            "phone",
            "direction",
            "body",
            "status",
            "scheduled_for",
            "deferred_by_quiet_hours",
            "blocked_reason",
            "error_code",
            "created_at",
            "updated_at",
        ]


class MessageCreateSerializer(serializers.Serializer):
    line = LineReferenceField(help_text="The line's number (any format) or id.")
    to = PhoneField()
    body = serializers.CharField(max_length=MAX_BODY_LENGTH, trim_whitespace=False)
    send_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Later, at most a year ahead; now if left out."
    )


class MessageBlockedSerializer(ErrorSerializer):
    message = MessageSerializer(required=False, help_text="The text, stored as blocked.")
