"""The screen designer: supervisors build and change screens inside the running app."""
