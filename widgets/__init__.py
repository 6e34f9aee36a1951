"""The HMI widget library: one widget per module, each declaring its type key (``TYPE_KEY``), its
static properties (a pydantic ``Props`` model) and the properties a screen may bind to tags
(``BINDABLE``). Widgets import only ``hmi_app.core`` and Qt: they never see drivers or the runtime.
"""
