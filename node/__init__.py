"""The node process: store, command pipeline, sessions, outbox, control API and radios."""

VERSION = "0.2.0"
