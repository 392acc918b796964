"""The Message Batches API: create, list, poll until "ended", cancel, delete and read the results."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tests.support.fake_messages_api.answers import Outcome
from tests.support.fake_messages_api.replies import ERROR_MESSAGES, Reply, json_reply, now, rfc3339
from tests.support.fake_messages_api.request_body import validate

if TYPE_CHECKING:
    from tests.support.fake_messages_api.fake import FakeMessagesAPI


@dataclass
class Batch:
    id: str
    created_at: datetime
    results: list[dict]  # one MessageBatchIndividualResponse dict per request, in request order
    status: str = "in_progress"  # in_progress | canceling | ended
    polls: int = 0
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None


class Batches:
    """The batches of one fake. Each request of a new batch consumes one queued behaviour, at once;
    the batch reports "ended" after `fake.batch_polls_until_done` GETs."""

    def __init__(self, fake: FakeMessagesAPI) -> None:
        self.fake = fake
        self._lock = threading.RLock()
        self._batches: dict[str, Batch] = {}

    def clear(self) -> None:
        with self._lock:
            self._batches.clear()

    def route(self, method: str, rest: list[str], body: dict | None) -> Reply:
        """Answer METHOD /v1/messages/batches/REST..."""
        if not rest:
            if method == "POST":
                return self._create(body)
            if method == "GET":
                return self._list()
            return self.fake._not_found(method, "/v1/messages/batches")
        batch_id, action = rest[0], rest[1:]
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return self.fake._error(404, "not_found_error", f"message batch {batch_id} not found")
            if not action and method == "GET":
                return self._poll(batch)
            if not action and method == "DELETE":
                if batch.status != "ended":
                    return self.fake._error(400, "invalid_request_error", "a batch must end before it can be deleted")
                del self._batches[batch_id]
                return json_reply({"id": batch_id, "type": "message_batch_deleted"})
            if action == ["cancel"] and method == "POST":
                return self._cancel(batch)
            if action == ["results"] and method == "GET":
                if batch.status != "ended":
                    return self.fake._error(404, "not_found_error", "results are available once the batch has ended")
                lines = "".join(json.dumps(r) + "\n" for r in batch.results)
                return Reply(200, lines.encode("utf-8"), "application/binary")
        return self.fake._not_found(method, "/v1/messages/batches/" + "/".join(rest))

    def _list(self) -> Reply:
        with self._lock:
            batches = sorted(self._batches.values(), key=lambda b: b.created_at, reverse=True)
            data = [self._json(b) for b in batches]
        return json_reply({"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                           "last_id": data[-1]["id"] if data else None})

    def _poll(self, batch: Batch) -> Reply:
        batch.polls += 1
        if batch.status == "canceling" or (
            batch.status == "in_progress" and batch.polls >= self.fake.batch_polls_until_done
        ):
            self._end(batch)
        return json_reply(self._json(batch))

    def _cancel(self, batch: Batch) -> Reply:
        if batch.status == "in_progress":
            batch.status = "canceling"
            batch.cancel_initiated_at = now()
            batch.results = [{"custom_id": r["custom_id"], "result": {"type": "canceled"}} for r in batch.results]
        return json_reply(self._json(batch))

    def _create(self, body: dict | None) -> Reply:
        requests = (body or {}).get("requests")
        if not isinstance(requests, list) or not requests:
            return self.fake._error(400, "invalid_request_error", "requests: at least one request is required")
        custom_ids = [r.get("custom_id") if isinstance(r, dict) else None for r in requests]
        if any(not isinstance(c, str) or not c for c in custom_ids):
            return self.fake._error(400, "invalid_request_error", "requests.*.custom_id: Field required")
        if len(set(custom_ids)) != len(custom_ids):
            return self.fake._error(400, "invalid_request_error", "requests.*.custom_id must be unique")
        for i, r in enumerate(requests):
            problem = validate(r.get("params"), where=f"requests.{i}.params.")
            if problem:
                return self.fake._error(400, "invalid_request_error", problem)
        results = []
        for custom_id, r in zip(custom_ids, requests):
            behaviour = self.fake._next_behaviour(allow_rate_limit=False)
            outcome = self.fake._answers.outcome(behaviour, r["params"], service_tier="batch")
            results.append({"custom_id": custom_id, "result": self._result(outcome)})
        batch = Batch(id=f"msgbatch_fake{uuid.uuid4().hex[:20]}", created_at=now(), results=results)
        with self._lock:
            if self.fake.batch_polls_until_done <= 0:
                self._end(batch)
            self._batches[batch.id] = batch
            return json_reply(self._json(batch))

    @staticmethod
    def _result(outcome: Outcome) -> dict:
        if outcome.kind == "message":
            return {"type": "succeeded", "message": outcome.message}
        if outcome.kind in ("expired", "canceled"):
            return {"type": outcome.kind}
        error_type = outcome.error_type if outcome.kind == "error" else "api_error"
        message = outcome.error_message or ERROR_MESSAGES.get(error_type, error_type)
        return {"type": "errored", "error": {"type": "error", "error": {"type": error_type, "message": message}}}

    @staticmethod
    def _end(batch: Batch) -> None:
        batch.status = "ended"
        batch.ended_at = now()

    def _json(self, batch: Batch) -> dict:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.status == "ended":
            for line in batch.results:
                counts[line["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.results)
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": rfc3339(batch.created_at),
            "expires_at": rfc3339(batch.created_at + timedelta(hours=24)),
            "ended_at": rfc3339(batch.ended_at),
            "cancel_initiated_at": rfc3339(batch.cancel_initiated_at),
            "archived_at": None,
            "results_url": f"{self.fake.base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }
