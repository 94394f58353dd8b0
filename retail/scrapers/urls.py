"""URL normalisation and the per-origin host key used for politeness and robots.txt."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """Canonical form used for de-duplication and loop detection: drop fragment, keep query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    try:
        port = parts.port
    except ValueError:  # leave a bad port in place so the fetch refuses it rather than silently using :80
        return urlunsplit((scheme, parts.netloc, path, parts.query, ""))
    netloc = host
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def host_key(url: str) -> str:
    """Politeness and robots.txt key: scheme://host:port, with the default port filled in.

    Scheme and port are part of the key because robots.txt is per origin (RFC 9309); it also lets tests
    treat two local servers on different ports as two hosts.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{host}:{port}"
