"""The JSON API (`/api/v1/`): thin views over the services and selectors, described for the
OpenAPI schema. Authentication, access, throttling and errors are set for all of them in
settings (REST_FRAMEWORK)."""

import json

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from api.feed import BadCursor, Position, consent_events_after
from api.idempotency import idempotent
from api.representations import consent_event_data
from api.selectors import consent_lookup
from api.serializers import (
    ConsentEventCreateSerializer,
    ConsentEventSerializer,
    ConsentLookupSerializer,
    ConsentQuerySerializer,
    ConsentRefusedSerializer,
    ContactQuerySerializer,
    ContactSerializer,
    ErrorSerializer,
    FeedQuerySerializer,
    FeedSerializer,
    LineSerializer,
    MessageBlockedSerializer,
    MessageCreateSerializer,
    MessageSerializer,
)
from api.services import api_consent_record, api_message_send
from conversations.models import Message
from conversations.sending import SendBlocked
from crm.models import NOT_DEFINED, ConsentOutcome, ConsentStatus, Contact, Line
from crm.selectors import contact_consent_on_line
from crm.services import contact_create, contact_update

INVALID = OpenApiResponse(
    {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    description="The request is not valid: the messages of each field at fault, by field "
    "(`non_field_errors` for the request as a whole), or a `detail` and `code`.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string up to 255 characters: a retry with the same key gets the "
    "first answer again, and the change is made once.",
)
ERRORS = {
    400: INVALID,
    401: OpenApiResponse(ErrorSerializer, description="No key, or a revoked one."),
    403: OpenApiResponse(ErrorSerializer, description="A read-only key asked to write."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests for this key."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such object in this account.")}
REPLAY = {422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused.")}


class AccountApiView:
    """The key's account, which every view reads and writes within."""

    @property
    def account(self):
        return self.request.auth.account

    def parsed(self, serializer_class, data) -> dict:
        """The request's data read by the serializer (400 with its field errors if it cannot
        be), lines looked up in the key's account."""
        serializer = serializer_class(data=data, context={"account": self.account})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class LineList(AccountApiView, generics.ListAPIView):
    """The account's lines."""

    serializer_class = LineSerializer
    pagination_class = None

    def get_queryset(self):
        return Line.objects.for_account(self.account).order_by("name", "number")

    @extend_schema(responses={200: LineSerializer(many=True), **ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ConsentLookupView(AccountApiView, APIView):
    @extend_schema(
        parameters=[ConsentQuerySerializer],
        responses={200: ConsentLookupSerializer, **ERRORS},
        summary="May I text this number? Its status on every line.",
    )
    def get(self, request):
        query = self.parsed(ConsentQuerySerializer, request.query_params)
        lookup = consent_lookup(account=self.account, phone=query["phone"])
        return Response(
            {
                "phone": lookup.phone,
                "contact_id": lookup.contact.pk if lookup.contact else None,
                "lines": [
                    {
                        "line": item.line.number,
                        "line_id": item.line.pk,
                        "name": item.line.name,
                        "status": item.status or NOT_DEFINED,
                        "since": item.since,
                        "source": item.source or None,
                    }
                    for item in lookup.lines
                ],
            }
        )


class ConsentEvents(AccountApiView, APIView):
    @extend_schema(
        parameters=[FeedQuerySerializer],
        responses={200: FeedSerializer, **ERRORS},
        summary="The change feed: every consent event in recording order.",
    )
    def get(self, request):
        query = self.parsed(FeedQuerySerializer, request.query_params)
        try:
            position = Position.of(query.get("after"))
        except BadCursor as error:
            raise BadRequest({"after": [str(error)]}) from error
        page = consent_events_after(account=self.account, position=position, limit=query["limit"])
        # The events are JSON already (api.representations): joined, not parsed and encoded.
        body = "".join(
            [
                '{"events":[',
                ",".join(page.events_json),
                '],"next_cursor":',
                json.dumps(page.next_position.cursor()),
                ',"has_more":',
                json.dumps(page.has_more),
                "}",
            ]
        )
        return HttpResponse(body, content_type="application/json")

    @extend_schema(
        request=ConsentEventCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: ConsentEventSerializer,
            409: OpenApiResponse(
                ConsentRefusedSerializer,
                description="An opt-in that would lift an opt-out: recorded, refused.",
            ),
            **ERRORS,
            **REPLAY,
        },
        summary="Record an opt-in or opt-out from another system (source `api`).",
    )
    @idempotent
    def post(self, request):
        data = self.parsed(ConsentEventCreateSerializer, request.data)
        event = api_consent_record(
            api_key=request.auth,
            phone=data["phone"],
            line=data["line"],
            status=data["status"],
            occurred_at=data.get("occurred_at"),
            consent_text=data.get("consent_text", ""),
            page_url=data.get("page_url", ""),
            ip_address=data.get("ip"),
            user_agent=data.get("user_agent", ""),
            note=data.get("note", ""),
        )
        body = consent_event_data(event)
        if event.outcome == ConsentOutcome.REFUSED:
            return Response(
                {
                    "detail": f"The contact opted out of {event.line.name} and an opt-in from "
                    "another system never lifts an opt-out: the contact must text START, or "
                    "staff record the opt-in with evidence. The request is recorded as refused.",
                    "code": "opted_out",
                    "event": body,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(body, status=status.HTTP_201_CREATED)


class ContactPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "limit"

    def decode_cursor(self, request):
        """DRF's cursor, refused (404, as DRF does for a cursor it cannot read) when its
        position is not an id: DRF would hand any text to the query."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            if not (cursor.position.isascii() and cursor.position.isdigit()):
                raise NotFound(self.invalid_cursor_message)
            if int(cursor.position) >= 2**63:
                raise NotFound(self.invalid_cursor_message)
        return cursor


class ContactViewSet(
    AccountApiView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The account's contacts. The number cannot change once the contact has history."""

    serializer_class = ContactSerializer
    pagination_class = ContactPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, drawn without a request
            return Contact.objects.none()
        contacts = Contact.objects.for_account(self.account)
        if self.action == "list":
            query = self.parsed(ContactQuerySerializer, self.request.query_params)
            if phone := query.get("phone"):
                contacts = contacts.filter(phone=phone)
        return contacts

    @extend_schema(
        parameters=[ContactQuerySerializer],
        responses={
            200: ContactSerializer(many=True),
            **ERRORS,
            404: OpenApiResponse(ErrorSerializer, description="A cursor the list did not give."),
        },
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ContactSerializer, **ERRORS, **NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY], responses={201: ContactSerializer, **ERRORS, **REPLAY}
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(responses={200: ContactSerializer, **ERRORS, **NOT_FOUND})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = contact_create(account=self.account, **_contact_fields(serializer))

    def perform_update(self, serializer):
        contact = serializer.instance
        fields = {"phone": contact.phone, "name": contact.name, "email": contact.email}
        fields.update(_contact_fields(serializer))
        serializer.instance = contact_update(contact=contact, **fields)


def _contact_fields(serializer) -> dict:
    return {
        field: serializer.validated_data[field]
        for field in ("phone", "name", "email")
        if field in serializer.validated_data
    }


class MessageCreate(AccountApiView, APIView):
    @extend_schema(
        request=MessageCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: MessageSerializer,
            422: OpenApiResponse(
                MessageBlockedSerializer,
                description="The gate refused the text (code `opted_out` or `not_opted_in`); "
                "it is stored as blocked. Also: Idempotency-Key reused.",
            ),
            **ERRORS,
        },
        summary="Send a text through the gate, now or at `send_at` (quiet hours may defer it).",
    )
    @idempotent
    def post(self, request):
        data = self.parsed(MessageCreateSerializer, request.data)
        try:
            message = api_message_send(
                api_key=request.auth,
                line=data["line"],
                to=data["to"],
                body=data["body"],
                send_at=data.get("send_at"),
            )
        except SendBlocked as blocked:
            return Response(
                {
                    "detail": blocked.reason,
                    "code": _block_code(blocked.message),
                    "message": MessageSerializer(blocked.message).data,
                },
                status=422,
            )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _block_code(message: Message) -> str:
    status_now = contact_consent_on_line(message.contact, message.line).status
    return "opted_out" if status_now == ConsentStatus.OPTED_OUT else "not_opted_in"


class MessageDetail(AccountApiView, generics.RetrieveAPIView):
    serializer_class = MessageSerializer

    def get_queryset(self):
        return Message.objects.for_account(self.account).select_related("line")

    @extend_schema(responses={200: MessageSerializer, **ERRORS, **NOT_FOUND})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
