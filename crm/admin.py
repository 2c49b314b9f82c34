"""Django admin for staff. Superusers see every account; other staff only their own."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models

from core.action_forms import show_on_form
from crm.forms import SETTINGS_FIELDS
from crm.models import (
    Account,
    Consent,
    ConsentAnchor,
    ConsentEvent,
    ConsentLogVerification,
    Contact,
    ContactImport,
    Line,
    Membership,
    time_zone_choices,
)
from crm.scoping import account_of
from crm.services import (
    account_create,
    account_credentials_update,
    account_credentials_validate,
    account_settings_update,
    account_settings_validate,
    contact_create,
    contact_update,
    contact_validate,
    line_create,
    line_update,
    line_validate,
)

# URLs typed without a scheme are read as https (Django 6's default, chosen now).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class AccountScopedAdmin(admin.ModelAdmin):
    """Rows, and the choices in their forms' relations, limited to the staff user's account."""

    formfield_overrides = URL_FIELDS_ASSUME_HTTPS

    def get_queryset(self, request):
        return self._scoped(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self._scoped(request, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None:
            field.queryset = self._scoped(request, field.queryset)
        return field

    @staticmethod
    def _scoped(request, queryset):
        if request.user.is_superuser or not hasattr(queryset, "for_account"):
            return queryset
        return queryset.for_account(account_of(request.user))


class ActionAdmin(AccountScopedAdmin):
    """Objects changed only through their action functions, as on the pages.

    `validate(request, obj, data)` runs the action's rules when the form is cleaned, so a
    refusal shows on the form's fields (it may put cleaned values back in `data`, e.g. a
    number in E.164); `perform(request, obj, data)` is the action, called by `save_model`.
    `obj` is None when adding. Many-to-many fields are the action's to set as well. Objects
    are not deleted here: they are evidence, or an action says what removing them means.
    """

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin = self

        class ActionCheckedForm(form_class):
            def clean(self):
                data = super().clean()
                if not self._errors:
                    try:
                        admin.validate(request, obj, data)
                    except ValidationError as error:
                        show_on_form(self, error)
                return data

        return ActionCheckedForm

    def save_model(self, request, obj, form, change) -> None:
        saved = self.perform(request, obj if change else None, form.cleaned_data)
        obj.pk, obj._state.adding = saved.pk, False

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @staticmethod
    def account_for(obj, data):
        """The account the object belongs to, or (adding) the one chosen in the form, if any."""
        return obj.account if obj else data.get("account")

    def get_readonly_fields(self, request, obj=None):
        """An object never moves to another account."""
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "account"] if obj is not None and hasattr(obj, "account_id") else fields


class ReadOnlyAdmin(AccountScopedAdmin):
    """History and derived state: visible to staff, changed only by the consent engine."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ActionAdmin):
    list_display = ["name", "help_contact", "revocation_policy", "created_at"]
    readonly_fields = ["consent_log", "keyword_languages"]
    search_fields = ["name"]
    list_filter = ["revocation_policy"]

    @admin.display(description="Keywords answered in")
    def keyword_languages(self, account: Account) -> str:
        """The language packs on; they and their replies are set on the account's Settings
        page, whose action checks the replies."""
        on = [pack.get_language_display() for pack in account.languages.filter(is_active=True)]
        return ", ".join(["English", *on]) + " (languages are switched on in Settings)"

    @admin.display(description="Consent log, last verified")
    def consent_log(self, account: Account) -> str:
        """The latest `verify_consent_log` run: whether the log is as it was recorded."""
        latest = account.consent_log_verifications.first()  # newest first, by Meta.ordering
        if latest is None:
            return "Never verified (manage.py verify_consent_log)"
        when = f"{latest.started_at:%Y-%m-%d %H:%M} UTC"
        if latest.intact:
            return f"{when}: intact ({latest.events_checked} events)"
        return f"{when}: DOES NOT MATCH. {latest.problems[0]}"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":
            kwargs["widget"] = forms.Select(choices=time_zone_choices)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def validate(self, request, obj, data) -> None:
        account_settings_validate(
            account=obj or Account(), **{field: data.get(field, "") for field in SETTINGS_FIELDS}
        )
        account_credentials_validate(twilio_account_sid=data.get("twilio_account_sid", ""))

    def perform(self, request, obj, data) -> Account:
        account = obj or account_create(name=data["name"])
        account_settings_update(
            account=account, **{field: data[field] for field in SETTINGS_FIELDS}
        )
        return account_credentials_update(
            account=account,
            twilio_account_sid=data["twilio_account_sid"],
            twilio_auth_token=data["twilio_auth_token"],
        )


def manageable_users(request):
    """The users a staff member may see and change: everyone for superusers; for other staff,
    the ordinary (not staff, not superuser) members of their own account, so no staff member
    can set a superuser's or another staff member's password, or deactivate them."""
    users = get_user_model().objects.all()
    if request.user.is_superuser:
        return users
    account = account_of(request.user)
    if account is None:  # staff of no account manage no one (not everyone of no account)
        return users.none()
    return users.filter(membership__account=account, is_staff=False, is_superuser=False)


