"""`camblur review`: a local web page to review a camera's day and correct what detectors missed.

Bound to 127.0.0.1 only, with the operator's own credentials; nothing is deployed. The page is
plain HTML/JS/CSS served from this package (no build step, nothing from elsewhere: the
Content-Security-Policy allows this origin only). Images are the blurred copies, read by this
server from the blurred bucket (store.py); the page never gets a bucket URL.

Requests are only answered for the Host the server was started on (a web page elsewhere cannot
reach it through DNS rebinding), and every change needs the token the page was served with (a
web page elsewhere cannot post to it either: a custom header needs CORS, which is not offered).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request
from werkzeug.serving import BaseWSGIServer, make_server

from camblur_cli import corrections
from camblur_cli.corrections import CorrectionError
from camblur_cli.deployment import Deployment
from camblur_cli.review.store import ReviewStore

HOST = "127.0.0.1"  # never anything else: the page shows pictures of people, however blurred
HERE = Path(__file__).resolve().parent
TOKEN_HEADER = "X-Review-Token"  # noqa: S105 - a header name, not a secret
LABELS = ("person", "plate")
CSP = (
    "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True)
class Corrections:
    """The corrections the page makes, as the `camblur` commands make them (corrections.py)."""

    add_manual_box: Callable[..., Any] = corrections.add_manual_box
    mark_reviewed: Callable[..., Any] = corrections.mark_reviewed
    mark_day_reviewed: Callable[..., Any] = corrections.mark_day_reviewed


def create_app(
    deployment: Deployment,
    actor: str,
    *,
    days: int = 14,
    allowed_hosts: frozenset[str] = frozenset(),
    actions: Corrections | None = None,
) -> Flask:
    app = Flask(
        __name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates")
    )
    store = ReviewStore(deployment)
    act = actions or Corrections()
    token = secrets.token_urlsafe(32)
    app.config.update(REVIEW_TOKEN=token, ALLOWED_HOSTS=allowed_hosts)

    @app.before_request
    def only_this_origin() -> None:
        hosts = app.config["ALLOWED_HOSTS"]
        if hosts and request.host not in hosts:
            abort(403, "unexpected Host")
        if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
            request.headers.get(TOKEN_HEADER, ""), token
        ):
            abort(403, "missing or wrong review token")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/")
    def page() -> str:
        return render_template("review.html", token=token, actor=actor, days=days)

    @app.get("/api/cameras")
    def cameras() -> Response:
        return jsonify(store.cameras(days))

    @app.get("/api/cameras/<camera>/days")
    def camera_days(camera: str) -> Response:
        return jsonify(store.days(camera))

    @app.get("/api/cameras/<camera>/days/<day>")
    def day_pictures(camera: str, day: str) -> Response:
        return jsonify(store.pictures(camera, day))

    @app.get("/api/pictures/<picture>")
    def picture(picture: str) -> Response:
        found = store.picture(picture)
        if found is None:
            abort(404)
        return jsonify(found)

    @app.get("/image/<picture>")
    def image(picture: str) -> Response:
        blurred = store.blurred(picture, thumbnail=request.args.get("size") == "thumb")
        if blurred is None:
            abort(404)
        response = Response(blurred.data, mimetype="image/jpeg")
        # Private to this browser; the URL carries the version (?v=), so a new copy is a new URL.
        response.headers["Cache-Control"] = "private, max-age=300"
        response.headers["ETag"] = blurred.version_id
        return response

    @app.post("/api/pictures/<picture>/boxes")
    def add_box(picture: str) -> Response:
        item = store.item(picture)
        if item is None:
            abort(404)
        body = request.get_json(silent=True) or {}
        try:
            place = [float(body[side]) for side in ("left", "top", "width", "height")]
        except (KeyError, TypeError, ValueError):
            abort(400, "a box needs left, top, width, height as numbers")
        label = str(body.get("label", "person"))
        if label not in LABELS:
            abort(400, f"label must be one of {', '.join(LABELS)}")
        act.add_manual_box(deployment, str(item["raw_key"]), *place, label, actor)
        return jsonify(store.picture(picture))

    @app.post("/api/pictures/<picture>/reviewed")
    def reviewed(picture: str) -> Response:
        item = store.item(picture)
        if item is None:
            abort(404)
        act.mark_reviewed(deployment, str(item["raw_key"]), actor)
        return jsonify(store.picture(picture))

    @app.post("/api/cameras/<camera>/days/<day>/reviewed")
    def day_reviewed(camera: str, day: str) -> Response:
        act.mark_day_reviewed(deployment, camera, day, actor)
        return jsonify(store.pictures(camera, day))

    @app.errorhandler(CorrectionError)
    def refused(error: CorrectionError) -> tuple[Response, int]:
        # A correction refused (a deleted picture, a box outside it): said, not a traceback.
        return jsonify(error=str(error)), 409

    return app


class ReviewServer:
    """The app served on 127.0.0.1 (port 0: any free port), in a thread or in the foreground."""

    def __init__(self, deployment: Deployment, actor: str, port: int = 0, days: int = 14) -> None:
        self._server: BaseWSGIServer = make_server(
            HOST, port, create_app(deployment, actor, days=days), threaded=True
        )
        self.port = self._server.server_port
        self.url = f"http://{HOST}:{self.port}/"
        app = self._server.app
        assert isinstance(app, Flask)
        app.config["ALLOWED_HOSTS"] = frozenset({f"{HOST}:{self.port}", f"localhost:{self.port}"})
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self._server.socket.getsockname()[:2]

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> ReviewServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
