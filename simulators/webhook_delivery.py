"""Webhook deliveries of the simulators: HTTP POSTs made one after another on a thread of their own, so a
simulated change never waits for the receiver (and never holds the simulator's lock while posting)."""

import queue
import threading

import requests

TIMEOUT = 10


class Deliverer:
    """Posts ``(url, body bytes, headers, on_answer)`` in order; ``on_answer(status or None, error text)``
    is called after each post (None: no answer). ``log`` keeps ``(url, status)`` of every post."""

    def __init__(self):
        self.log = []
        self._queue = queue.Queue()
        self._thread = None
        self._idle = threading.Condition()
        self._pending = 0

    def post(self, url, body, headers, on_answer=None):
        with self._idle:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)
                self._thread.start()
        self._queue.put((url, body, headers, on_answer))

    def wait(self, timeout=30):
        """Block until every queued delivery was posted; False if ``timeout`` seconds passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self):
        while True:
            url, body, headers, on_answer = self._queue.get()
            status, error = None, None
            try:
                answer = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
                status, error = answer.status_code, answer.text[:300]
            except requests.RequestException as exc:
                error = str(exc)
            self.log.append((url, status))
            if on_answer:
                on_answer(status, error)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
