"""A shopper's HTTP client as the mini-program behaves: on a lost connection, a
timeout or a 5xx it waits and sends the same request again (with the same
Idempotency-Key), for as long as a patient person would.

Every answer is counted, so the report can say how many 5xx the run met and
on which routes; a 5xx is retried but it is still a finding.
"""
import collections
import re
import threading
import time
import uuid

import requests

RETRYABLE = {500, 502, 503, 504}
PATH_IDS = re.compile(r"/\d+|/[0-9a-f]{16,}|/wx[\w-]+")


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.answers = collections.Counter()  # (route, status)
        self.retries = collections.Counter()  # route
        self.gave_up = collections.Counter()  # route

    def answer(self, route, status):
        with self.lock:
            self.answers[(route, status)] += 1

    def retry(self, route):
        with self.lock:
            self.retries[route] += 1

    def give_up(self, route):
        with self.lock:
            self.gave_up[route] += 1

    def server_errors(self):
        return {f"{route} {status}": count for (route, status), count in self.answers.items()
                if status >= 500}


class GaveUp(Exception):
    """The request kept failing for longer than the client's patience."""


class Client:
    def __init__(self, base_url, counters, patience=90.0):
        self.base_url = base_url
        self.counters = counters
        self.patience = patience

    def call(self, method, path, token=None, json=None, idempotent_key=False):
        """-> (status, body). Retries network errors and 5xx; anything else is the answer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if idempotent_key:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        route = f"{method} {PATH_IDS.sub('/{id}', path)}"
        deadline, wait = time.monotonic() + self.patience, 0.3
        while True:
            try:
                answer = requests.request(method, self.base_url + path, json=json,
                                          headers=headers, timeout=15)
                self.counters.answer(route, answer.status_code)
                if answer.status_code not in RETRYABLE:
                    return answer.status_code, _body(answer)
            except requests.RequestException:
                self.counters.answer(route, 0)  # 0: no answer at all (refused, reset, timeout)
            if time.monotonic() > deadline:
                self.counters.give_up(route)
                raise GaveUp(f"{route} kept failing for {self.patience:.0f}s")
            self.counters.retry(route)
            time.sleep(wait)
            wait = min(wait * 1.5, 3.0)


def _body(answer):
    try:
        return answer.json()
    except ValueError:
        return {"raw": answer.text[:200]}
