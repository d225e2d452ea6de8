"""Tidings: self-hosted, API-first email marketing and transactional email."""

__version__ = "0.1.0"
