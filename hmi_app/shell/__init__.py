"""The operator application: main window, header, navigation; the composition root that wires the
runtime's tag bus to the rendered screens."""
