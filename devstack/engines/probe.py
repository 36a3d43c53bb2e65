"""Cheap questions to a local server; each answers False rather than raising."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request


def http_ok(url: str, *, timeout: float = 5.0) -> bool:
    """GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return False


def http_json(url: str, *, timeout: float = 5.0) -> object | None:
    """The JSON body GET `url` answers with 200; None on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if int(response.status) != 200:
                return None
            body: object = json.loads(response.read())
            return body
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return None


def tcp_open(host: str, port: int, *, timeout: float = 1.0) -> bool:
    """Something accepts connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
