#!/usr/bin/env python3
# tests/lib/smtp_sink.py — a real SMTP server on loopback for the HTTP tests
# (Debian's python3-aiosmtpd), so that Shoal's libcurl delivery is checked end
# to end rather than against a mock.
#
# It binds 127.0.0.1 on a port the kernel picks (no race with other tests),
# prints "PORT <n>" on the first line, then one JSON line per message received:
#   {"mail_from": "...", "rcpt_tos": ["..."], "data": "<the message as sent>"}
# It runs until killed.
import asyncio
import json
import socket
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": content,
        }), flush=True)
        return "250 OK"


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.test"), sock=sock)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
