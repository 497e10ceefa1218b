"""The indicator framework: model, TOML loader and validation, table import, built-ins."""

from indicators.framework import Framework, Node, load_framework, parse_framework, resolve_framework

__all__ = ["Framework", "Node", "load_framework", "parse_framework", "resolve_framework"]
