"""The alert-state vocabulary, the one definition every package uses (contract section 4).

An alert is ``pending`` while its condition holds but has not yet held for the rule's ``for_s``;
then ``firing`` (a CS call to action); a person may ``acknowledged`` or ``snoozed`` it; it ends
``resolved``.  "Open" means a call to action nobody has closed: what the API's ``state=open``
filter, the overview's count and the customer page's card and heading all count.
"""

from __future__ import annotations

STATES = ("pending", "firing", "acknowledged", "snoozed", "resolved")
PENDING, FIRING, ACKNOWLEDGED, SNOOZED, RESOLVED = STATES
#: a call to action not yet resolved
OPEN = ("firing", "acknowledged", "snoozed")
#: rows the engine still tracks (open, or waiting for their for_s)
UNRESOLVED = ("pending", *OPEN)
