"""``python -m hmi_app`` is the same as the ``hmi-app`` command."""

from hmi_app.cli import main

raise SystemExit(main())
