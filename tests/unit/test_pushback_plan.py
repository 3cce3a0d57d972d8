"""Push-back planning and applying, with an in-memory writer: exactness under failures."""

from __future__ import annotations

import pandas as pd

from sdbridge.errors import RetriableSourceError
from sdbridge.pushback.plan import OwnComment, PushState, apply, plan


class MemoryWriter:
    def __init__(self, fail_label: bool = False) -> None:
        self.comments: dict[str, dict[str, str]] = {}
        self.labels: dict[str, set[str]] = {}
        self.fail_label = fail_label
        self.writes = 0

    def me(self) -> str:
        return "bot"

    def find(self, comments):
        return {t: OwnComment(c, "bot", True) if c in self.comments.get(t, {}) else None for t, c in comments.items()}

    def words(self, lines):
        return "resolved" if lines is None else "\n".join(lines)

    def find_own(self, ticket, me):
        ids = sorted(self.comments.get(ticket, {}))
        return OwnComment(ids[-1], "bot", True, self.comments[ticket][ids[-1]]) if ids else None

    def create(self, ticket, lines):
        self.writes += 1
        cid = str(len(self.comments.get(ticket, {})) + 1)
        self.comments.setdefault(ticket, {})[cid] = "\n".join(lines)
        return cid

    def update(self, ticket, comment_id, lines):
        self.writes += 1
        self.comments[ticket][comment_id] = "resolved" if lines is None else "\n".join(lines)

    def delete(self, ticket, comment_id):
        self.writes += 1
        del self.comments[ticket][comment_id]

    def label(self, ticket, label, add):
        if self.fail_label:
            raise RetriableSourceError("labelling failed: HTTP 503", source="x")
        self.writes += 1
        (self.labels.setdefault(ticket, set()).add if add else self.labels.setdefault(ticket, set()).discard)(label)

    def summary(self, existing, title, lines):
        return "1"


def findings(*rows):
    """Rows of (work product, ticket, message); the item and status are read off the message."""
    frame = pd.DataFrame(rows, columns=["work_product", "record_id", "message"])
    frame["item"] = (
        frame["message"]
        .str.extract(r"\((WP\.\d\d) (\w)\)")
        .apply(lambda m: f"{m[0]}.{m[1]}" if isinstance(m[0], str) else "WP.18.x", axis=1)
        if len(frame)
        else []
    )
    frame["status"] = "missing"
    return frame


def run(writer, frame, state, active=("T-1", "T-2")):
    saved = {}

    def save(ticket, comment_id, mark, labelled):
        state[ticket] = PushState(comment_id, mark, labelled)
        saved[ticket] = True

    actions = plan(frame, set(active), state, ("WP.18",))
    return apply("src", actions, writer, state, save, label="gap", on_resolved="note", max_writes=50, dry_run=False)


def test_a_failed_label_never_leads_to_a_second_comment():
    frame = findings(("WP.18", "T-1", "Priority (WP.18 f) is missing"))
    state: dict = {}
    failing = MemoryWriter(fail_label=True)
    first = run(failing, frame, state)
    assert first.created == 0 and first.notes and len(failing.comments["T-1"]) == 1
    failing.fail_label = False
    second = run(failing, frame, state)
    assert len(failing.comments["T-1"]) == 1  # the comment written before the failure is kept, not duplicated
    assert second.created == 0 and "gap" in failing.labels["T-1"]  # ... and the label is added now
    third = run(failing, frame, state)
    assert third.unchanged == 1 and failing.writes == 2  # one comment + one label, nothing more


def test_a_ticket_that_left_the_source_is_not_touched():
    frame = findings(("WP.18", "T-1", "Priority (WP.18 f) is missing"))
    state: dict = {}
    writer = MemoryWriter()
    run(writer, frame, state)
    before = writer.writes
    result = run(writer, findings(), state, active=("T-2",))
    assert result.retracted == 0 and writer.writes == before


def test_other_work_products_and_inactive_tickets_are_not_planned():
    frame = findings(("WP.02", "CI-1", "Owner (WP.02 f) is missing"), ("WP.18", "T-9", "x"))
    assert plan(frame, {"T-1"}, {}, ("WP.18",)) == []


def test_rewording_a_message_changes_no_fingerprint_but_a_new_gap_does():
    state: dict = {}
    writer = MemoryWriter()
    run(writer, findings(("WP.18", "T-1", "Priority (WP.18 f) is missing")), state)
    before = dict(state)
    reworded = findings(("WP.18", "T-1", "The priority (WP.18 f) has not been recorded yet"))
    assert [a.kind for a in plan(reworded, {"T-1"}, state, ("WP.18",))] == ["unchanged"]
    assert run(writer, reworded, state).unchanged == 1 and state == before  # no comment rewritten
    invalid = reworded.assign(status="invalid")
    assert [a.kind for a in plan(invalid, {"T-1"}, state, ("WP.18",))] == ["update"]
    more = findings(("WP.18", "T-1", "Priority (WP.18 f) is missing"), ("WP.18", "T-1", "Impact (WP.18 d) is missing"))
    update = plan(more, {"T-1"}, state, ("WP.18",))
    assert [a.kind for a in update] == ["update"] and len(update[0].lines) == 2
