"""Each run's assessment, and its findings kept as spans: one row per gap from the assessed
run it opened in to the one it closed (or changed) in, so the store grows with what changes
and every past run's findings are read back exactly."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from sdbridge.assessment import STORED_FINDING_COLUMNS, Assessment
from sdbridge.store.database import Database, StoreError
from sdbridge.store.schema import assessments, finding_spans, runs

_B = sa.bindparam
_A, _S, _R = assessments.c, finding_spans.c, runs.c
_KEPT = [getattr(_S, c) for c in STORED_FINDING_COLUMNS]
_OF_RUN = sa.and_(_R.tenant == _A.tenant, _R.id == _A.run_id)
"""An assessment joined to its run."""


class Findings(Database):
    """Assessments and finding spans."""

    def _in_run(self, run_id: str) -> Any:
        """The spans that cover one assessed run: opened in it or before, not closed by it."""
        return (
            sa.select(*_KEPT)
            .join(assessments, sa.and_(self.mine(assessments), _A.run_id == run_id))
            .where(_S.tenant == _A.tenant, _S.opened <= _A.seq, sa.or_(_S.closed.is_(None), _S.closed > _A.seq))
        )

    def save_assessment(self, run_id: str, report: dict[str, Any], findings: pd.DataFrame) -> None:
        """Keep a run's assessment and its findings as spans: a finding that is in this run
        word for word as in the last one stays open; one that is gone or changed is closed
        here; a new or changed one opens here. Only what changed is written. Saving the latest
        run again replaces it."""
        columns = list(STORED_FINDING_COLUMNS)
        new = _storable(findings[columns])
        text = json.dumps(report)
        with self.transaction() as conn:
            existing = sa.select(_A.seq).where(self.mine(assessments), _A.run_id == run_id).scalar_subquery()
            latest_seq = sa.select(sa.func.max(_A.seq)).where(self.mine(assessments)).scalar_subquery()
            existing_seq, latest = conn.execute(sa.select(existing, latest_seq)).one()
            mine = self.mine(finding_spans)
            if existing_seq is not None:
                if existing_seq != latest:
                    raise StoreError(f"run {run_id} is not the latest assessed run: its findings cannot be replaced")
                seq = existing_seq
                conn.execute(sa.delete(finding_spans).where(mine, _S.opened == seq))
                conn.execute(sa.update(finding_spans).where(mine, _S.closed == seq).values(closed=None))
                conn.execute(
                    sa.update(assessments).where(self.mine(assessments), _A.run_id == run_id).values(report=text)
                )
            else:
                seq = (latest or 0) + 1
                conn.execute(sa.insert(assessments).values(self._stamp({"run_id": run_id, "report": text, "seq": seq})))
            open_rows = conn.execute(sa.select(_S.row_no, *_KEPT).where(mine, _S.closed.is_(None))).all()
            current = pd.DataFrame([tuple(r) for r in open_rows], columns=["row_no", *columns])
            gone, opened = _span_changes(current, new)
            self._many(
                conn,
                sa.update(finding_spans).where(_S.row_no == _B("b_row")).values(closed=seq),
                ({"b_row": r} for r in gone),
            )
            self._many(
                conn,
                sa.insert(finding_spans),
                (
                    {**dict(zip(columns, row, strict=True)), "tenant": self.tenant, "opened": seq}
                    for row in opened.itertuples(index=False)
                ),
            )

    def latest_assessed_run(self) -> str | None:
        row = self._one(
            sa.select(_R.id).join(assessments, _OF_RUN).where(self.mine(runs)).order_by(_R.started_at.desc()).limit(1)
        )
        return row[0] if row else None

    def assessment(self, run_id: str) -> Assessment | None:
        """A stored run's assessment (without its findings: see `findings`)."""
        row = self._one(sa.select(_A.report).where(self.mine(assessments), _A.run_id == run_id))
        return Assessment.model_validate_json(row[0]) if row else None

    def previous_assessed_run(self, run_id: str) -> str | None:
        """The assessed run before this one."""
        started = sa.select(_R.started_at).where(self.mine(runs), _R.id == run_id).scalar_subquery()
        row = self._one(
            sa.select(_A.run_id)
            .join(runs, _OF_RUN)
            .where(self.mine(assessments), _R.started_at < started)
            .order_by(_R.started_at.desc())
            .limit(1)
        )
        return row[0] if row else None

    def findings(self, run_id: str, source: str | None = None) -> pd.DataFrame:
        """A stored run's findings (of one source), with the columns the store keeps."""
        query = self._in_run(run_id)
        if source is not None:
            query = query.where(_S.source == source)
        rows = self._rows(query.order_by(_S.row_no))
        return pd.DataFrame(rows, columns=list(STORED_FINDING_COLUMNS))

    def trend(self, limit: int = 30) -> list[dict[str, Any]]:
        """Gaps per WP over the last assessed runs, oldest first."""
        rows = self._rows(
            sa.select(_R.id, _R.started_at, _A.report)
            .join(assessments, _OF_RUN)
            .where(self.mine(runs))
            .order_by(_R.started_at.desc())
            .limit(limit)
        )
        trend = []
        for run_id, started, report in reversed(rows):
            by_wp = json.loads(report)["summary"]["by_work_product"]
            trend.append(
                {
                    "run_id": run_id,
                    "started_at": started,
                    "by_work_product": {wp: counts["gaps"] for wp, counts in by_wp.items()},
                }
            )
        return trend

    def finding_ids(self, run_id: str) -> set[str]:
        return {r[0] for r in self._rows(self._in_run(run_id).with_only_columns(_S.id))}

    def finding_history(self, finding_id: str) -> list[tuple[str, str, bool]]:
        """Per assessed run (oldest first): run id, start time, and whether the gap was open."""
        spans = self._rows(sa.select(_S.opened, _S.closed).where(self.mine(finding_spans), _S.id == finding_id))
        assessed = sa.select(_R.id, _R.started_at, _A.seq).join(assessments, _OF_RUN).where(self.mine(runs))
        return [
            (run_id, started, any(o <= seq and (c is None or c > seq) for o, c in spans))
            for run_id, started, seq in self._rows(assessed.order_by(_A.seq))
        ]

    def open_since(self) -> pd.DataFrame:
        """Each finding open in the latest assessed run, with the run its gap has been open
        since without a break (`first_seen`) and that run's start (`first_seen_at`): spans of
        one finding chain when one closes in the run the next opens (its wording changed),
        and a night without it breaks the chain (closed, then reopened, counts anew)."""
        mine = self.mine(finding_spans)
        still_open = sa.select(_S.id).where(mine, _S.closed.is_(None))
        spans = pd.DataFrame(
            self._rows(sa.select(_S.id, _S.opened, _S.closed).where(mine, _S.id.in_(still_open))),
            columns=["id", "opened", "closed"],
        )
        start = spans[spans["closed"].isna()].set_index("id")["opened"].astype("int64")
        earlier = spans.dropna(subset=["closed"]).astype({"closed": "int64"})
        while len(earlier):
            joined = earlier.merge(start.rename("start"), left_on="id", right_index=True)
            linked = joined[joined["closed"] == joined["start"]]
            if linked.empty:
                break
            start.loc[linked["id"].to_numpy()] = linked["opened"].to_numpy()
        runs_frame = pd.DataFrame(
            self._rows(sa.select(_A.seq, _R.id, _R.started_at).join(runs, _OF_RUN).where(self.mine(assessments))),
            columns=["seq", "first_seen", "first_seen_at"],
        ).set_index("seq")
        found = runs_frame.reindex(start.to_numpy())
        found.index = start.index
        return found

    def size_of_findings(self) -> int:
        """Rows the findings take (spans), for the store-growth benchmark."""
        return int(
            self._rows(sa.select(sa.func.count()).select_from(finding_spans).where(self.mine(finding_spans)))[0][0]
        )


