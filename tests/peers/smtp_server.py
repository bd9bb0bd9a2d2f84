"""An SMTP server for tests (aiosmtpd): plain, STARTTLS with AUTH, or TLS
from the first byte. Every message it accepts is written to DIR as one JSON
file (NNNNNN.json: envelope, headers, decoded text body), renamed into place
once complete. Prints "ready PORT" when it listens; runs until killed.

Run with the system Python: /usr/bin/python3 smtp_server.py --port P --dir D
    [--mode plain|starttls|tls] [--cert C --key K] [--user U --password PW]
"""

import argparse
import email
import email.policy
import itertools
import json
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    """Writes each accepted message to the directory."""

    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "body": body.get_content() if body is not None else "",
            "authenticated_as": _login(session),
            # session.ssl is set by STARTTLS only; implicit TLS shows on the transport.
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
        }
        with self.lock:
            n = next(self.counter)
        tmp = os.path.join(self.directory, f".{n:06d}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.directory, f"{n:06d}.json"))
        return "250 2.0.0 Ok queued as hark-test-%06d" % n


def _login(session):
    data = getattr(session, "auth_data", None)
    if isinstance(data, LoginPassword):
        return data.login.decode("utf-8", "replace")
    return None


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    kwargs = {}
    if a.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.mode == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            kwargs.update(ssl_context=ctx)
    if a.user is not None:
        kwargs.update(
            authenticator=authenticator(a.user, a.password or ""),
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS; implicit TLS is TLS throughout.
            auth_require_tls=a.mode == "starttls",
        )
    controller = Controller(
        Store(a.dir), hostname="127.0.0.1", port=a.port, server_hostname="hark-test-smtp", **kwargs
    )
    controller.start()
    print(f"ready {a.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
