"""Security headers on every response, the client's address behind trusted proxies, and public URLs built from
configuration (never from the request's Host header, which any client can set)."""
from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

# Only our own scripts and styles: no inline <script>, style="" or onclick (they live in static/). Bootstrap's CSS
# draws its icons (select arrows, the menu button) as data: images.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("RETAIL_TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind a reverse proxy the client's address is in X-Forwarded-For; trust only as many hops as we run.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def public_url(endpoint: str, **values) -> str:
    """An address for links that leave the page (API links, OpenAPI `servers`): RETAIL_PUBLIC_URL + the path.

    Without RETAIL_PUBLIC_URL the link is relative to the site (`/api/v1/...`), which clients resolve against the
    address they used; a forged Host header never appears in our answers."""
    path = url_for(endpoint, **values)
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root):
        path = path[len(root):]
    base = (current_app.config.get("RETAIL_PUBLIC_URL") or "").rstrip("/")
    return base + path if base else root + path
