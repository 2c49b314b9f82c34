from django.utils.functional import SimpleLazyObject

from crm.scoping import managed_account
from keywords.selectors import responder_coverage_gaps


def responder_warning(request) -> dict:
    """The opt-in / opt-out responders the account lacks, for the banner on admins' pages.

    Lazy: computed only when a page shows the banner, and only for admins.
    """

    def gaps():
        account = managed_account(request)
        return responder_coverage_gaps(account) if account is not None else []

    return {"responder_gaps": SimpleLazyObject(gaps)}
