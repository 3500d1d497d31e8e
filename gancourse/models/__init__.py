"""Networks of the book, one module per architecture family."""

from gancourse.models.mlp import TinyRegressor

__all__ = ["TinyRegressor"]
