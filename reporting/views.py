"""Reporting (managers and admins): the list of reports and the Opt In & Out Snapshot."""

from datetime import timedelta

from django.http import Http404
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
from reporting import compliance
from reporting.charts import weekly_chart
from reporting.compliance_csv import SECTIONS
from reporting.filters import SnapshotFilter
from reporting.forms import ComplianceForm
from reporting.snapshot import line_totals, weekly_trend
from reporting.tables import (
    CSV_HEADER,
    ConfirmationTable,
    FlagTable,
    ReachedTable,
    SnapshotTable,
    UnsubscribedErrorTable,
)

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


AUDIT_PAGE_SIZE = 25


class ComplianceMixin(ReportsMixin):
    def compliance_form(self) -> ComplianceForm:
        return ComplianceForm(self.request.GET, account=self.request.account, now=timezone.now())


class ComplianceView(ComplianceMixin, TemplateView):
    """Reporting > Compliance: totals on top, then each question's rows, a page at a time."""

    template_name = "reporting/compliance.html"

    def get_context_data(self, **kwargs):
        form = self.compliance_form()
        context = {**super().get_context_data(**kwargs), "form": form}
        if not form.is_valid():
            return context
        period = form.period()
        late = compliance.confirmations(period).filter(verdict__in=compliance.LATE_OR_MISSING)
        reached = compliance.texts_to_opted_out(period)
        errors = compliance.unsubscribed_errors(period)
        flags = compliance.unreviewed_flags(period)
        related = ("contact", "line")
        tables = {
            "confirmations": ConfirmationTable(
                late.select_related(*related, "message").order_by("occurred_at", "pk"),
                zone=period.zone,
                prefix="confirmations-",
            ),
            "reached": ReachedTable(
                reached.select_related(*related).order_by("moment", "pk"),
                zone=period.zone,
                prefix="reached-",
            ),
            "errors": UnsubscribedErrorTable(
                errors.select_related(*related).order_by("moment", "pk"),
                zone=period.zone,
                prefix="errors-",
            ),
            "flags": FlagTable(
                flags.select_related(*related, "flagged_message"), period=period, prefix="flags-"
            ),
        }
        for table in tables.values():
            RequestConfig(
                self.request,
                paginate={"per_page": AUDIT_PAGE_SIZE, "paginator_class": BoundedLazyPaginator},
            ).configure(table)
        by_source = compliance.opt_outs_by_source(period)
        verdicts = compliance.confirmation_totals(period)
        context.update(
            period=period,
            by_source=by_source,
            opt_out_total=sum(row["total"] for row in by_source),
            verdicts=verdicts,
            late_or_missing=sum(verdicts[verdict] for verdict in compliance.LATE_OR_MISSING),
            reached_count=reached.count(),
            error_count=errors.count(),
            flag_count=flags.count(),
            overdue_count=compliance.overdue_count(period),
            query=self.request.GET.urlencode(),
            **tables,
        )
        return context


class ComplianceDownloadView(ComplianceMixin, View):
    """One question of the audit, every row, streamed as CSV."""

    def get(self, request, section: str, *args, **kwargs):
        if section not in SECTIONS:
            raise Http404("No such part of the audit.")
        form = self.compliance_form()
        if not form.is_valid():
            return invalid_input("Invalid audit", form.errors)
        period = form.period()
        header, rows = SECTIONS[section](period)
        filename = (
            f"compliance-{section}_{period.start:%Y-%m-%d}_"
            f"{period.end - timedelta(days=1):%Y-%m-%d}.csv"
        )
        return csv_download(filename, header, rows)
