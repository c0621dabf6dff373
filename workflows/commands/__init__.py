"""Sub-command modules of the `deltastore` CLI; each exposes ``register(subparsers)``."""
