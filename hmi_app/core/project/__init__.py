"""The project: a folder with ``project.yaml`` and one YAML file per screen."""
