"""The web app (``commops serve``): pages, the REST API under ``/api/v1``, accounts."""

from commops.web.app import create_app

__all__ = ["create_app"]
