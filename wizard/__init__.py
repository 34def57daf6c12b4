"""mailwizard: set up Postfix and Dovecot on Debian, one proven step at a time."""

from pathlib import Path

__version__ = "0.1.0"

# assets/ sits beside wizard/ in the project; the project is installed editable into its own venv.
ASSETS = Path(__file__).resolve().parent.parent / "assets"
