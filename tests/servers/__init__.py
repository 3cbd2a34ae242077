"""Real servers on 127.0.0.1 for the tests: each starts on a free port and stops on close()."""

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
