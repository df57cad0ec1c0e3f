"""The operator's dashboard (``occ serve``): FastAPI, server-rendered pages, a JSON API."""

from occ.web.app import create_app

__all__ = ["create_app"]
