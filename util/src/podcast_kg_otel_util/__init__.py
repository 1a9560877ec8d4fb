"""Shared helpers of the podcast-kg-otel instrumentations and distro."""
