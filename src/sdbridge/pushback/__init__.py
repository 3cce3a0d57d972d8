"""Push-back: the gaps of a stored run, as one living comment per ticket, a label and an
optional summary issue, on the tracker the source reads.

- `marker`: how sdbridge's own comments are recognised (and kept out of the evidence);
- `plan`: what to do per ticket (pure), and carrying a plan out through a writer;
- `render`: the words of the comments and of the summary;
- `writers`: the Jira and GitLab writers, on the connectors' shared clients;
- `push`: one source's push of a stored run (`push_source_safely`).

Which writer serves a source, and which stored items are its tickets, the registry says.
"""

from __future__ import annotations

from sdbridge.pushback.marker import MARKER, is_own_text
from sdbridge.pushback.plan import Action, OwnComment, PushResult, TicketWriter, apply, fingerprint, plan

__all__ = [
    "MARKER",
    "Action",
    "OwnComment",
    "PushResult",
    "TicketWriter",
    "apply",
    "fingerprint",
    "is_own_text",
    "plan",
]
