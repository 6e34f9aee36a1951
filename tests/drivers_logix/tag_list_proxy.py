"""A TCP proxy in front of the cpppo simulator that adds what cpppo lacks: the tag list upload.

Run as ``python tag_list_proxy.py CONFIG.json``; prints ``listening <port>`` when ready. Every
EtherNet/IP frame is passed to cpppo, except a connected Get Instance Attribute List request
(CIP service 0x55 on the Symbol class 0x6B), which it answers itself from ``CONFIG.json``:
``{"upstream": <cpppo port>, "tags": {"Name": ["DINT", [dims...]], "Program:Main.X": [...]}}``.
Atomic types only (no UDT templates). The file is read again on every frame, so a test can
"download a program": write a new tag list and point ``upstream`` at another cpppo with other
tags; the proxy then opens a session and a connection on the new upstream (replaying the
client's RegisterSession and Forward Open) and maps session handle and connection id both ways,
so the client keeps its connection and sees the new program, as after a download.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import sys
import threading
from pathlib import Path
from typing import Any

ATOMIC = {
    "BOOL": 0xC1,
    "SINT": 0xC2,
    "INT": 0xC3,
    "DINT": 0xC4,
    "LINT": 0xC5,
    "USINT": 0xC6,
    "UINT": 0xC7,
    "UDINT": 0xC8,
    "ULINT": 0xC9,
    "REAL": 0xCA,
    "LREAL": 0xCB,
}
CONFIG = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("proxy.json")


def config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONFIG.read_text())
    return data


def recv_frame(sock: socket.socket) -> bytes | None:
    header = b""
    while len(header) < 24:
        chunk = sock.recv(24 - len(header))
        if not chunk:
            return None
        header += chunk
    length = struct.unpack_from("<H", header, 2)[0]
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return header + body


def tag_list_reply(frame: bytes) -> bytes:
    """The reply to a connected Get Instance Attribute List request ``frame``."""
    path_words = frame[47]
    path = frame[48 : 48 + 2 * path_words]
    program = None
    if path[:1] == b"\x91":
        program = path[2 : 2 + path[1]].decode()
    tags: dict[str, list[Any]] = config()["tags"]
    entries = b""
    names: list[tuple[str, int, list[int]]] = []
    programs = sorted({n.split(".", 1)[0] for n in tags if n.startswith("Program:")})
    for name, (type_name, dims) in tags.items():
        if name.startswith("Program:"):
            scope, short = name.split(".", 1)
            if scope != program:
                continue
        elif program is not None:
            continue
        else:
            short = name
        symbol = ATOMIC[type_name] | (len(dims) << 13)
        names.append((short, symbol, dims))
    if program is None:
        names += [(p, 0x1068, []) for p in programs]
    for instance, (short, symbol, dims) in enumerate(names, start=1):
        raw = short.encode()
        d = [*dims, 0, 0, 0][:3]
        entries += struct.pack("<I", instance) + struct.pack("<H", len(raw)) + raw
        entries += struct.pack("<HIII", symbol, 0, 0, 1 << 26)
        entries += struct.pack("<III", *d) + b"\x01"  # external access: read/write
    cip = frame[44:46] + bytes([0x55 | 0x80, 0, 0, 0]) + entries
    cpf = frame[24:40] + b"\xb1\x00" + struct.pack("<H", len(cip)) + cip
    return frame[:2] + struct.pack("<H", len(cpf)) + frame[4:24] + cpf


class Upstream:
    """The connection to one cpppo, with the session and connection the client asked for."""

    def __init__(self, port: int, register: bytes | None, forward_open: bytes | None) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.session = b""
        self.o_t = b""
        if register is not None:
            reply = self.exchange(register)
            self.session = reply[4:8]
        if forward_open is not None:
            frame = forward_open[:4] + self.session + forward_open[8:]
            reply = self.exchange(frame)
            self.o_t = reply[44:48]  # O->T connection id chosen by the target

    def exchange(self, frame: bytes) -> bytes:
        self.sock.sendall(frame)
        reply = recv_frame(self.sock)
        if reply is None:
            raise ConnectionError("upstream closed")
        return reply

    def close(self) -> None:
        self.sock.close()


class Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        register: bytes | None = None
        forward_open: bytes | None = None
        first: Upstream | None = None
        current: Upstream | None = None
        try:
            while True:
                frame = recv_frame(client)
                if frame is None:
                    return
                wanted = int(config()["upstream"])
                if current is None:
                    current = first = Upstream(wanted, None, None)
                elif current.port != wanted:  # a "download": continue on the new program
                    current.close()
                    current = Upstream(wanted, register, forward_open)
                command = frame[:2]
                if command == b"\x70\x00" and frame[46] == 0x55:
                    client.sendall(tag_list_reply(frame))
                    continue
                out = frame
                if current is not first:  # map the client's session and connection
                    out = frame[:4] + current.session + frame[8:]
                    if command == b"\x70\x00":
                        out = out[:36] + current.o_t + out[40:]
                reply = current.exchange(out)
                if command == b"\x65\x00":
                    register = frame
                elif command == b"\x6f\x00" and frame[40] in (0x54, 0x5B):
                    forward_open = frame
                if current is not first:
                    reply = reply[:4] + frame[4:8] + reply[8:]
                client.sendall(reply)
        except (OSError, ConnectionError):
            return
        finally:
            for upstream in {first, current}:
                if upstream is not None:
                    upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    with Server(("127.0.0.1", 0), Handler) as server:
        print(f"listening {server.server_address[1]}", flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sys.stdin.read()  # ends when the test closes our stdin (or dies)
        server.shutdown()


if __name__ == "__main__":
    main()