@admin.register(Membership)
class MembershipAdmin(AccountScopedAdmin):
    """Who belongs to which account. Only superusers make or move memberships: for anyone
    else, making one would claim a user who belongs to no account yet."""

    list_display = ["user", "account", "roles", "created_at"]
    list_select_related = ["user", "account"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter), "user__groups"]
    search_fields = ["user__username", "user__email", "account__name"]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(user__in=manageable_users(request))
            .prefetch_related("user__groups")
        )

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else [*fields, "user", "account"]

    @admin.display(description="Roles")
    def roles(self, membership: Membership) -> str:
        return ", ".join(group.name for group in membership.user.groups.all())


@admin.register(Line)
class LineAdmin(ActionAdmin):
    list_display = ["name", "number", "account", "consent_policy", "created_at"]
    list_select_related = ["account"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter), "consent_policy"]
    search_fields = ["name", "number", "account__name"]

    def validate(self, request, obj, data) -> None:
        account = self.account_for(obj, data)
        if account is not None:
            data["number"] = line_validate(
                account=account,
                number=data.get("number", ""),
                name=data.get("name", ""),
                consent_policy=data.get("consent_policy", ""),
                line=obj,
            )

    def perform(self, request, obj, data) -> Line:
        if obj is None:
            return line_create(
                account=data["account"],
                number=data["number"],
                name=data["name"],
                consent_policy=data["consent_policy"],
            )
        return line_update(
            line=obj,
            number=data["number"],
            name=data["name"],
            consent_policy=data["consent_policy"],
        )


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    fields = ["occurred_at", "line", "previous_status", "status", "outcome", "source", "keyword"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("line")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(ActionAdmin):
    list_display = ["name", "phone", "email", "account", "created_at"]
    list_select_related = ["account"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "phone", "email"]
    inlines = [ConsentEventInline]

    def validate(self, request, obj, data) -> None:
        account = self.account_for(obj, data)
        if account is not None:
            data["phone"] = contact_validate(
                account=account,
                phone=data.get("phone", ""),
                name=data.get("name", ""),
                email=data.get("email", ""),
                contact=obj,
            )

    def perform(self, request, obj, data) -> Contact:
        details = {field: data[field] for field in ("phone", "name", "email")}
        if obj is None:
            return contact_create(account=self.account_for(obj, data), **details)
        return contact_update(contact=obj, **details)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["contact", "line", "status", "since", "source"]
    list_select_related = ["contact", "line", "cause"]
    list_filter = [
        "status",
        ("line__account", admin.RelatedOnlyFieldListFilter),
        ("line", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["contact__name", "contact__phone", "line__number", "line__name"]

    @admin.display(description="Source", ordering="cause__source")
    def source(self, consent: Consent) -> str:
        return consent.cause.get_source_display()


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "contact",
        "line",
        "previous_status",
        "status",
        "outcome",
        "source",
        "keyword",
        "user",
        "recorded_at",
    ]
    list_select_related = ["contact", "line", "user"]
    list_filter = [
        "source",
        "outcome",
        "status",
        ("line__account", admin.RelatedOnlyFieldListFilter),
        ("line", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["contact__name", "contact__phone", "line__number", "keyword", "note"]
    date_hierarchy = "occurred_at"


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    """Imports are evidence of the consent they brought in: shown, never changed here."""

    list_display = [
        "file_name",
        "account",
        "uploaded_by",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "skipped_count",
        "bad_count",
        "created_at",
    ]
    list_select_related = ["account", "uploaded_by"]
    list_filter = ["status", ("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["file_name", "uploaded_by__username", "account__name"]
    exclude = ["data"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data")


class RoleGroupAdmin(GroupAdmin):
    """The role groups are shared by every account: changing one changes every account's
    roles, so staff other than superusers may only look."""

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class AccountUserAdmin(UserAdmin):
    """Users: other staff than superusers see and edit only the ordinary members of their own
    account (`manageable_users`), and cannot raise anyone to staff or superuser or grant
    permissions outside the roles. They do not add users either, since a new user belongs to
    no account until a membership is made."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=manageable_users(request).values("pk"))

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [*fields, "is_superuser", "is_staff", "user_permissions"]


admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)
admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AccountUserAdmin)


@admin.register(ConsentAnchor)
class ConsentAnchorAdmin(ReadOnlyAdmin):
    """Each day's seal over the consent log (crm.ledger): compare with copies kept elsewhere."""

    list_display = ["day", "account", "event_count", "hash", "previous_hash", "created_at"]
    list_select_related = ["account"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "day"


@admin.register(ConsentLogVerification)
class ConsentLogVerificationAdmin(ReadOnlyAdmin):
    """Runs of `manage.py verify_consent_log` (and of beat's nightly check)."""

    list_display = [
        "started_at",
        "account",
        "intact",
        "events_checked",
        "days_checked",
        "unanchored_days",
        "first_problem",
    ]
    list_select_related = ["account"]
    list_filter = ["intact", ("account", admin.RelatedOnlyFieldListFilter)]

    @admin.display(description="First problem")
    def first_problem(self, verification: ConsentLogVerification) -> str:
        return verification.problems[0] if verification.problems else "—"


admin.site.site_header = "Capacity SMS administration"
admin.site.site_title = "Capacity SMS admin"
admin.site.index_title = "Accounts, consent and messages"
