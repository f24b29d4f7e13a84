"""Spec and templates in, rendered/ out: the Jinja2 sandbox, the pure plan, the atomic write."""
