"""Every named page of the project: who may use it, with which object, and what it answers.

The URL walk (tests/walks/test_url_walk.py) checks the project's URL patterns against it, so a
new page without a decision fails there; the browser sweep (tests/browser/) visits every page it
lists for each role.
"""

from dataclasses import dataclass

from django.urls import reverse

from crm.roles import Role

AGENTS, MANAGERS, ADMINS = Role.AGENT, Role.MANAGER, Role.ADMIN
EVERY_ROLE = frozenset(Role)
REPORTERS = frozenset({MANAGERS, ADMINS})
SENDERS = frozenset({MANAGERS, ADMINS})
ACCOUNT_ADMINS = frozenset({ADMINS})


@dataclass(frozen=True)
class Decision:
    """Who may use a page, what its `<pk>` is, and what each method answers them.

    `get` and `post` are the statuses for an allowed user (POST with an empty body); None means
    the view does not answer that method. Everyone else gets 403; a user of another account gets
    404 for every object id.
    """

    roles: frozenset[Role]
    get: int | None = 200
    post: int | None = None
    obj: str | None = None
    htmx: bool = False
    args: tuple = ()


DECISIONS = {
    "home": Decision(EVERY_ROLE),
    "contacts": Decision(EVERY_ROLE),
    "contacts-export": Decision(EVERY_ROLE),
    "contact-create": Decision(EVERY_ROLE, post=200),
    "contact": Decision(EVERY_ROLE, obj="contact"),
    "contact-edit": Decision(EVERY_ROLE, post=302, obj="contact"),
    "contact-consent": Decision(EVERY_ROLE, obj="contact", htmx=True),
    "contact-record": Decision(REPORTERS, obj="contact"),
    "conversations": Decision(EVERY_ROLE),
    "conversation": Decision(EVERY_ROLE, post=200, obj="conversation"),
    "conversation-consent": Decision(EVERY_ROLE, get=None, post=302, obj="conversation"),
    "conversation-review": Decision(EVERY_ROLE, get=None, post=302, obj="conversation"),
    "conversation-status": Decision(EVERY_ROLE, get=None, post=302, obj="conversation"),
    "conversation-message": Decision(EVERY_ROLE, get=302, obj="message"),
    "conversation-new": Decision(EVERY_ROLE, post=200),
    "conversation-message-cancel": Decision(EVERY_ROLE, get=None, post=302, obj="message"),
    "broadcasts": Decision(EVERY_ROLE),
    "broadcast-create": Decision(SENDERS, post=200),
    "broadcast": Decision(EVERY_ROLE, obj="broadcast", htmx=True),
    "broadcast-send": Decision(SENDERS, get=None, post=302, obj="broadcast"),
    "broadcast-cancel": Decision(SENDERS, get=None, post=302, obj="broadcast"),
    "broadcast-list": Decision(EVERY_ROLE, obj="broadcast", args=("will-get",)),
    "account-settings": Decision(ACCOUNT_ADMINS, post=200),
    "imports": Decision(ACCOUNT_ADMINS, post=200),
    "import": Decision(ACCOUNT_ADMINS, obj="import", htmx=True),
    "import-mapping": Decision(ACCOUNT_ADMINS, post=200, obj="import"),
    "import-resume": Decision(ACCOUNT_ADMINS, get=None, post=302, obj="import"),
    "import-bad-rows": Decision(ACCOUNT_ADMINS, obj="import"),
    "responders": Decision(ACCOUNT_ADMINS, htmx=True),
    "responder-create": Decision(ACCOUNT_ADMINS, post=200),
    "responder-edit": Decision(ACCOUNT_ADMINS, post=200, obj="responder"),
    "responder-delete": Decision(ACCOUNT_ADMINS, post=302, obj="responder"),
    "responder-active": Decision(ACCOUNT_ADMINS, get=None, post=302, obj="responder"),
    "api-keys": Decision(ACCOUNT_ADMINS, post=200),
    "api-key-revoke": Decision(ACCOUNT_ADMINS, get=None, post=302, obj="api_key"),
    "webhooks": Decision(ACCOUNT_ADMINS, post=200),
    "webhook": Decision(ACCOUNT_ADMINS, post=200, obj="webhook"),
    "webhook-enable": Decision(ACCOUNT_ADMINS, get=None, post=302, obj="webhook"),
    "webhook-delete": Decision(ACCOUNT_ADMINS, get=None, post=302, obj="webhook"),
    "webhook-resend": Decision(ACCOUNT_ADMINS, get=None, post=302, obj="webhook", args=(1,)),
    "reports": Decision(REPORTERS),
    "snapshot": Decision(REPORTERS),
    "snapshot-download": Decision(REPORTERS, get=400),  # 400 names the lines to choose
    "compliance": Decision(REPORTERS),
    "compliance-download": Decision(REPORTERS, args=("reached",)),
}


def page_url(name: str, pk: int) -> str:
    decision = DECISIONS[name]
    return reverse(name, args=[pk, *decision.args] if decision.obj else list(decision.args))
