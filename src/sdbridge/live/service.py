"""Live mode's work: deliveries collapsed per ticket, each ticket read again, judged by the
same mapping and rules as a check, and its one comment and label pushed as the nightly push
would push them.

- **Collapse**: deliveries for one ticket within `live.collapse_seconds` are one evaluation;
  one that arrives while its ticket is evaluated makes one more evaluation after it.
- **Order**: a delivery no newer than the ticket's state already evaluated changes nothing;
  a redelivery (the same delivery id) is dropped.
- **No loop**: sdbridge's own comment and its label edits are recognised and dropped; were
  one to slip through, its evaluation would write nothing (the comment already says it).
- **One writer per ticket**: the ticket is held (`Store.ticket_lock`) while it is planned
  and written — across threads, processes and `serve` replicas on one PostgreSQL store, and
  against the nightly push.
- **Bounded**: at most `live.max_pending` tickets wait; past it a delivery is refused with
  503 (the tracker sends it again).

What a crash or restart loses: the deliveries accepted but not yet evaluated (at most the
pending tickets; a graceful stop evaluates them first). Each of them changed its ticket's
`updated` time, so the next nightly run reads that ticket again (its pull is incremental by
`updated`) and pushes its comment: nothing is lost that the nightly run does not repair.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from sdbridge import registry
from sdbridge.connectors.base import REJECTED, item_table
from sdbridge.dates import epoch_ms
from sdbridge.errors import SdbridgeError
from sdbridge.live.deliveries import Delivery
from sdbridge.mapping.engine import MappingEngine
from sdbridge.mapping.table import merge_tables
from sdbridge.profile import load_catalogue
from sdbridge.pushback.plan import PushResult, PushState, apply, plan
from sdbridge.rules import CheckInput, assess
from sdbridge.secrets import reveal

log = logging.getLogger("sdbridge.live")

LIVE_TYPES = ("jira", "gitlab")
UNSOURCED_REFRESH_SECONDS = 300
"""How often the source-level facts (which fields an export never provides) are looked at
again: they change when a nightly run brings new data."""


@dataclass(order=True)
class _Due:
    at: float
    key: str = field(compare=False)


@dataclass
class _Waiting:
    delivery: Delivery
    received: list[float]
    """When each collapsed delivery arrived (monotonic), for the latency metric."""


class Metrics:
    """What `/metrics` shows, in Prometheus text: events by outcome, the queue, how long an
    evaluation takes and how long from a delivery to its push, pushes by outcome."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter(
            "sdbridge_live_events_received", "Deliveries received", ["source"], registry=self.registry
        )
        self.accepted = Counter(
            "sdbridge_live_events_accepted", "Deliveries queued for evaluation", ["source"], registry=self.registry
        )
        self.rejected = Counter(
            "sdbridge_live_events_rejected",
            "Deliveries refused or dropped, by reason",
            ["source", "reason"],
            registry=self.registry,
        )
        self.pending = Gauge("sdbridge_live_queue_depth", "Tickets waiting to be evaluated", registry=self.registry)
        self.evaluations = Counter(
            "sdbridge_live_evaluations", "Tickets evaluated", ["source", "outcome"], registry=self.registry
        )
        self.evaluation_seconds = Histogram(
            "sdbridge_live_evaluation_seconds", "Time to read, judge and push one ticket", registry=self.registry
        )
        self.latency_seconds = Histogram(
            "sdbridge_live_delivery_to_push_seconds",
            "Time from a delivery's arrival to the end of its ticket's evaluation",
            buckets=(0.5, 1, 2, 2.5, 3, 4, 5, 7.5, 10, 20, 60),
            registry=self.registry,
        )
        self.pushes = Counter("sdbridge_live_pushes", "Push outcomes", ["source", "outcome"], registry=self.registry)


class _Handles(threading.local):
    """Each worker thread's own connectors and writers (their clients keep per-pull state)."""

    def __init__(self) -> None:
        self.by_source: dict[str, tuple[Any, Any]] = {}


