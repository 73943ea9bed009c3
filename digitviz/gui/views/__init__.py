"""Views: "dumb" widgets that turn numpy arrays into pixels. They never know about threads or workers.

Import the view you need from its module, e.g. ``from digitviz.gui.views.network_view import NetworkView``.
"""
