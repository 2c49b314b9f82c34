"""What happens to messages, announced for layers above (outbound webhooks).

Each is sent inside the transaction that stores the change, with `messages`: a list of the
messages concerned (their `line` and `contact` loaded where the sender had them). Receivers
must be quick and must not call out over the network: they run in the worker or request that
made the change.
"""

from django.dispatch import Signal

# A contact's text, once processed (its contact known).
message_received = Signal()
# An outbound text the gate refused, stored with its reason.
message_blocked = Signal()
# An outbound text handed over, delivered or failed (`status` is the new one).
message_status_changed = Signal()
