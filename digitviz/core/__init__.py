"""The learning core: network, training, data, saved networks and the landscape maths.

NumPy and the standard library only; nothing here imports Qt or :mod:`digitviz.gui`.
"""
