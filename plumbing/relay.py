"""Publishes outbox rows to RabbitMQ, at least once, in order of writing.

Rows are claimed with `FOR UPDATE SKIP LOCKED`, so two replicas of a service
share the backlog without publishing a row twice at the same time; a row is
marked published only after the broker confirmed it. A crash between the
confirm and the mark republishes the row, which the consumers' inbox absorbs.
"""
import json
import logging
import os
from datetime import timedelta

import eventlet
import sqlalchemy as sa
from eventlet.event import Event
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy.orm import Session

from plumbing import clock, messaging, settings

log = logging.getLogger(__name__)
BATCH = 100
KEEP_PUBLISHED = timedelta(days=7)


class OutboxRelay:
    def __init__(self, service, engine, config):
        self.service = service
        self.engine = engine
        self.exchange = get_event_exchange(service, config)
        self.publisher = Publisher(config["AMQP_URI"], use_confirms=True, serializer="json",
                                   declare=[self.exchange],
                                   retry_policy={"max_retries": 1})
        self._wake = Event()
        self._running = True
        self._last_purge = None

    def wake(self):
        if not self._wake.ready():
            self._wake.send(True)

    def stop(self):
        self._running = False
        self.wake()

    def run(self):
        while self._running:
            self._wake = Event()  # before publishing: a wake() from now on is not missed
            try:
                while self._running and self.publish_batch() == BATCH:
                    pass
                self._purge_old()
            except Exception:  # broker or database away: keep the rows, try again
                log.exception("outbox relay of %s could not publish; will retry", self.service)
                eventlet.sleep(settings.outbox_poll_seconds())
            with eventlet.Timeout(settings.outbox_poll_seconds(), False):
                self._wake.wait()

    def publish_batch(self):
        """Publish up to BATCH pending rows; returns how many went out."""
        table = messaging.outbox
        with Session(self.engine) as session, session.begin():
            rows = session.execute(
                sa.select(table.c.seq, table.c.event_id, table.c.event_type,
                          table.c.payload, table.c.request_id)
                .where(table.c.published_at.is_(None))
                .order_by(table.c.seq).limit(BATCH)
                .with_for_update(skip_locked=True)).all()
            if rows and settings.fault("crash_before_publish"):
                log.warning("fault injection: dying between commit and publish")
                eventlet.sleep(1)  # let the worker's reply leave first, as in a real crash later on
                os._exit(137)
            for row in rows:
                self._publish(row)
            if rows:
                session.execute(table.update()
                                .where(table.c.seq.in_([row.seq for row in rows]))
                                .values(published_at=clock.now()))
        return len(rows)

    def _publish(self, row):
        headers = {"nameko.event_id": row.event_id}
        if row.request_id:
            headers["nameko.request_id"] = row.request_id
        self.publisher.publish(json.loads(row.payload), exchange=self.exchange,
                               routing_key=row.event_type, headers=headers,
                               message_id=row.event_id)

    def _purge_old(self):
        now = clock.now()
        if self._last_purge and now - self._last_purge < timedelta(hours=1):
            return
        self._last_purge = now
        table = messaging.outbox
        with Session(self.engine) as session, session.begin():
            session.execute(table.delete().where(table.c.published_at < now - KEEP_PUBLISHED))
