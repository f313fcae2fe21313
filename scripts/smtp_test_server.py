#!/usr/bin/python3
"""A real SMTP server for tests (Debian's python3-aiosmtpd).

    /usr/bin/python3 scripts/smtp_test_server.py --maildir DIR [--port 0] [--user U --password P]

Listens on 127.0.0.1:PORT (0 = a free port) and, once listening, writes the actual port to
DIR/smtp.port (atomically). Every message received is stored, in arrival order n = 1, 2, ..., as
  DIR/<n>.json  {"mail_from": ..., "rcpt_tos": [...], "auth_login": ... or null}
  DIR/<n>.eml   the message exactly as received (after SMTP dot-unstuffing)
each written atomically (temp file + rename), the .json before the .eml: a test that sees
<n>.eml can read both. With --user/--password, AUTH PLAIN and LOGIN are offered on the plain
connection (tests run on loopback, no TLS) and required before MAIL FROM. Exits 0 on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import warnings
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomically(path, data):
    temp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


class Store:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        n = self.count
        login = None
        auth = getattr(session, "auth_data", None)
        if isinstance(auth, LoginPassword):
            login = auth.login.decode("utf-8", "replace")
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "auth_login": login}
        write_atomically(os.path.join(self.maildir, f"{n}.json"), json.dumps(meta).encode())
        write_atomically(os.path.join(self.maildir, f"{n}.eml"), envelope.original_content)
        return "250 2.0.0 Message accepted for delivery"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode() and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def serve(args):
    os.makedirs(args.maildir, exist_ok=True)
    store = Store(args.maildir)
    options = {"hostname": "localhost", "ident": "paddlecloud-test-smtp"}
    if args.user is not None:
        options.update(authenticator=make_authenticator(args.user, args.password or ""),
                       auth_required=True, auth_require_tls=False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(store, loop=loop, **options), host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    write_atomically(os.path.join(args.maildir, "smtp.port"), f"{port}\n".encode())

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maildir", required=True, help="where smtp.port and received messages go")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--user", help="require AUTH with this login")
    parser.add_argument("--password", help="the password for --user")
    args = parser.parse_args()
    if args.password is not None and args.user is None:
        parser.error("--password needs --user")
    # aiosmtpd warns (loudly) that auth without TLS is unsafe: intended here, on loopback.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
