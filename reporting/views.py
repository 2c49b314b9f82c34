"""Reporting (managers and admins): the list of reports and the Opt In & Out Snapshot."""

from django.utils import timezone
from django.utils.text import slugify
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from core.csv_download import csv_download
from core.pagination import BoundedLazyPaginator
from core.responses import invalid_input
from crm.models import Consent
from crm.roles import VIEW_REPORTS, perm
from crm.scoping import AccountPermissionMixin
from reporting.charts import weekly_chart
from reporting.filters import SnapshotFilter
from reporting.snapshot import line_totals, weekly_trend
from reporting.tables import CSV_HEADER, SnapshotTable

PAGE_SIZE = 50


class ReportsMixin(AccountPermissionMixin):
    permission_required = perm(VIEW_REPORTS)
    model = Consent

    def snapshot_filter(self) -> SnapshotFilter:
        return SnapshotFilter(
            self.request.GET or None,
            queryset=Consent.objects.none(),
            account=self.request.account,
        )

    def ordered_table(self, snapshot: SnapshotFilter, paginate) -> SnapshotTable:
        table = SnapshotTable(snapshot.qs)
        return RequestConfig(self.request, paginate=paginate).configure(table)


class ReportListView(ReportsMixin, TemplateView):
    template_name = "reporting/report_list.html"


class SnapshotView(ReportsMixin, TemplateView):
    """The form, then per-line totals, the weekly trend and the rows."""

    template_name = "reporting/snapshot.html"

    def get_context_data(self, **kwargs):
        snapshot = self.snapshot_filter()
        context = {**super().get_context_data(**kwargs), "filter": snapshot}
        if snapshot.is_bound and snapshot.is_valid():
            lines = snapshot.chosen_lines
            as_of = snapshot.form.cleaned_data.get("as_of")
            context.update(
                totals=line_totals(snapshot.qs),
                chart=weekly_chart(weekly_trend(lines, until=as_of)),
                table=self.ordered_table(
                    snapshot,
                    {"per_page": PAGE_SIZE, "paginator_class": BoundedLazyPaginator},
                ),
                as_of=as_of,
                download_query=self.request.GET.urlencode(),
            )
        return context


class SnapshotDownloadView(ReportsMixin, View):
    """Every row of the snapshot as on screen (filters and sort), streamed as CSV."""

    def get(self, request, *args, **kwargs):
        snapshot = self.snapshot_filter()
        if not (snapshot.is_bound and snapshot.is_valid()):
            errors = snapshot.errors if snapshot.is_bound else {"lines": ["Choose at least one."]}
            return invalid_input("Invalid report", errors)
        rows = self.ordered_table(snapshot, paginate=False).data.data
        return csv_download(_filename(snapshot), CSV_HEADER, rows.csv_rows(), free_text=())


def _filename(snapshot: SnapshotFilter) -> str:
    lines = "+".join(slugify(line.name) or str(line.pk) for line in snapshot.chosen_lines)
    as_of = snapshot.form.cleaned_data.get("as_of")
    moment = (
        f"as-of-{timezone.localtime(as_of):%Y-%m-%dT%H%M}"
        if as_of
        else f"current-{timezone.localtime():%Y-%m-%dT%H%M}"
    )
    return f"opt-in-out-snapshot_{lines}_{moment}.csv"
