"""One module per source kind's commands (``commops add KIND``, ``commops import KIND``). Each
module imports ``add_app`` / ``import_app`` from ``commops.cli.app`` and registers on them."""
