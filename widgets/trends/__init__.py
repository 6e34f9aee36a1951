"""Trends: live ring buffers, decimation for drawing, and the pyqtgraph trend view.

A package, not a widget module: ``widgets.registry`` imports every module of ``widgets`` looking
for ``HmiWidget`` subclasses, so nothing but this docstring lives here.
"""
