"""Discovery and JWKS: served by ``discovery.PublicDocuments`` before the app; these views
only name the routes (url_for) and answer when the middleware is not in front. The answers
given before the app are installed here: the documents, userinfo, the token endpoint and
the authorization's code for a signed-in browser."""

from __future__ import annotations

from flask import current_app, request

from idp.clock import now
from idp.oidc import discovery
from idp.oidc.signing import key_store
from idp.oidc.token_endpoint import TokenEndpoint
from idp.oidc.userinfo import UserinfoEndpoint
from idp.oidc.views.authorization import AuthorizationEndpoint
from idp.oidc.views.common import bp


@bp.record_once
def _answer_before_the_app(state) -> None:
    app = state.app
    headers = discovery.document_headers(app.config)
    app.wsgi_app = AuthorizationEndpoint(app, app.wsgi_app)
    app.wsgi_app = TokenEndpoint(app, app.wsgi_app, headers)
    app.wsgi_app = UserinfoEndpoint(app, app.wsgi_app, headers)
    app.wsgi_app = discovery.PublicDocuments(app, app.wsgi_app)


def _document(body_and_etag: tuple[bytes, str]):
    body, etag = body_and_etag
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag.strip('"'))
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['SERVER']['METADATA_MAX_AGE_SECONDS']}")
    return response.make_conditional(request)


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    """OpenID Connect Discovery 1.0, section 4: the provider's metadata."""
    return _document(discovery.PublicDocuments(current_app, None).discovery_document())


@bp.get("/jwks.json")
def jwks():
    """The public signing keys (RFC 7517), the next and retiring ones included."""
    return _document(key_store().jwks_document(now()))
