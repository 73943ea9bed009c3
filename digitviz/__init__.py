"""digitviz: watch a neural network learn to read handwritten digits, and poke at it while it does.

Importing the package imports no Qt: the learning core lives in :mod:`digitviz.core`.
"""

__version__ = "0.1.0"
