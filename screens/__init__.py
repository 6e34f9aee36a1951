"""Screens: the screen file model, its validation against the widget registry, and the renderer
that turns a screen into live widgets bound to a ``TagSource``."""