def _storable(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings as the store keeps them: Python values, None for missing, no NUL characters
    (which PostgreSQL text cannot hold), so what is read back compares equal. The NUL test
    runs in Arrow over each text column; only a column that holds one is rewritten."""
    clean = findings.copy(deep=False)
    for column in clean.columns:
        if pd.api.types.is_numeric_dtype(clean[column]):
            continue
        text = clean[column].astype("str")
        if text.str.contains("\x00", regex=False, na=False).any():
            clean[column] = text.str.replace("\x00", "\ufffd", regex=False)
    return clean.astype(object).where(clean.notna(), None)


def _span_changes(current: pd.DataFrame, new: pd.DataFrame) -> tuple[list[int], pd.DataFrame]:
    """(row numbers of open spans to close, findings to open): compared word for word on
    every kept column (a finding whose message or severity changed is a new span), by a
    64-bit hash of each row computed column-wise."""
    columns = list(new.columns)
    if current.empty:
        return [], new
    if new.empty:
        return [int(r) for r in current["row_no"]], new

    def digest(frame: pd.DataFrame) -> np.ndarray:
        plain = frame[columns].astype(object).where(frame[columns].notna(), None)
        return pd.util.hash_pandas_object(plain, index=False).to_numpy()

    old_digest, new_digest = digest(current), digest(new)
    kept = np.isin(old_digest, new_digest)
    gone = [int(r) for r in current["row_no"].to_numpy()[~kept]]
    return gone, new[~np.isin(new_digest, old_digest[kept])]
