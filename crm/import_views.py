"""CRM > Contacts > Import: upload, map the columns, follow the progress, read the result."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import View
from django.views.generic import DetailView, FormView

from core.csv_download import csv_download
from core.htmx import FragmentForHtmxMixin
from crm import import_files, imports
from crm.forms import ImportMappingForm, ImportUploadForm
from crm.models import ContactImport, ImportStatus, Line
from crm.roles import MANAGE_ACCOUNT, perm
from crm.scoping import AccountPermissionMixin

RECENT_IMPORTS = 20


class ImportsMixin(AccountPermissionMixin):
    permission_required = perm(MANAGE_ACCOUNT)
    model = ContactImport

    def get_queryset(self):
        return super().get_queryset().defer("data").select_related("uploaded_by")


class ImportUploadView(ImportsMixin, FormView):
    """Upload a file; it is checked as a whole before anything is stored."""

    template_name = "crm/import_upload.html"
    form_class = ImportUploadForm

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "recent_imports": self.get_queryset().defer("bad_rows", "warnings")[:RECENT_IMPORTS],
            "max_megabytes": import_files.max_megabytes(),
        }

    def form_valid(self, form):
        contact_import = imports.contact_import_create(
            account=self.request.account,
            user=self.request.user,
            uploaded=form.cleaned_data["file"],
        )
        return redirect("import-mapping", pk=contact_import.pk)


class ImportMappingView(ImportsMixin, DetailView):
    """Say what each column holds; the guesses come from the headers."""

    template_name = "crm/import_mapping.html"
    context_object_name = "contact_import"

    def get_queryset(self):
        return ContactImport.objects.for_account(self.request.account)

    def get_form(self) -> ImportMappingForm:
        return ImportMappingForm(
            self.request.POST if self.request.method == "POST" else None,
            headers=self.object.headers,
            samples=imports.sample_rows(self.object),
            lines=Line.objects.for_account(self.request.account).order_by("name", "number"),
        )

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.object.status != ImportStatus.MAPPING:
            return redirect("import", pk=self.object.pk)
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.object.status != ImportStatus.MAPPING:
            return redirect("import", pk=self.object.pk)
        form = self.get_form()
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        imports.contact_import_queue(contact_import=self.object, mapping=form.mapping())
        return redirect("import", pk=self.object.pk)


class ImportDetailView(FragmentForHtmxMixin, ImportsMixin, DetailView):
    """Progress while the import runs (polled), then the result with every bad row."""

    context_object_name = "contact_import"
    template_name = "crm/import_detail.html"
    fragment_template_name = "crm/_import_progress.html"

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


class ImportResumeView(ImportsMixin, View):
    """Queue a stopped import again; it continues after the last stored chunk."""

    def post(self, request, pk: int):
        contact_import = get_object_or_404(self.get_queryset(), pk=pk)
        if contact_import.status == ImportStatus.FAILED:
            imports.contact_import_queue(contact_import=contact_import)
            messages.success(request, "Import queued again; it continues where it stopped.")
        return redirect(reverse("import", args=[pk]))


class ImportBadRowsView(ImportsMixin, View):
    """The rows to fix as CSV, with the file's own columns and a Problem column, to fix in a
    spreadsheet and upload again as they are."""

    def get(self, request, pk: int):
        contact_import = get_object_or_404(self.get_queryset(), pk=pk)
        return csv_download(
            f"rows-to-fix-{contact_import.file_name.removesuffix('.csv')}.csv",
            [*contact_import.headers, "Problem"],
            imports.rows_to_fix(contact_import),
        )