class LiveService:
    def __init__(self, config: Any, store: Any) -> None:
        self.config = config
        self.store = store
        self.settings = config.live
        self.sources = {s.name: s for s in config.sources if s.type in LIVE_TYPES}
        self.catalogue = load_catalogue()
        self.engine = MappingEngine(self.catalogue, config.rules.placeholders)
        self.metrics = Metrics()
        self._cond = threading.Condition()
        self._due: list[_Due] = []
        self._waiting: dict[str, _Waiting] = {}
        self._busy: set[str] = set()
        self._again: dict[str, _Waiting] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._evaluated: OrderedDict[str, int] = OrderedDict()
        """Ticket key -> the `updated` time (ms) of the last state evaluated."""
        self._me: dict[str, str] = {}
        self._unsourced: dict[str, dict[str, set[str]]] = {}
        self._unsourced_at = 0.0
        self._unsourced_run: str | None = None
        self._facts = threading.Lock()
        self._handles = _Handles()
        self._workers: list[threading.Thread] = []
        self.draining = False
        self._stopped = False
        self.evaluated_hook: Callable[[str, str], None] | None = None
        """Called after each evaluation with (ticket key, outcome): tests and benchmarks wait on it."""

    # --- secrets and start -----------------------------------------------------------------

    def secret(self, name: str) -> str | None:
        source = self.sources[name]
        if source.webhook.secret is None:
            return None
        return reveal(source.webhook.secret, source=name, purpose="checking webhook deliveries")

    def start(self) -> None:
        """Read what evaluations need once (each source's user, its source-level facts), then
        start the workers. A source that cannot be reached is named and the others serve."""
        for name in self.sources:
            try:
                self._me[name] = self._handle(name)[1].me() if self.sources[name].push.enabled else ""
            except SdbridgeError as exc:
                log.error(json.dumps({"event": "live", "source": name, "status": "failed", "error": str(exc)}))
        self._refresh_unsourced(force=True)
        for n in range(self.settings.workers):
            worker = threading.Thread(target=self._work, name=f"sdbridge-live-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        log.info(json.dumps({"event": "live", "status": "serving", "sources": sorted(self.sources)}))

    def stop(self) -> None:
        """Stop taking deliveries, evaluate every ticket still waiting, then end the workers."""
        with self._cond:
            self.draining = True
            for entry in self._due:
                entry.at = 0.0
            heapq.heapify(self._due)
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._waiting and not self._busy and not self._again)
            self._stopped = True
            self._cond.notify_all()
        for worker in self._workers:
            worker.join()
        log.info(json.dumps({"event": "live", "status": "stopped"}))

    # --- taking deliveries -----------------------------------------------------------------

    def offer(self, delivery: Delivery) -> str:
        """Take a verified delivery: `accepted`, or why not (`duplicate`, `own`, `stale`,
        `unknown`); `full` when the queue holds `max_pending` tickets (answer 503)."""
        name = delivery.source
        self.metrics.received.labels(name).inc()
        me = self._me.get(name)
        if delivery.own_text or (me and delivery.actor == me and (delivery.comment or delivery.label_only)):
            return self._drop(name, "own")
        with self._cond:
            if delivery.delivery_id in self._seen:
                return self._drop(name, "duplicate")
            evaluated = self._evaluated.get(delivery.key)
            if evaluated is not None and delivery.changed_ms is not None and delivery.changed_ms <= evaluated:
                self._remember(delivery.delivery_id)
                return self._drop(name, "stale")
            now = time.monotonic()
            if delivery.key in self._busy:  # being evaluated: once more after it, with this news
                waiting = self._again.setdefault(delivery.key, _Waiting(delivery, []))
                waiting.received.append(now)
            elif delivery.key in self._waiting:
                self._waiting[delivery.key].received.append(now)
            else:
                if len(self._waiting) >= self.settings.max_pending:
                    return self._drop(name, "queue_full", answer="full")
                self._waiting[delivery.key] = _Waiting(delivery, [now])
                heapq.heappush(self._due, _Due(now + self.settings.collapse_seconds, delivery.key))
                self.metrics.pending.set(len(self._waiting))
                self._cond.notify()
            self._remember(delivery.delivery_id)
        self.metrics.accepted.labels(name).inc()
        return "accepted"

    def _drop(self, source: str, reason: str, answer: str | None = None) -> str:
        self.metrics.rejected.labels(source, reason).inc()
        return answer or reason

    def _remember(self, delivery_id: str) -> None:
        self._seen[delivery_id] = None
        while len(self._seen) > self.settings.seen_deliveries:
            self._seen.popitem(last=False)

    @property
    def pending(self) -> int:
        return len(self._waiting)

    # --- the workers -----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    if self._due and self._due[0].at <= now:
                        key = heapq.heappop(self._due).key
                        waiting = self._waiting.pop(key)
                        self._busy.add(key)
                        self.metrics.pending.set(len(self._waiting))
                        break
                    self._cond.wait(timeout=self._due[0].at - now if self._due else None)
            outcome = "failed"
            try:
                with self.metrics.evaluation_seconds.time():
                    outcome = self.evaluate(waiting.delivery)
            except SdbridgeError as exc:
                log.error(json.dumps({"event": "live", "ticket": waiting.delivery.ticket, "error": str(exc)}))
            except Exception as exc:  # noqa: BLE001 - one ticket's bug must not end the service
                log.exception(json.dumps({"event": "live", "ticket": waiting.delivery.ticket, "bug": repr(exc)}))
            finished = time.monotonic()
            for arrived in waiting.received:
                self.metrics.latency_seconds.observe(finished - arrived)
            self.metrics.evaluations.labels(waiting.delivery.source, outcome).inc()
            log.info(
                json.dumps(
                    {
                        "event": "evaluated",
                        "source": waiting.delivery.source,
                        "ticket": waiting.delivery.ticket,
                        "deliveries": len(waiting.received),
                        "outcome": outcome,
                        "seconds": round(finished - min(waiting.received), 3),
                    }
                )
            )
            with self._cond:
                self._busy.discard(key)
                again = self._again.pop(key, None)
                if again is not None:
                    self._waiting[key] = again
                    window = 0.0 if self.draining else self.settings.collapse_seconds
                    heapq.heappush(self._due, _Due(time.monotonic() + window, key))
                self.metrics.pending.set(len(self._waiting))
                self._cond.notify_all()
            if self.evaluated_hook is not None:
                self.evaluated_hook(key, outcome)

    # --- one evaluation --------------------------------------------------------------------

    def _handle(self, name: str) -> tuple[Any, Any]:
        """This thread's connector (prepared once) and writer for a source."""
        if name not in self._handles.by_source:
            source = self.sources[name]
            entry = registry.of(source)
            connector = entry.connect(source, resolve=self.config.resolve)
            connector.client.begin()
            connector.prepare()
            writer = entry.push_writer(source) if source.push.enabled else None
            self._handles.by_source[name] = (connector, writer)
        return self._handles.by_source[name]

    def evaluate(self, delivery: Delivery) -> str:
        """Read the ticket, save it, judge it, push it. Returns what happened: `pushed`,
        `gone` (no longer there), `rejected` (unreadable), `saved` (a record, no ticket)."""
        name = delivery.source
        source = self.sources[name]
        connector, writer = self._handle(name)
        connector.client.begin()  # this evaluation's time budget
        if writer is not None:
            writer.client.begin()
        if source.type == "jira":
            fetched = connector.fetch_issue(delivery.number)
        elif delivery.kind in ("issue", "merge_request"):
            fetched = connector.fetch_ticket(str(delivery.project), delivery.kind, int(delivery.number))
        else:
            fetched = connector.fetch_record(str(delivery.project), delivery.kind, delivery.number)
        if fetched is None:
            return "gone"
        item_id, item, updated = fetched
        if REJECTED in item:
            log.warning(json.dumps({"event": "live", "source": name, "rejected": item[REJECTED]}))
            return "rejected"
        self.store.save_items(name, [fetched], None)
        with self._cond:
            self._evaluated[delivery.key] = max(epoch_ms(updated) or 0, self._evaluated.get(delivery.key, 0))
            self._evaluated.move_to_end(delivery.key)
            while len(self._evaluated) > self.settings.seen_deliveries:
                self._evaluated.popitem(last=False)
        ticket_of = registry.of(source).ticket_of
        ticket = ticket_of(item) if ticket_of is not None else None
        if ticket is None or writer is None:
            return "saved"
        findings = self.findings(source, item, ticket)
        with self.store.ticket_lock(name, ticket):
            previous = PushState.saved(self.store.push_state_of(name, ticket))
            state = {ticket: previous} if previous is not None else {}
            actions = plan(findings, {ticket}, state, source.push.work_products)
            result = apply(
                name,
                actions,
                writer,
                state,
                lambda t, c, f, lab: self.store.save_push_state(name, t, c, f, lab),
                label=source.push.label,
                on_resolved=source.push.on_resolved,
                max_writes=source.push.max_writes,
                dry_run=False,
            )
        self._count(name, result)
        return "pushed"

    def _count(self, source: str, result: PushResult) -> None:
        for outcome in ("created", "updated", "unchanged", "retracted", "capped"):
            if getattr(result, outcome):
                self.metrics.pushes.labels(source, outcome).inc(getattr(result, outcome))
        for note in result.notes:
            self.metrics.pushes.labels(source, "failed").inc()
            log.error(json.dumps({"event": "live", "source": source, "push": note}))

    def findings(self, source: Any, item: dict[str, Any], ticket: str) -> Any:
        """The ticket's findings as a check of the whole source would give them: its one item
        mapped and judged with the source's own facts (which fields its data never provides,
        from the last full mapping of the store's items)."""
        self._refresh_unsourced()
        tables, outcome = self.engine.map_source(item_table(source.name, source.location, [item]), source)
        known = self._unsourced.get(source.name)
        if known is not None:
            tables = {wp: t.with_unsourced({source.name: known.get(wp, set())}) for wp, t in tables.items()}
        data = CheckInput(
            tables=merge_tables(self.catalogue, {wp: [t] for wp, t in tables.items()}),
            outcomes=[outcome],
            fed_by={wp: [source.name] for wp in source.mappings},
            evidence={k: [f"{source.name}: {v}"] for k, v in source.evidence.items()},
            process=self.config.process,
        )
        assessment = assess(
            self.catalogue,
            data,
            variation=self.config.profile.variation,
            placeholders=self.config.rules.placeholders,
            run_id="live",
            generated_at=datetime.now(UTC),
        )
        found = assessment.findings
        if not len(found):
            return found
        mine = found["source"].astype(str).eq(source.name) & found["record_id"].astype(str).eq(ticket)
        return found[mine.to_numpy()]

    def _refresh_unsourced(self, force: bool = False) -> None:
        """Each source's fields its data never provides, from a mapping of all its stored
        items: at start and after each new assessed run (looked at every few minutes)."""
        with self._facts:
            now = time.monotonic()
            if not force and now - self._unsourced_at < UNSOURCED_REFRESH_SECONDS:
                return
            self._unsourced_at = now
            latest = self.store.latest_assessed_run()
            if not force and latest == self._unsourced_run:
                return
            self._unsourced_run = latest
            facts: dict[str, dict[str, set[str]]] = {}
            for name, source in self.sources.items():
                items = self.store.items(name)
                if not items:
                    continue
                tables, _ = self.engine.map_source(item_table(name, source.location, items), source)
                facts[name] = {wp: set(t.unsourced.get(name, set())) for wp, t in tables.items()}
            self._unsourced = facts


__all__ = ["LiveService", "Metrics"]
