"""A webhook receiver in its own process, as another system would run one (the notifications tests start it).

    python -m tests.probe.webhook_receiver PORT SECRET LOG FAIL_FIRST

Answers 500 to the first FAIL_FIRST requests, then 204; verifies every request's signature with SECRET and appends
one JSON line per request to LOG: {"event_id", "event_type", "signature_ok", "answered"}.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.notifications.domain.webhooks import HEADER, verify

PORT, SECRET, LOG, FAIL_FIRST = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = {"requests": 0}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen["requests"] += 1
        answered = 500 if seen["requests"] <= FAIL_FIRST else 204
        envelope = json.loads(body)
        with open(LOG, "a") as log:
            log.write(json.dumps({"event_id": envelope["event_id"], "event_type": envelope["event_type"],
                                  "signature_ok": verify(SECRET, self.headers.get(HEADER, ""), body, time.time()),
                                  "answered": answered, "at": time.time()}) + "\n")
        self.send_response(answered)
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
