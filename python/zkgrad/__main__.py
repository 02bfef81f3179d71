"""``python -m zkgrad`` runs the command line."""

from zkgrad.cli import app

app(prog_name="zkgrad")
