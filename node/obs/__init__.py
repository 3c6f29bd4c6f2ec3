"""Observability: metrics, the health endpoint, logging and systemd notification."""
