"""UI views, one module per area. ``not_found`` is the site's 404 handler (tidings.urls)."""

from tidings.web.views.errors import not_found

__all__ = ["not_found"]
