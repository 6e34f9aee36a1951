"""Simulated plants served by real protocol servers inside the app, so demos and tests run through
the real driver path. ``hmi_app.plant.registry`` creates them by name."""
