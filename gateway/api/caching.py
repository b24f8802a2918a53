"""Shared caching of what the public reads (issue 20): the public pages and the public JSON API
(``/api/v1/public/...``) answer an anonymous visitor with ``Cache-Control: public, max-age``, an
ETag that is a hash of the body, and 304 to ``If-None-Match``, so that a reverse proxy
(docs/deploy.md, nginx ``proxy_cache``) or the browser serves repeats.

A request that is someone's (a token, a staff or enterprise session) is never stored by a shared
cache: ``gateway.security.web`` marks its answer ``no-store``."""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from gateway.security.web import is_personal_request

# How long a shared cache may serve a public answer without asking again; after that it
# revalidates with If-None-Match and gets 304 when nothing changed.
PUBLIC_MAX_AGE = 60


def public_cacheable(response: Response) -> Response:
    """An anonymous visitor's successful answer is public for ``PUBLIC_MAX_AGE`` seconds, with an
    ETag that is a hash of its bytes (so it changes whenever anything shown changes: a result
    published, a date passed), and answers ``If-None-Match`` with 304."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough \
            or is_personal_request() or "Set-Cookie" in response.headers or g.get("new_csrf_cookie"):
        return response
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    response.vary.update(("Cookie", "Authorization"))
    if response.get_etag() == (None, None):
        response.add_etag()
    return response.make_conditional(request)


def cache_publicly(blueprint: Blueprint) -> Blueprint:
    """Every answer of ``blueprint`` goes through :func:`public_cacheable`."""
    blueprint.after_request(public_cacheable)
    return blueprint
