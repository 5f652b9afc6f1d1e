"""An SMS provider's HTTP API in its own process, as the notifications tests expect one (POST JSON {"to", "text"}
with `Authorization: Bearer TOKEN`).

    python -m tests.probe.sms_provider PORT TOKEN LOG

Answers 200 when the bearer token is TOKEN, 401 otherwise, and appends one JSON line per request to LOG:
{"to", "text", "authorized"}.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, TOKEN, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Provider(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        authorized = self.headers.get("Authorization", "") == f"Bearer {TOKEN}"
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"to": body.get("to"), "text": body.get("text"), "authorized": authorized},
                                 ensure_ascii=False) + "\n")
        answer = json.dumps({"accepted": True} if authorized else {"error": "bad token"}).encode()
        self.send_response(200 if authorized else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Provider).serve_forever()
