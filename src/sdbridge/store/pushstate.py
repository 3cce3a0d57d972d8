"""What push-back wrote on each ticket: the comment sdbridge owns there, the fingerprint of
what it said, and whether the label is on (push-back reads a row as a `PushState`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sdbridge.store.database import Database, now
from sdbridge.store.schema import push_state

PushRow = tuple[str | None, str | None, bool]
"""What push-back saved for a ticket: its comment's id, the fingerprint of what it said, and
whether the label is on."""

_P = push_state.c


class PushStates(Database):
    """Push-back's state per ticket."""

    def push_state(self, source: str) -> dict[str, PushRow]:
        """Per ticket, what push-back saved: (comment id, fingerprint, labelled)."""
        rows = self._rows(
            sa.select(_P.ticket, _P.comment_id, _P.fingerprint, _P.labelled).where(
                self.mine(push_state), _P.source == source
            )
        )
        return {t: (c, f, bool(lab)) for t, c, f, lab in rows}

    def push_state_of(self, source: str, ticket: str) -> PushRow | None:
        """One ticket's saved push state (read again while the ticket is held)."""
        row = self._one(
            sa.select(_P.comment_id, _P.fingerprint, _P.labelled).where(
                self.mine(push_state), _P.source == source, _P.ticket == ticket
            )
        )
        return (row[0], row[1], bool(row[2])) if row else None

    def save_push_state(
        self, source: str, ticket: str, comment_id: str | None, fingerprint: str, labelled: bool
    ) -> None:
        row: dict[str, Any] = {"source": source, "ticket": ticket, "comment_id": comment_id, "fingerprint": fingerprint}
        row |= {"labelled": int(labelled), "updated_at": now()}
        update = ("comment_id", "fingerprint", "labelled", "updated_at")
        self._write(self._upsert(push_state, ("source", "ticket"), update).values(self._stamp(row)))
