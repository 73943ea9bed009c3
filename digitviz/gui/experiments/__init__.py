"""The experiments panel's tabs (see :mod:`digitviz.gui.experiments_panel`), one module per tab.

- :mod:`.gradient_tab`: what one step's negative gradient asked for.
- :mod:`.labels_tab`: true against shuffled labels, with kept and overlaid runs.
- :mod:`.minima_tab`: the same network from several seeds, and the line between two of them.
- :mod:`.mistakes_tab`: confusion matrix, per-digit accuracy and a gallery of mistakes.
- :mod:`.jobs`: the background thread the tabs' heavy work runs on (QtCore only).
"""
