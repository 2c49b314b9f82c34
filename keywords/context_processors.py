from django.utils.functional import SimpleLazyObject

from crm.roles import MANAGE_ACCOUNT, perm
from keywords.selectors import responder_coverage_gaps


def responder_warning(request) -> dict:
    """The opt-in / opt-out responders the account lacks, for the banner on admins' pages.

    Lazy: computed only when a page shows the banner, and only for admins.
    """

    def gaps():
        user = getattr(request, "user", None)
        account = getattr(request, "account", None)
        if not (user and user.is_authenticated and account and user.has_perm(perm(MANAGE_ACCOUNT))):
            return []
        return responder_coverage_gaps(account)

    return {"responder_gaps": SimpleLazyObject(gaps)}
