"""What the consent engine announces, for layers above it to act on (outbound webhooks).

Sent inside the transaction that records the change, so a receiver's writes commit or roll
back with it; a receiver must be quick and must not call out over the network.
"""

from django.dispatch import Signal

# account_id: int; events: list[ConsentEvent], each one that changed a contact's status on a
# line of that account.
consent_changed = Signal()
