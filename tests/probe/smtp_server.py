"""An SMTP server in its own process, as a mail relay would run one (the notifications tests start it, and stop it
to play an outage).

    python -m tests.probe.smtp_server PORT LOG

Listens on 127.0.0.1:PORT and appends one JSON line per message accepted to LOG: {"from", "to", "subject", "body"},
the subject and the text body decoded from the MIME message, so a test reads what a person would read.
"""
import json
import signal
import sys
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

PORT, LOG = int(sys.argv[1]), sys.argv[2]


class Recorder:
    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                  "subject": str(message["Subject"] or ""),
                                  "body": text.get_content().replace("\r\n", "\n") if text is not None else ""},
                                 ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


def main():
    controller = Controller(Recorder(), hostname="127.0.0.1", port=PORT, enable_SMTPUTF8=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly: the port is free again at once
    controller.start()
    try:
        while True:
            signal.pause()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
